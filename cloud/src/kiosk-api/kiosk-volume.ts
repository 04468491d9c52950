import type { Queryable } from '../store/db.js';

export interface KioskVolumeFlag {
  kiosk_id: string;
  /** The usage day (YYYY-MM-DD in the fleet's time zone). */
  day: string;
  volume_ml: number;
}

/**
 * Flags a kiosk whose dispenses today (the fleet's usage day) exceed `thresholdMl`: a gateway
 * that claims more water than its pumps can plausibly deliver is either broken or forging.
 * One flag per kiosk and day, its volume kept current. Returns the flag when this call raised it.
 */
export async function flagKioskDailyVolume(
  db: Queryable,
  kioskId: string,
  usageTimeZone: string,
  thresholdMl: number,
): Promise<KioskVolumeFlag | undefined> {
  const rows = await db.query<{ day: string; volume_ml: number | string; raised: boolean }>(
    `WITH today AS (
       SELECT to_char(now() AT TIME ZONE $2::text, 'YYYY-MM-DD') AS day,
              (extract(epoch FROM date_trunc('day', now() AT TIME ZONE $2::text) AT TIME ZONE $2::text) * 1000)::bigint AS start_ms
     ), drawn AS (
       SELECT coalesce(-sum(e.amount_ml), 0)::bigint AS volume FROM ledger_events e, today
       WHERE e.kiosk_id = $1 AND e.type = 'dispense' AND e.occurred_at >= today.start_ms
     )
     INSERT INTO kiosk_volume_flags (kiosk_id, day, volume_ml)
     SELECT $1, today.day, drawn.volume FROM today, drawn WHERE drawn.volume > $3
     ON CONFLICT (kiosk_id, day) DO UPDATE SET volume_ml = EXCLUDED.volume_ml, updated_at = now()
     RETURNING day, volume_ml, (xmax = 0) AS raised`,
    [kioskId, usageTimeZone, thresholdMl],
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
