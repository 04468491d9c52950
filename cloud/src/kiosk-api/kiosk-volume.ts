import type { Queryable } from '../store/db.js';

export interface KioskVolumeFlag {
  kiosk_id: string;
  /** The usage day (YYYY-MM-DD in the fleet's time zone). */
  day: string;
  volume_ml: number;
}

/**
 * Counts a kiosk's new dispenses toward its volume of today (the fleet's usage day) and flags the
 * kiosk when that passes the threshold: a gateway that claims more water than its pumps can
 * plausibly deliver is either broken or forging. One flag per kiosk and day, its volume kept
 * current. CTEs for the push's statement (ingest-events.ts), after `APPEND_EVENTS_CTES`: they
 * read its `inserted` (the batch's new events) and `today` (the usage day); `$11` is the kiosk, `$12`
 * the threshold in mL. The day's count is one row (`kiosk_daily_volume`, migration 19), bumped by
 * the batch; a kiosk's first push of a day starts it from the ledger plus the batch (the
 * statement does not see its own inserts), so a count begun mid-day is right too. `flagged` holds
 * the day's flag when this batch took the kiosk over, with `raised` when it raised it.
 */
export const KIOSK_VOLUME_CTES = `drawn AS (
       SELECT coalesce(-sum(i.amount_ml) FILTER (WHERE i.occurred_at >= today.start_ms AND i.occurred_at < today.end_ms), 0)::bigint AS ml,
              count(*) AS dispenses
       FROM inserted i, today WHERE i.type = 'dispense'
     ), bumped AS (
       UPDATE kiosk_daily_volume v SET volume_ml = v.volume_ml + drawn.ml FROM today, drawn
       WHERE v.kiosk_id = $11 AND v.day = today.day AND drawn.dispenses > 0
       RETURNING v.day, v.volume_ml
     ), started AS (
       INSERT INTO kiosk_daily_volume (kiosk_id, day, volume_ml)
       SELECT $11, today.day, drawn.ml + (
         SELECT coalesce(-sum(e.amount_ml), 0)::bigint FROM ledger_events e
         WHERE e.kiosk_id = $11 AND e.type = 'dispense' AND e.occurred_at >= today.start_ms AND e.occurred_at < today.end_ms
       ) FROM today, drawn WHERE drawn.dispenses > 0 AND NOT EXISTS (SELECT 1 FROM bumped)
       -- Another push of this kiosk started the day meanwhile: its count lacks this batch.
       ON CONFLICT (kiosk_id, day) DO UPDATE SET volume_ml = kiosk_daily_volume.volume_ml + (SELECT ml FROM drawn)
       RETURNING day, volume_ml
     ), counted AS (
       SELECT day, volume_ml FROM bumped UNION ALL SELECT day, volume_ml FROM started
     ), flagged AS (
       INSERT INTO kiosk_volume_flags (kiosk_id, day, volume_ml)
       SELECT $11, day, volume_ml FROM counted WHERE volume_ml > $12
       ON CONFLICT (kiosk_id, day) DO UPDATE SET volume_ml = EXCLUDED.volume_ml, updated_at = now()
       RETURNING day, volume_ml, (xmax = 0) AS raised
     )`;

/** The most recent flags, newest day first (operators' review list). */
export async function kioskVolumeFlags(db: Queryable, limit = 1000): Promise<KioskVolumeFlag[]> {
  const rows = await db.query<{ kiosk_id: string; day: string; volume_ml: number | string }>(
    'SELECT kiosk_id, day, volume_ml FROM kiosk_volume_flags ORDER BY day DESC, kiosk_id LIMIT $1',
    [limit],
  );
  return rows.map((row) => ({ ...row, volume_ml: Number(row.volume_ml) }));
}
