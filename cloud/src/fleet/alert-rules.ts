import type { ExclusiveJobs } from '../jobs/exclusive-jobs.js';
import type { Db, Queryable } from '../store/db.js';
import { usageDaySql } from '../store/usage-day.js';
import { clearCloudAlerts, raiseCloudAlert, type AlertNotifier, type NewCloudAlert } from './alerts.js';
import type { FleetSettings } from './settings.js';

/** The volume rule reads 15 days of dispenses: at most this often. */
const VOLUME_RULE_EVERY_MS = 10 * 60_000;

type Rule = (tx: Queryable, settings: FleetSettings, context: RuleContext) => Promise<NewCloudAlert[] | undefined>;

interface RuleContext {
  usageTimeZone: string;
  /** False: skip the expensive volume rule this tick (its alerts stay as they are). */
  volumeDue: boolean;
}

const kioskOffline: Rule = async (tx, settings) => {
  const rows = await tx.query<{ kiosk_id: string; last_contact_at: Date }>(
    `SELECT kiosk_id, last_contact_at FROM kiosks
      WHERE last_contact_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [settings.kioskOfflineAfterMs],
  );
  return rows.map((row) => ({
    rule: 'kiosk_offline',
    subject: row.kiosk_id,
    kioskId: row.kiosk_id,
    severity: 'warning',
    message: `No contact since ${new Date(row.last_contact_at).toISOString()}`,
    details: { last_contact_at: new Date(row.last_contact_at).toISOString() },
  }));
};

const dispenserOffline: Rule = async (tx, settings) => {
  const rows = await tx.query<{ kiosk_id: string; dispenser_id: string; last_seen_at: string | null }>(
    `SELECT s.kiosk_id, d->>'dispenser_id' AS dispenser_id, d->>'last_seen_at' AS last_seen_at
       FROM kiosk_status s, jsonb_array_elements(s.dispensers) d
      WHERE NOT (d->>'online')::boolean
        AND coalesce((d->>'last_seen_at')::bigint, 0) < extract(epoch FROM s.reported_at) * 1000 - $1`,
    [settings.dispenserOfflineAfterMs],
  );
  return rows.map((row) => ({
    rule: 'dispenser_offline',
    subject: `${row.kiosk_id}/${row.dispenser_id}`,
    kioskId: row.kiosk_id,
    severity: 'warning',
    message: `Dispenser ${row.dispenser_id} offline`,
    details: {
      dispenser_id: row.dispenser_id,
      last_seen_at: row.last_seen_at === null ? null : new Date(Number(row.last_seen_at)).toISOString(),
    },
  }));
};

const negativeBalance: Rule = async (tx, settings) => {
  const rows = await tx.query<{ account_id: string; balance_ml: number }>(
    'SELECT account_id, balance_ml FROM customers WHERE balance_ml < 0 AND balance_ml < -$1::bigint',
    [settings.negativeBalanceAlertMl],
  );
  return rows.map((row) => ({
    rule: 'negative_balance',
    subject: row.account_id,
    kioskId: null,
    severity: 'warning',
    message: `Account ${row.account_id} is ${-row.balance_ml} mL below zero`,
    details: { account_id: row.account_id, balance_ml: row.balance_ml },
  }));
};

const paymentPending: Rule = async (tx, settings) => {
  const rows = await tx.query<{ payment_id: string; provider: string; account_id: string; kiosk_id: string | null }>(
    `SELECT payment_id, provider, account_id, kiosk_id FROM payments
      WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [settings.paymentPendingAlertMs],
  );
  return rows.map((row) => ({
    rule: 'payment_pending',
    subject: row.payment_id,
    kioskId: row.kiosk_id,
    severity: 'warning',
    message: `${row.provider} payment of ${row.account_id} pending for over ${Math.round(settings.paymentPendingAlertMs / 60_000)} min`,
    details: { payment_id: row.payment_id, provider: row.provider, account_id: row.account_id },
  }));
};

