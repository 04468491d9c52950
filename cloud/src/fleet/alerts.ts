import type { LedgerEvent } from '@tusafishe/protocol';
import { newId } from '@tusafishe/protocol';
import { audit } from '../admin/adjustments.js';
import { CloudError } from '../errors.js';
import { enqueueSms } from '../sms/sender.js';
import type { Db, Queryable } from '../store/db.js';

type Severity = 'critical' | 'warning' | 'info';

export interface AlertView {
  alert_id: string;
  source: 'kiosk' | 'cloud';
  rule: string;
  subject: string;
  kiosk_id: string | null;
  severity: Severity;
  message: string;
  details: Record<string, unknown> | null;
  raised_at: string;
  cleared_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
}

interface AlertRow extends Omit<AlertView, 'raised_at' | 'cleared_at' | 'acknowledged_at'> {
  raised_at: Date;
  cleared_at: Date | null;
  acknowledged_at: Date | null;
}

const COLUMNS =
  'alert_id, source, rule, subject, kiosk_id, severity, message, details, raised_at, cleared_at, acknowledged_at, acknowledged_by';

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

function toAlertView(row: AlertRow): AlertView {
  return {
    ...row,
    raised_at: iso(row.raised_at)!,
    cleared_at: iso(row.cleared_at),
    acknowledged_at: iso(row.acknowledged_at),
  };
}

export interface NewCloudAlert {
  rule: string;
  subject: string;
  kioskId: string | null;
  severity: Severity;
  message: string;
  details?: Record<string, unknown>;
}

/** Who hears of critical alerts, by SMS through the durable outbox (queued in the alert's transaction). */
export interface AlertNotifier {
  onCallPhones: readonly string[];
}

async function notifyOnCall(tx: Queryable, alert: AlertView, notifier: AlertNotifier): Promise<void> {
  if (alert.severity !== 'critical') return;
  const where = alert.kiosk_id ? ` ${alert.kiosk_id}` : '';
  const text = `Tusafishe CRITICAL${where}: ${alert.message}`.slice(0, 160);
  for (const phone of notifier.onCallPhones) await enqueueSms(tx, phone, text);
}

