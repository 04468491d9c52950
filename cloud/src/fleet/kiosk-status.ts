import type { KioskStatusAnswer, KioskStatusReport } from '@tusafishe/protocol';
import type { Db } from '../store/db.js';
import type { FleetFirmware } from './firmware.js';

/**
 * Stores a gateway's compact status (one row per kiosk, replaced), its hourly authorisation
 * counts (a re-sent hour replaces its count, so a report sent twice never doubles one) and its
 * firmware rollout progress, in one transaction; answers with the rollout the kiosk should run.
 */
export async function recordKioskStatus(
  db: Db,
  firmware: FleetFirmware,
  kioskId: string,
  report: KioskStatusReport,
): Promise<KioskStatusAnswer> {
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO kiosk_status (kiosk_id, reported_at, gateway_version, events_waiting, dispensers_online,
                                 dispensers_total, tank_level_pct, water_quality, dispensers)
       VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (kiosk_id) DO UPDATE SET
         reported_at = EXCLUDED.reported_at, received_at = now(), gateway_version = EXCLUDED.gateway_version,
         events_waiting = EXCLUDED.events_waiting, dispensers_online = EXCLUDED.dispensers_online,
         dispensers_total = EXCLUDED.dispensers_total, tank_level_pct = EXCLUDED.tank_level_pct,
         water_quality = EXCLUDED.water_quality, dispensers = EXCLUDED.dispensers`,
      [
        kioskId,
        report.at,
        report.gateway_version,
        report.events_waiting,
        report.dispensers.filter((d) => d.online).length,
        report.dispensers.length,
        report.tank_level_pct,
        report.water_quality,
        JSON.stringify(report.dispensers),
      ],
    );
    // One row per hour and outcome (the last wins): an upsert may not touch a row twice.
    const counts = [...new Map(report.auth_counts.map((c) => [`${c.hour}:${c.outcome}`, c])).values()];
    if (counts.length > 0) {
      await tx.query(
        `INSERT INTO kiosk_auth_counts (kiosk_id, hour, outcome, count)
         SELECT $1, to_timestamp(hour / 1000.0), outcome, count
           FROM unnest($2::bigint[], $3::text[], $4::int[]) AS c(hour, outcome, count)
         ON CONFLICT (kiosk_id, hour, outcome) DO UPDATE SET count = EXCLUDED.count`,
        [kioskId, counts.map((c) => c.hour), counts.map((c) => c.outcome), counts.map((c) => c.count)],
      );
    }
    if (report.firmware) await firmware.recordProgress(tx, kioskId, report.firmware);
    return { firmware: await firmware.directiveFor(tx, kioskId) };
  });
}
