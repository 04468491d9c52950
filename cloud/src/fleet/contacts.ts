import type { Queryable } from '../store/db.js';

/** Writes at most one contact per kiosk this often per instance… */
const CONTACT_WRITE_INTERVAL_MS = 5_000;
/** …and at most a quarter of the offline setting, so a kiosk in contact never looks offline. */
const WRITES_PER_OFFLINE_WINDOW = 4;

/**
 * Last contact of each kiosk (any authenticated pull, push or status), and one row per hour with
 * contact in `kiosk_contact_hours` (uptime). Throttled in memory so a busy kiosk costs one write
 * per few seconds, not one per request.
 */
export class KioskContacts {
  readonly #written = new Map<string, number>();
  readonly #writeIntervalMs: number;

  constructor(
    private readonly db: Queryable,
    offlineAfterMs: number,
  ) {
    this.#writeIntervalMs = Math.min(CONTACT_WRITE_INTERVAL_MS, offlineAfterMs / WRITES_PER_OFFLINE_WINDOW);
  }

  async record(kioskId: string, now = Date.now()): Promise<void> {
    if (now - (this.#written.get(kioskId) ?? Number.NEGATIVE_INFINITY) < this.#writeIntervalMs) return;
    this.#written.set(kioskId, now);
    await this.db.query(
      `WITH kiosk AS (UPDATE kiosks SET last_contact_at = now() WHERE kiosk_id = $1 RETURNING kiosk_id)
       INSERT INTO kiosk_contact_hours (kiosk_id, hour)
       SELECT kiosk_id, date_trunc('hour', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' FROM kiosk
       ON CONFLICT DO NOTHING`,
      [kioskId],
    );
  }
}
