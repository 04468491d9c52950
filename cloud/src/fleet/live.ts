import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Db, Queryable } from '../store/db.js';
import { LIVE_CHANGED_CHANNEL } from '../store/migrations.js';
import { recentAlertChanges } from './alerts.js';

/**
 * Each read goes back this far before the previous one began (rows are stamped when their
 * transaction began and may commit later), and the first one this far before now.
 */
const LOOK_BACK_S = 20;
const HEARTBEAT_MS = 15_000;
/** Wake-ups closer together than this share one read. */
const MIN_GAP_MS = 250;

type LiveEventKind = 'alert' | 'dispense' | 'kiosk' | 'rollout';

interface LiveItem {
  kind: LiveEventKind;
  /** Identity of this version of the row: sent once per instance. */
  key: string;
  data: unknown;
}

async function dispenses(db: Queryable, since: Date): Promise<LiveItem[]> {
  const rows = await db.query<{
    event_id: string;
    kiosk_id: string | null;
    dispenser_id: string | null;
    account_id: string | null;
    amount_ml: number;
    occurred_at: number;
  }>(
    `SELECT event_id, kiosk_id, dispenser_id, account_id, amount_ml, occurred_at FROM ledger_events
      WHERE type = 'dispense' AND received_at > $1 ORDER BY received_at, occurred_at`,
    [since],
  );
  return rows.map((row) => ({
    kind: 'dispense',
    key: row.event_id,
    data: { ...row, volume_ml: -row.amount_ml, occurred_at: new Date(Number(row.occurred_at)).toISOString() },
  }));
}

async function statuses(db: Queryable, since: Date): Promise<LiveItem[]> {
  const rows = await db.query<{ kiosk_id: string; received_at: Date }>(
    'SELECT kiosk_id, received_at FROM kiosk_status WHERE received_at > $1',
    [since],
  );
  return rows.map((row) => ({
    kind: 'kiosk',
    key: `${row.kiosk_id}@${new Date(row.received_at).getTime()}`,
    data: { kiosk_id: row.kiosk_id },
  }));
}

async function rollouts(db: Queryable, since: Date): Promise<LiveItem[]> {
  const rows = await db.query<{ rollout_id: string; kiosk_id: string; state: string; updated_at: Date }>(
    'SELECT rollout_id, kiosk_id, state, updated_at FROM fleet_rollout_kiosks WHERE updated_at > $1',
    [since],
  );
  return rows.map((row) => ({
    kind: 'rollout',
    key: `${row.rollout_id}/${row.kiosk_id}@${new Date(row.updated_at).getTime()}`,
    data: { rollout_id: row.rollout_id, kiosk_id: row.kiosk_id, state: row.state },
  }));
}

async function alerts(db: Queryable, since: Date): Promise<LiveItem[]> {
  return (await recentAlertChanges(db, since)).map((alert) => ({
    kind: 'alert',
    key: `${alert.alert_id}@${alert.updated_at}`,
    data: alert,
  }));
}

/**
 * The console's live feed (server-sent events): alerts raised, cleared and acknowledged, the
 * fleet's dispenses, kiosk status reports and rollout progress. Triggers on those tables NOTIFY
 * every instance after each statement that writes them, whoever wrote (migration 21); while anyone
 * listens, each instance then reads what changed since its last read, wake-ups arriving meanwhile
 * sharing the next read. A slow safety poll (`safetyPollMs`) covers a lost notification.
 */
export class LiveFeed {
  readonly #clients = new Set<ServerResponse>();
  /** Keys sent, with when: forgotten once no read can return them again. */
  readonly #sent = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #soon: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #again = false;
  #lastPollAt = 0;
  /** Where the next read starts (the database's clock); null until the first read. */
  #floor: Date | null = null;
  #unlisten: (() => Promise<void>) | undefined;

  private constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
    private readonly safetyPollMs: number,
  ) {}

  static async open(db: Db, log: FastifyBaseLogger, safetyPollMs = 30_000): Promise<LiveFeed> {
    const feed = new LiveFeed(db, log, safetyPollMs);
    feed.#unlisten = await db.listen(LIVE_CHANGED_CHANNEL, () => feed.#wake());
    return feed;
  }

  get listeners(): number {
    return this.#clients.size;
  }

  /** Takes over the reply as an event stream until the client goes away. */
  attach(reply: FastifyReply): void {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': connected\n\n');
    this.#clients.add(raw);
    raw.on('close', () => {
      this.#clients.delete(raw);
      if (this.#clients.size === 0) this.#stop();
    });
    if (!this.#timer) {
      // The first listener also gets the last seconds' changes: nothing written while it connected is lost.
      this.#wake();
      this.#timer = setInterval(() => this.#wake(), this.safetyPollMs);
      this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), HEARTBEAT_MS);
    }
  }

  #wake(): void {
    if (this.#clients.size === 0 || this.#soon) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    const wait = this.#lastPollAt + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      this.#soon = setTimeout(() => {
        this.#soon = null;
        this.#wake();
      }, wait);
      return;
    }
    void this.#poll();
  }

  #poll(): Promise<void> {
    this.#lastPollAt = Date.now();
    this.#polling = (async () => {
      try {
        const [mark] = await this.db.query<{ floor: Date }>('SELECT now() - make_interval(secs => $1) AS floor', [
          LOOK_BACK_S,
        ]);
        const since = this.#floor ?? mark!.floor;
        const items = (
          await Promise.all([
            alerts(this.db, since),
            dispenses(this.db, since),
            statuses(this.db, since),
            rollouts(this.db, since),
          ])
        ).flat();
        if (this.#clients.size > 0) this.#floor = mark!.floor;
        const now = Date.now();
        for (const item of items) {
          const key = `${item.kind}:${item.key}`;
          if (this.#sent.has(key)) continue;
          this.#sent.set(key, now);
          this.#write(`event: ${item.kind}\ndata: ${JSON.stringify(item.data)}\n\n`);
        }
        const keepMs = this.safetyPollMs + 3 * LOOK_BACK_S * 1000;
        for (const [key, at] of this.#sent) if (now - at > keepMs) this.#sent.delete(key);
      } catch (error) {
        this.log.warn({ err: error }, 'live feed read failed');
      } finally {
        this.#polling = null;
        if (this.#again) {
          this.#again = false;
          this.#wake();
        }
      }
    })();
    return this.#polling;
  }

  #write(chunk: string): void {
    for (const client of this.#clients) client.write(chunk);
  }

  /** Nobody listens: no reads; the next listener starts from the last seconds again. */
  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#soon) clearTimeout(this.#soon);
    this.#timer = null;
    this.#heartbeat = null;
    this.#soon = null;
    this.#floor = null;
  }

  async close(): Promise<void> {
    this.#stop();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    await this.#unlisten?.();
  }
}
