import type { Queryable } from '../store/db.js';

/** Writes at most one contact per kiosk this often per instance… */
const CONTACT_WRITE_INTERVAL_MS = 5_000;
/** …and at most a quarter of the offline setting, so a kiosk in contact never looks offline. */
const WRITES_PER_OFFLINE_WINDOW = 4;

/**
 * Last contact of each kiosk (any authenticated pull, push or status), and one row per hour with
 * contact in `kiosk_contact_hours` (uptime). Throttled in memory so a busy kiosk costs one write
 * per few seconds, not one per request; and the kiosks' writes are coalesced: one statement (one
 * commit, one pooled connection) writes every kiosk that made contact while the last one ran. At
 * 600 kiosks a write per kiosk was 120 commits a second competing with the pushes for the pool.
 */
export class KioskContacts {
  readonly #written = new Map<string, number>();
  readonly #writeIntervalMs: number;
  /** Kiosks the next write takes, and the promise it settles. */
  #queued = new Set<string>();
  #next: Promise<void> | undefined;
  /** The write running now and the kiosks it writes. */
  #running: { kiosks: Set<string>; done: Promise<void> } | undefined;

  constructor(
    private readonly db: Queryable,
    offlineAfterMs: number,
  ) {
    this.#writeIntervalMs = Math.min(CONTACT_WRITE_INTERVAL_MS, offlineAfterMs / WRITES_PER_OFFLINE_WINDOW);
  }

  /** Resolves once the kiosk's contact is stored (at once when it was stored within the interval). */
  record(kioskId: string, now = Date.now()): Promise<void> {
    if (now - (this.#written.get(kioskId) ?? Number.NEGATIVE_INFINITY) < this.#writeIntervalMs)
      return this.#pendingFor(kioskId) ?? Promise.resolve();
    this.#written.set(kioskId, now);
    this.#queued.add(kioskId);
    this.#next ??= this.#afterRunning();
    return this.#next;
  }

  /** Resolves once every contact recorded so far is written (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([this.#running?.done, this.#next]);
  }

  /** The write that will store, or is storing, this kiosk's last contact. */
  #pendingFor(kioskId: string): Promise<void> | undefined {
    if (this.#queued.has(kioskId)) return this.#next;
    return this.#running?.kiosks.has(kioskId) ? this.#running.done : undefined;
  }

  async #afterRunning(): Promise<void> {
    await this.#running?.done.catch(() => undefined);
    const kiosks = this.#queued;
    this.#queued = new Set();
    this.#next = undefined;
    const done = this.#write([...kiosks].sort());
    this.#running = { kiosks, done };
    try {
      await done;
    } finally {
      if (this.#running?.done === done) this.#running = undefined;
    }
  }

  async #write(kioskIds: string[]): Promise<void> {
    await this.db.query(
      `WITH kiosk AS (UPDATE kiosks SET last_contact_at = now() WHERE kiosk_id = ANY($1::text[]) RETURNING kiosk_id)
       INSERT INTO kiosk_contact_hours (kiosk_id, hour)
       SELECT kiosk_id, date_trunc('hour', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' FROM kiosk
       ON CONFLICT DO NOTHING`,
      [kioskIds],
    );
  }
}
