import { CloudError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { usageDaySql } from '../store/usage-day.js';
import { listAlerts, type AlertView } from './alerts.js';

export interface KioskSummary {
  kiosk_id: string;
  name: string;
  last_contact_at: string | null;
  online: boolean;
  gateway_version: string | null;
  events_waiting: number | null;
  dispensers_online: number | null;
  dispensers_total: number | null;
  tank_level_pct: number | null;
  water_quality: 'ok' | 'unsafe' | 'unknown' | null;
  status_at: string | null;
  active_alerts: number;
  /** The worst severity among its open alerts, or null. */
  worst_severity: 'critical' | 'warning' | 'info' | null;
}

export interface KioskDetail extends KioskSummary {
  dispensers: { dispenser_id: string; online: boolean; firmware: string | null; last_seen_at: number | null }[];
  alerts: AlertView[];
  /** In the fleet's usage time zone. */
  today: { day: string; litres_ml: number; dispenses: number; approvals: number; denials: Record<string, number> };
}

interface SummaryRow extends Omit<KioskSummary, 'last_contact_at' | 'status_at'> {
  last_contact_at: Date | null;
  status_at: Date | null;
  dispensers: KioskDetail['dispensers'] | null;
}

const iso = (value: Date | null): string | null => (value === null ? null : new Date(value).toISOString());

const SUMMARY = `
  SELECT k.kiosk_id, k.name, k.last_contact_at,
         coalesce(k.last_contact_at >= now() - make_interval(secs => $1::double precision / 1000), false) AS online,
         s.gateway_version, s.events_waiting, s.dispensers_online, s.dispensers_total, s.tank_level_pct,
         s.water_quality, s.reported_at AS status_at, s.dispensers,
         coalesce(a.open, 0)::int AS active_alerts, a.worst_severity
    FROM kiosks k
    LEFT JOIN kiosk_status s USING (kiosk_id)
    LEFT JOIN (SELECT kiosk_id, count(*) AS open,
                      (ARRAY['critical', 'warning', 'info'])[min(CASE severity WHEN 'critical' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END)] AS worst_severity
                 FROM alerts WHERE cleared_at IS NULL AND kiosk_id IS NOT NULL GROUP BY kiosk_id) a USING (kiosk_id)`;

function toSummary({ dispensers: _, ...row }: SummaryRow): KioskSummary {
  return {
    ...row,
    last_contact_at: iso(row.last_contact_at),
    status_at: iso(row.status_at),
    tank_level_pct: row.tank_level_pct === null ? null : Number(row.tank_level_pct),
  };
}

/** Every kiosk with its last contact, online state (contact within `offlineAfterMs`), last status and open alerts. */
export async function listKiosks(db: Queryable, offlineAfterMs: number): Promise<KioskSummary[]> {
  const rows = await db.query<SummaryRow>(`${SUMMARY} ORDER BY k.kiosk_id`, [offlineAfterMs]);
  return rows.map(toSummary);
}

/** One kiosk: the summary, its dispensers, open alerts, and today's litres, approvals and denials by reason. */
export async function kioskDetail(
  db: Queryable,
  kioskId: string,
  offlineAfterMs: number,
  usageTimeZone: string,
): Promise<KioskDetail> {
  const [row] = await db.query<SummaryRow>(`${SUMMARY} WHERE k.kiosk_id = $2`, [offlineAfterMs, kioskId]);
  if (!row) throw new CloudError('UNKNOWN_KIOSK', `no kiosk ${kioskId}`);
  const [volume] = await db.query<{ day: string; litres_ml: number; dispenses: number }>(
    `WITH b AS (${usageDaySql('$2')})
     SELECT b.day, coalesce(-sum(e.amount_ml), 0)::bigint AS litres_ml, count(e.event_id)::int AS dispenses
       FROM b LEFT JOIN ledger_events e
         ON e.type = 'dispense' AND e.kiosk_id = $1 AND e.occurred_at >= b.start_ms
      GROUP BY b.day`,
    [kioskId, usageTimeZone],
  );
  const outcomes = await db.query<{ outcome: string; count: number }>(
    `SELECT outcome, sum(count)::int AS count FROM kiosk_auth_counts, (${usageDaySql('$2')}) b
      WHERE kiosk_id = $1 AND hour >= b.start_at
      GROUP BY outcome`,
    [kioskId, usageTimeZone],
  );
  const denials: Record<string, number> = {};
  for (const { outcome, count } of outcomes) if (outcome !== 'approved') denials[outcome] = count;
  return {
    ...toSummary(row),
    dispensers: row.dispensers ?? [],
    alerts: await listAlerts(db, { kioskId }),
    today: {
      day: volume?.day ?? '',
      litres_ml: Number(volume?.litres_ml ?? 0),
      dispenses: volume?.dispenses ?? 0,
      approvals: outcomes.find((o) => o.outcome === 'approved')?.count ?? 0,
      denials,
    },
  };
}