/** Raises a cloud rule's alert unless one is already open for that rule and subject; returns it when new. */
export async function raiseCloudAlert(
  tx: Queryable,
  alert: NewCloudAlert,
  notifier: AlertNotifier,
): Promise<AlertView | undefined> {
  const rows = await tx.query<AlertRow>(
    `INSERT INTO alerts (alert_id, source, rule, subject, kiosk_id, severity, message, details, raised_at)
     VALUES ($1, 'cloud', $2, $3, $4, $5, $6, $7, now())
     ON CONFLICT (rule, subject) WHERE cleared_at IS NULL AND source = 'cloud' DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      newId(),
      alert.rule,
      alert.subject,
      alert.kioskId,
      alert.severity,
      alert.message,
      JSON.stringify(alert.details ?? {}),
    ],
  );
  const raised = rows[0] && toAlertView(rows[0]);
  if (raised) await notifyOnCall(tx, raised, notifier);
  return raised;
}

/** Clears a rule's open alerts whose subject no longer holds. */
export async function clearCloudAlerts(tx: Queryable, rule: string, holding: readonly string[]): Promise<number> {
  const rows = await tx.query(
    `UPDATE alerts SET cleared_at = now(), updated_at = now()
      WHERE source = 'cloud' AND rule = $1 AND cleared_at IS NULL AND NOT (subject = ANY($2::text[]))
      RETURNING alert_id`,
    [rule, holding],
  );
  return rows.length;
}

function kioskSeverity(value: unknown): Severity {
  return value === 'critical' || value === 'info' ? value : 'warning';
}

/**
 * Records a kiosk's `alert_raised`/`alert_cleared` notices (already merged into the ledger) as
 * alerts: keyed by the occurrence id, so a batch pushed again changes nothing and texts no one twice.
 */
export async function recordKioskAlerts(
  db: Db,
  kioskId: string,
  events: readonly LedgerEvent[],
  notifier: AlertNotifier,
): Promise<AlertView[]> {
  const notices = events.filter((event) => event.type === 'alert_raised' || event.type === 'alert_cleared');
  if (notices.length === 0) return [];
  return db.transaction(async (tx) => {
    const changed: AlertView[] = [];
    for (const event of notices) {
      const occurrence = event.source_id ?? event.event_id;
      const details = event.details ?? {};
      if (event.type === 'alert_raised') {
        const rows = await tx.query<AlertRow>(
          `INSERT INTO alerts (alert_id, source, rule, subject, kiosk_id, severity, message, details, raised_at)
           VALUES ($1, 'kiosk', $2, $3, $4, $5, $6, $7, to_timestamp($8 / 1000.0))
           ON CONFLICT (alert_id) DO NOTHING RETURNING ${COLUMNS}`,
          [
            occurrence,
            String(details['alert'] ?? 'kiosk_alert').slice(0, 64),
            `${kioskId}:${String(details['alert'] ?? occurrence)}`,
            kioskId,
            kioskSeverity(details['severity']),
            String(details['message'] ?? details['alert'] ?? 'kiosk alert').slice(0, 300),
            JSON.stringify(details),
            event.occurred_at,
          ],
        );
        const raised = rows[0] && toAlertView(rows[0]);
        if (raised) {
          changed.push(raised);
          await notifyOnCall(tx, raised, notifier);
        }
      } else {
        const rows = await tx.query<AlertRow>(
          `UPDATE alerts SET cleared_at = to_timestamp($3 / 1000.0), updated_at = now()
            WHERE alert_id = $1 AND kiosk_id = $2 AND cleared_at IS NULL RETURNING ${COLUMNS}`,
          [occurrence, kioskId, event.occurred_at],
        );
        if (rows[0]) changed.push(toAlertView(rows[0]));
      }
    }
    return changed;
  });
}

/** Acknowledges an alert in the operator's name (audited once; acknowledging again changes nothing). */
export async function acknowledgeAlert(db: Db, alertId: string, operator: string): Promise<AlertView> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<AlertRow>(
      `UPDATE alerts SET acknowledged_at = now(), acknowledged_by = $2, updated_at = now()
        WHERE alert_id = $1 AND acknowledged_at IS NULL RETURNING ${COLUMNS}`,
      [alertId, operator],
    );
    if (rows[0]) {
      const alert = toAlertView(rows[0]);
      await audit(tx, operator, 'alert_acknowledge', alertId, { rule: alert.rule, kiosk_id: alert.kiosk_id });
      return alert;
    }
    const existing = await tx.query<AlertRow>(`SELECT ${COLUMNS} FROM alerts WHERE alert_id = $1`, [alertId]);
    if (!existing[0]) throw new CloudError('UNKNOWN_ALERT', `no alert ${alertId}`);
    return toAlertView(existing[0]);
  });
}

export interface AlertQuery {
  /** `open`: not cleared (default); `all`: newest first, cleared too. */
  state?: 'open' | 'all';
  kioskId?: string;
  limit?: number;
}

export async function listAlerts(db: Queryable, query: AlertQuery = {}): Promise<AlertView[]> {
  const rows = await db.query<AlertRow>(
    `SELECT ${COLUMNS} FROM alerts
      WHERE ($1::boolean OR cleared_at IS NULL) AND ($2::text IS NULL OR kiosk_id = $2)
      ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, raised_at DESC
      LIMIT $3`,
    [query.state === 'all', query.kioskId ?? null, query.limit ?? 200],
  );
  return rows.map(toAlertView);
}

/** Alerts changed after `since` (the live feed's floor). */
export async function recentAlertChanges(db: Queryable, since: Date): Promise<(AlertView & { updated_at: string })[]> {
  const rows = await db.query<AlertRow & { updated_at: Date }>(
    `SELECT ${COLUMNS}, updated_at FROM alerts WHERE updated_at > $1 ORDER BY updated_at`,
    [since],
  );
  return rows.map((row) => ({ ...toAlertView(row), updated_at: iso(row.updated_at)! }));
}