/** Today's litres against the kiosk's average day over the previous 14 days (days with dispenses, at least 3). */
const volumeAnomaly: Rule = async (tx, settings, { usageTimeZone, volumeDue }) => {
  if (!volumeDue) return undefined;
  const rows = await tx.query<{ kiosk_id: string; day: string; today_ml: number; average_ml: number }>(
    `WITH b AS (${usageDaySql('$1')}),
     per_kiosk AS (
       SELECT kiosk_id, b.day,
              coalesce(-sum(amount_ml) FILTER (WHERE occurred_at >= b.start_ms), 0) AS today_ml,
              coalesce(-sum(amount_ml) FILTER (WHERE occurred_at < b.start_ms), 0) AS prior_ml,
              count(DISTINCT floor((occurred_at - b.start_ms) / 86400000.0)) FILTER (WHERE occurred_at < b.start_ms) AS prior_days
         FROM ledger_events, b
        WHERE type = 'dispense' AND kiosk_id IS NOT NULL AND occurred_at >= b.start_ms - 14 * 86400000
        GROUP BY kiosk_id, b.day)
     SELECT kiosk_id, day, today_ml, (prior_ml / prior_days)::bigint AS average_ml FROM per_kiosk
      WHERE prior_days >= 3 AND today_ml >= $2 AND today_ml > $3 * prior_ml / prior_days`,
    [usageTimeZone, settings.volumeAnomalyMinMl, settings.volumeAnomalyFactor],
  );
  return rows.map((row) => ({
    rule: 'volume_anomaly',
    subject: `${row.kiosk_id}:${row.day}`,
    kioskId: row.kiosk_id,
    severity: 'warning',
    message: `${Math.round(row.today_ml / 1000)} L today, ${Math.round(row.average_ml / 1000)} L on an average day`,
    details: { day: row.day, today_ml: Number(row.today_ml), average_ml: Number(row.average_ml) },
  }));
};

const RULES: Record<string, Rule> = {
  kiosk_offline: kioskOffline,
  dispenser_offline: dispenserOffline,
  negative_balance: negativeBalance,
  payment_pending: paymentPending,
  volume_anomaly: volumeAnomaly,
};

export interface AlertRulesOptions {
  db: Db;
  settings: FleetSettings;
  usageTimeZone: string;
  notifier: AlertNotifier;
}

/**
 * One tick of every cloud rule, in one transaction: raises an alert for each subject that now
 * holds (once: an open alert per rule and subject is unique), clears the open ones that no longer
 * hold. With several instances, the caller runs it as the `alert-rules` job (`AlertRules`).
 */
async function runAlertRules(options: AlertRulesOptions, volumeDue = true): Promise<void> {
  await options.db.transaction(async (tx) => {
    const context = { usageTimeZone: options.usageTimeZone, volumeDue };
    for (const [name, rule] of Object.entries(RULES)) {
      const holding = await rule(tx, options.settings, context);
      if (!holding) continue;
      for (const alert of holding) await raiseCloudAlert(tx, alert, options.notifier);
      await clearCloudAlerts(
        tx,
        name,
        holding.map((alert) => alert.subject),
      );
    }
  });
}

const ALERT_RULES_JOB = 'alert-rules';

/**
 * The rules as the `alert-rules` job: every `settings.rulesIntervalMs` on the instance holding
 * it (none when 0), and on demand. Runs on one instance never overlap; the volume rule runs at
 * most every 10 min on the holder.
 */
export class AlertRules {
  private lastVolume = 0;
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: AlertRulesOptions,
    private readonly jobs: ExclusiveJobs,
    private readonly afterRun: () => void,
  ) {
    const everyMs = options.settings.rulesIntervalMs;
    if (everyMs > 0) jobs.schedule(ALERT_RULES_JOB, everyMs, () => this.tick());
  }

  /** One tick now (tests, or with the schedule off); false when another instance holds the job. */
  runNow(): Promise<boolean> {
    const leaseMs = Math.max(3 * this.options.settings.rulesIntervalMs, 30_000);
    return this.jobs.runExclusive(ALERT_RULES_JOB, leaseMs, () => this.tick());
  }

  private tick(): Promise<void> {
    const run = async (): Promise<void> => {
      const volumeDue = Date.now() - this.lastVolume >= VOLUME_RULE_EVERY_MS;
      await runAlertRules(this.options, volumeDue);
      if (volumeDue) this.lastVolume = Date.now();
      this.afterRun();
    };
    const next = this.serial.then(run, run);
    this.serial = next.catch(() => undefined);
    return next;
  }
}
