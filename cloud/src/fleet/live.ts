import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Queryable } from '../store/db.js';
import { recentAlertChanges } from './alerts.js';

/** Rows changed this recently are looked at on every poll (covers commit lag and a slow tick). */
const LOOK_BACK_S = 20;
const HEARTBEAT_MS = 15_000;

type LiveEventKind = 'alert' | 'dispense' | 'kiosk' | 'rollout';

interface LiveItem {
  kind: LiveEventKind;
  /** Identity of this version of the row: sent once per instance. */
  key: string;
  data: unknown;
}

async function dispenses(db: Queryable): Promise<LiveItem[]> {
  const rows = await db.query<{
    event_id: string;
    kiosk_id: string | null;
    dispenser_id: string | null;
    account_id: string | null;
    amount_ml: number;
    occurred_at: number;
  }>(
    `SELECT event_id, kiosk_id, dispenser_id, account_id, amount_ml, occurred_at FROM ledger_events
      WHERE type = 'dispense' AND received_at > now() - make_interval(secs => $1) ORDER BY received_at, occurred_at`,
    [LOOK_BACK_S],
  );
  return rows.map((row) => ({
    kind: 'dispense',
    key: row.event_id,
    data: { ...row, volume_ml: -row.amount_ml, occurred_at: new Date(Number(row.occurred_at)).toISOString() },
  }));
}

async function statuses(db: Queryable): Promise<LiveItem[]> {
  const rows = await db.query<{ kiosk_id: string; received_at: Date }>(
    `SELECT kiosk_id, received_at FROM kiosk_status WHERE received_at > now() - make_interval(secs => $1)`,
    [LOOK_BACK_S],
  );
  return rows.map((row) => ({
    kind: 'kiosk',
    key: `${row.kiosk_id}@${new Date(row.received_at).getTime()}`,
    data: { kiosk_id: row.kiosk_id },
  }));
}

async function rollouts(db: Queryable): Promise<LiveItem[]> {
  const rows = await db.query<{ rollout_id: string; kiosk_id: string; state: string; updated_at: Date }>(
    `SELECT rollout_id, kiosk_id, state, updated_at FROM fleet_rollout_kiosks
      WHERE updated_at > now() - make_interval(secs => $1)`,
    [LOOK_BACK_S],
  );
  return rows.map((row) => ({
    kind: 'rollout',
    key: `${row.rollout_id}/${row.kiosk_id}@${new Date(row.updated_at).getTime()}`,
    data: { rollout_id: row.rollout_id, kiosk_id: row.kiosk_id, state: row.state },
  }));
}

async function alerts(db: Queryable): Promise<LiveItem[]> {
  return (await recentAlertChanges(db, LOOK_BACK_S)).map((alert) => ({
    kind: 'alert',
    key: `${alert.alert_id}@${alert.updated_at}`,
    data: alert,
  }));
}

/**
 * The console's live feed (server-sent events): alerts raised, cleared and acknowledged, the
 * fleet's dispenses, kiosk status reports and rollout progress. While anyone listens, the
 * database is polled every second for rows changed in the last seconds, so every instance
 * behind a load balancer sees every change whichever instance wrote it; `wake()` polls at once
 * after this instance wrote one.
 */
export class LiveFeed {
  readonly #clients = new Set<ServerResponse>();
  /** Keys sent, with when: forgotten after the look-back. */
  readonly #sent = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly db: Queryable,
    private readonly log: FastifyBaseLogger,
    private readonly pollMs = 1000,
  ) {}

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
      this.wake();
      this.#timer = setInterval(() => this.wake(), this.pollMs);
      this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), HEARTBEAT_MS);
    }
  }

  wake(): void {
    if (this.#clients.size === 0) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    void this.#poll();
  }

  #poll(): Promise<void> {
    this.#polling = (async () => {
      try {
        const items = (
          await Promise.all([alerts(this.db), dispenses(this.db), statuses(this.db), rollouts(this.db)])
        ).flat();
        const now = Date.now();
        for (const item of items) {
          const key = `${item.kind}:${item.key}`;
          if (this.#sent.has(key)) continue;
          this.#sent.set(key, now);
          this.#write(`event: ${item.kind}\ndata: ${JSON.stringify(item.data)}\n\n`);
        }
        for (const [key, at] of this.#sent) if (now - at > 3 * LOOK_BACK_S * 1000) this.#sent.delete(key);
      } catch (error) {
        this.log.warn({ err: error }, 'live feed poll failed');
      } finally {
        this.#polling = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      }
    })();
    return this.#polling;
  }

  #write(chunk: string): void {
    for (const client of this.#clients) client.write(chunk);
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#timer = null;
    this.#heartbeat = null;
  }

  close(): void {
    this.#stop();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
