import type { Queryable } from '../store/db.js';
import { usageDaySql } from '../store/usage-day.js';

export interface KioskVolumeFlag {
  kiosk_id: string;
  /** The usage day (YYYY-MM-DD in the fleet's time zone). */
  day: string;
  volume_ml: number;
}

/**
 * Counts a kiosk's new dispenses toward its volume of today (the fleet's usage day) and flags the
 * kiosk when that passes `thresholdMl`: a gateway that claims more water than its pumps can
 * plausibly deliver is either broken or forging. One flag per kiosk and day, its volume kept
 * current. Call in the push's transaction, after its events are in the ledger: the day's count is
 * one row (`kiosk_daily_volume`, migration 19), bumped by the batch; a kiosk's first push of a day
 * starts it from the ledger (which holds the batch), so a count begun mid-day is right too.
 * Returns the flag when this call raised it.
 */
export async function countKioskDailyVolume(
  tx: Queryable,
  kioskId: string,
  dispenses: readonly { amount_ml: number; occurred_at: number }[],
  usageTimeZone: string,
  thresholdMl: number,
): Promise<KioskVolumeFlag | undefined> {
  if (dispenses.length === 0) return undefined;
  const rows = await tx.query<{ day: string; volume_ml: number | string; raised: boolean }>(
    `WITH today AS (${usageDaySql('$2')}), drawn AS (
       SELECT coalesce(-sum(t.amount_ml), 0)::bigint AS ml FROM unnest($3::bigint[], $4::bigint[]) AS t(amount_ml, occurred_at), today
       WHERE t.occurred_at >= today.start_ms AND t.occurred_at < today.end_ms
     ), bumped AS (
       UPDATE kiosk_daily_volume v SET volume_ml = v.volume_ml + drawn.ml FROM today, drawn
       WHERE v.kiosk_id = $1 AND v.day = today.day
       RETURNING v.day, v.volume_ml
     ), started AS (
       INSERT INTO kiosk_daily_volume (kiosk_id, day, volume_ml)
       SELECT $1, today.day, (
         SELECT coalesce(-sum(e.amount_ml), 0)::bigint FROM ledger_events e
         WHERE e.kiosk_id = $1 AND e.type = 'dispense' AND e.occurred_at >= today.start_ms AND e.occurred_at < today.end_ms
       ) FROM today WHERE NOT EXISTS (SELECT 1 FROM bumped)
       -- Another push of this kiosk started the day meanwhile: its count lacks this batch.
       ON CONFLICT (kiosk_id, day) DO UPDATE SET volume_ml = kiosk_daily_volume.volume_ml + (SELECT ml FROM drawn)
       RETURNING day, volume_ml
     ), counted AS (
       SELECT day, volume_ml FROM bumped UNION ALL SELECT day, volume_ml FROM started
     )
     INSERT INTO kiosk_volume_flags (kiosk_id, day, volume_ml)
     SELECT $1, day, volume_ml FROM counted WHERE volume_ml > $5
     ON CONFLICT (kiosk_id, day) DO UPDATE SET volume_ml = EXCLUDED.volume_ml, updated_at = now()
     RETURNING day, volume_ml, (xmax = 0) AS raised`,
    [
      kioskId,
      usageTimeZone,
      dispenses.map((event) => event.amount_ml),
      dispenses.map((event) => event.occurred_at),
      thresholdMl,
    ],
  );
  const row = rows[0];
  return row?.raised ? { kiosk_id: kioskId, day: row.day, volume_ml: Number(row.volume_ml) } : undefined;
}

/** The most recent flags, newest day first (operators' review list). */
export async function kioskVolumeFlags(db: Queryable, limit = 1000): Promise<KioskVolumeFlag[]> {
  const rows = await db.query<{ kiosk_id: string; day: string; volume_ml: number | string }>(
    'SELECT kiosk_id, day, volume_ml FROM kiosk_volume_flags ORDER BY day DESC, kiosk_id LIMIT $1',
    [limit],
  );
  return rows.map((row) => ({ ...row, volume_ml: Number(row.volume_ml) }));
}
