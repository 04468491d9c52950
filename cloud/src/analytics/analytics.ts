import { CloudError } from '../errors.js';
import type { Db, Queryable } from '../store/db.js';
import type { Analytics, Authorisations, DayRevenue, RevenueRow, Uptime } from './analytics-schemas.js';

/** The days an analysis covers, both ends included, in the fleet's time zone. */
export interface AnalyticsRange {
  /** ISO date of the first day. */
  from: string;
  /** ISO date of the last day. */
  to: string;
  /** One kiosk, or the whole fleet when absent. */
  kioskId?: string | undefined;
  timeZone: string;
}

/** Longest range one analysis covers, and the longest with an hourly series. */
const MAX_RANGE_DAYS = 366;
const MAX_HOURLY_DAYS = 31;
const DAY_MS = 86_400_000;

/** Days from `from` to `to`, both included; refuses a reversed or too long range. */
function rangeDays(range: Pick<AnalyticsRange, 'from' | 'to'>): number {
  const days = (Date.parse(range.to) - Date.parse(range.from)) / DAY_MS + 1;
  if (!Number.isInteger(days) || days < 1)
    throw new CloudError('INVALID_RANGE', `the range ${range.from} … ${range.to} ends before it starts`);
  if (days > MAX_RANGE_DAYS) throw new CloudError('INVALID_RANGE', `a range covers at most ${MAX_RANGE_DAYS} days`);
  return days;
}

/** Refuses a kiosk the cloud does not know (a typo would otherwise read as a kiosk that sold nothing). */
async function requireKiosk(db: Queryable, kioskId: string | undefined): Promise<void> {
  if (kioskId === undefined) return;
  const rows = await db.query('SELECT 1 FROM kiosks WHERE kiosk_id = $1', [kioskId]);
  if (rows.length === 0) throw new CloudError('UNKNOWN_KIOSK', `no kiosk ${kioskId}`);
}

// $1 from, $2 to, $3 time zone, $4 kiosk or null: the range's bounds as instants.
const START = `($1::date::timestamp AT TIME ZONE $3::text)`;
const END = `(($2::date + 1)::timestamp AT TIME ZONE $3::text)`;
const params = (range: AnalyticsRange): unknown[] => [range.from, range.to, range.timeZone, range.kioskId ?? null];
const num = (value: unknown): number => Number(value ?? 0);
const rate = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part * 10_000) / whole));

/** Litres and dispenses per day of the range (every day, zero when nothing flowed). */
async function litresPerDay(db: Queryable, range: AnalyticsRange): Promise<Analytics['litres_per_day']> {
  // Days from UTC hours: exact for the whole-hour offsets of the fleet's zones (EAT).
  const rows = await db.query<{ day: string; dispenses: unknown; volume_ml: unknown }>(
    `WITH per_day AS (
       SELECT (hour AT TIME ZONE $3::text)::date AS day, sum(dispenses) AS dispenses, sum(volume_ml) AS volume_ml
       FROM kiosk_dispense_hours
       WHERE hour >= ${START} AND hour < ${END} AND ($4::text IS NULL OR kiosk_id = $4)
       GROUP BY 1
     )
     SELECT to_char(s.day, 'YYYY-MM-DD') AS day, p.dispenses, p.volume_ml
     FROM generate_series($1::date, $2::date, interval '1 day') AS s(day)
     LEFT JOIN per_day p ON p.day = s.day::date ORDER BY s.day`,
    params(range),
  );
  return rows.map((row) => ({ day: row.day, dispenses: num(row.dispenses), volume_ml: num(row.volume_ml) }));
}

/** Litres and dispenses per hour of the range (every hour); null for ranges over MAX_HOURLY_DAYS. */
async function litresPerHour(db: Queryable, range: AnalyticsRange): Promise<Analytics['litres_per_hour']> {
  if (rangeDays(range) > MAX_HOURLY_DAYS) return null;
  const rows = await db.query<{ hour: string; dispenses: unknown; volume_ml: unknown }>(
    `WITH per_hour AS (
       SELECT hour, sum(dispenses) AS dispenses, sum(volume_ml) AS volume_ml FROM kiosk_dispense_hours
       WHERE hour >= ${START} AND hour < ${END} AND ($4::text IS NULL OR kiosk_id = $4)
       GROUP BY 1
     )
     SELECT to_char(s.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00:00Z"') AS hour, p.dispenses, p.volume_ml
     FROM generate_series(${START}, ${END} - interval '1 hour', interval '1 hour') AS s(hour)
     LEFT JOIN per_hour p ON p.hour = s.hour ORDER BY s.hour`,
    params(range),
  );
  return rows.map((row) => ({ hour: row.hour, dispenses: num(row.dispenses), volume_ml: num(row.volume_ml) }));
}

/**
 * Money collected per day, provider and currency: successful payments by the day they settled.
 * At a kiosk: the payments of customers tied to it (a payment names a kiosk only then).
 */
async function revenuePerDay(db: Queryable, range: AnalyticsRange): Promise<DayRevenue[]> {
  const rows = await db.query<{ day: string; provider: string; currency: string; payments: unknown; amount: unknown }>(
    `SELECT to_char((settled_at AT TIME ZONE $3::text)::date, 'YYYY-MM-DD') AS day, provider, currency,
            count(*) AS payments, sum(amount_minor) AS amount
     FROM payments
     WHERE status = 'successful' AND settled_at >= ${START} AND settled_at < ${END}
       AND ($4::text IS NULL OR kiosk_id = $4)
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    params(range),
  );
  return rows.map((row) => ({
    day: row.day,
    provider: row.provider,
    currency: row.currency,
    payments: num(row.payments),
    amount_minor: num(row.amount),
  }));
}

/** Per provider and currency over the range. */
function revenueTotals(days: readonly DayRevenue[]): RevenueRow[] {
  const totals = new Map<string, RevenueRow>();
  for (const row of days) {
    const key = `${row.provider} ${row.currency}`;
    const total = totals.get(key) ?? { provider: row.provider, currency: row.currency, payments: 0, amount_minor: 0 };
    total.payments += row.payments;
    total.amount_minor += row.amount_minor;
    totals.set(key, total);
  }
  return [...totals.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.currency.localeCompare(b.currency),
  );
}

const addDays = (day: string, days: number): string =>
  new Date(Date.parse(day) + days * DAY_MS).toISOString().slice(0, 10);
const nextMonth = (day: string): string => {
  const date = new Date(Date.parse(day));
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
};

/** The months a range covers whole (their first days), and the spans of days at its ends outside them. */
function monthsAndDays(range: Pick<AnalyticsRange, 'from' | 'to'>): { months: string[]; days: [string, string][] } {
  const months: string[] = [];
  let month = range.from.endsWith('-01') ? range.from : nextMonth(range.from);
  while (addDays(nextMonth(month), -1) <= range.to) {
    months.push(month);
    month = nextMonth(month);
  }
  if (months.length === 0) return { months, days: [[range.from, range.to]] };
  const days: [string, string][] = [];
  if (range.from < months[0]!) days.push([range.from, addDays(months[0]!, -1)]);
  if (month <= range.to) days.push([month, range.to]);
  return { months, days };
}

interface CustomerRow {
  account_id: string;
  name: string;
  dispenses: unknown;
  volume_ml: unknown;
}
const toTopCustomer = (row: CustomerRow): Analytics['top_customers'][number] => ({
  account_id: row.account_id,
  name: row.name,
  dispenses: num(row.dispenses),
  volume_ml: num(row.volume_ml),
});

/**
 * Customers who drew water in the range (counted once however many kiosks and days), and the
 * `limit` who drew most. Reads the monthly rollups for months the range covers whole, the daily
 * one for the days at its ends; a whole month of the fleet is one month's rows.
 */
async function customersServed(
  db: Queryable,
  range: AnalyticsRange,
  limit: number,
): Promise<{ active: number; top: Analytics['top_customers'] }> {
  const { months, days } = monthsAndDays(range);
  if (range.kioskId === undefined && months.length === 1 && days.length === 0) {
    const [active, top] = await Promise.all([
      db.query<{ active: unknown }>('SELECT count(*) AS active FROM customer_fleet_months WHERE month = $1', [
        months[0],
      ]),
      db.query<CustomerRow>(
        `SELECT m.account_id, c.name, m.dispenses, m.volume_ml FROM customer_fleet_months m
         JOIN customers c ON c.account_id = m.account_id
         WHERE m.month = $1 ORDER BY m.volume_ml DESC, m.account_id LIMIT $2`,
        [months[0], limit],
      ),
    ]);
    return { active: num(active[0]?.active), top: top.map(toTopCustomer) };
  }
  const rows = await db.query<CustomerRow & { active: unknown }>(
    `WITH drawn AS (
       SELECT account_id, dispenses, volume_ml FROM customer_fleet_months
       WHERE $1::text IS NULL AND month = ANY($2::date[])
       UNION ALL
       SELECT account_id, dispenses, volume_ml FROM customer_dispense_months
       WHERE kiosk_id = $1 AND month = ANY($2::date[])
       UNION ALL
       SELECT account_id, dispenses, volume_ml FROM customer_dispense_days
       WHERE ((day >= $3::date AND day <= $4::date) OR (day >= $5::date AND day <= $6::date))
         AND ($1::text IS NULL OR kiosk_id = $1)
     ), per_customer AS (
       SELECT account_id, sum(dispenses) AS dispenses, sum(volume_ml) AS volume_ml, count(*) OVER () AS active
       FROM drawn GROUP BY account_id
     ), top AS (
       SELECT * FROM per_customer ORDER BY volume_ml DESC, account_id LIMIT $7
     )
     SELECT t.account_id, c.name, t.dispenses, t.volume_ml, t.active
     FROM top t JOIN customers c ON c.account_id = t.account_id ORDER BY t.volume_ml DESC, t.account_id`,
    [
      range.kioskId ?? null,
      months,
      days[0]?.[0] ?? null,
      days[0]?.[1] ?? null,
      days[1]?.[0] ?? null,
      days[1]?.[1] ?? null,
      limit,
    ],
  );
  return { active: num(rows[0]?.active), top: rows.map(toTopCustomer) };
}

/** Approvals and denials by reason, from the hourly counts gateways send with their sync. */
async function authorisations(db: Queryable, range: AnalyticsRange): Promise<Authorisations> {
  const rows = await db.query<{ outcome: string; count: unknown }>(
    `SELECT outcome, sum(count) AS count FROM kiosk_auth_counts
     WHERE hour >= ${START} AND hour < ${END} AND ($4::text IS NULL OR kiosk_id = $4)
     GROUP BY outcome`,
    params(range),
  );
  const approved = num(rows.find((row) => row.outcome === 'approved')?.count);
  const denials = rows
    .filter((row) => row.outcome !== 'approved')
    .map((row) => ({ code: row.outcome, count: num(row.count) }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  const denied = denials.reduce((sum, row) => sum + row.count, 0);
  return { approved, denied, success_rate_bp: rate(approved, approved + denied), denials };
}

/**
 * Share of hours each kiosk reached the cloud, over the hours of the range it existed (up to
 * and including the current hour); the fleet's is the sum over its kiosks.
 */
async function uptime(db: Queryable, range: AnalyticsRange): Promise<Uptime> {
  const rows = await db.query<{ kiosk_id: string; hours: unknown; contact_hours: unknown }>(
    `WITH spans AS (
       SELECT kiosk_id, greatest(${START}, date_trunc('hour', created_at)) AS since,
              least(${END}, date_trunc('hour', now()) + interval '1 hour') AS until
       FROM kiosks WHERE $4::text IS NULL OR kiosk_id = $4
     )
     SELECT s.kiosk_id, greatest(0, extract(epoch FROM s.until - s.since) / 3600)::int AS hours,
            (SELECT count(*) FROM kiosk_contact_hours c
             WHERE c.kiosk_id = s.kiosk_id AND c.hour >= s.since AND c.hour < s.until) AS contact_hours
     FROM spans s ORDER BY s.kiosk_id`,
    params(range),
  );
  const kiosks = rows.map((row) => {
    const hours = num(row.hours);
    const contact = num(row.contact_hours);
    return { kiosk_id: row.kiosk_id, hours, contact_hours: contact, uptime_bp: rate(contact, hours) };
  });
  const hours = kiosks.reduce((sum, k) => sum + k.hours, 0);
  const contact = kiosks.reduce((sum, k) => sum + k.contact_hours, 0);
  return { hours, contact_hours: contact, uptime_bp: rate(contact, hours), kiosks };
}

/** Every figure of a range at once, its queries side by side (a pool runs them in parallel). */
export async function analyse(db: Db, range: AnalyticsRange, topLimit = 10): Promise<Analytics> {
  rangeDays(range);
  await requireKiosk(db, range.kioskId);
  const [perDay, perHour, revenue, customers, auth, up] = await Promise.all([
    litresPerDay(db, range),
    litresPerHour(db, range),
    revenuePerDay(db, range),
    customersServed(db, range, topLimit),
    authorisations(db, range),
    uptime(db, range),
  ]);
  return {
    from: range.from,
    to: range.to,
    kiosk_id: range.kioskId ?? null,
    time_zone: range.timeZone,
    totals: {
      dispenses: perDay.reduce((sum, d) => sum + d.dispenses, 0),
      volume_ml: perDay.reduce((sum, d) => sum + d.volume_ml, 0),
      active_customers: customers.active,
    },
    litres_per_day: perDay,
    litres_per_hour: perHour,
    revenue_per_day: revenue,
    revenue: revenueTotals(revenue),
    top_customers: customers.top,
    authorisations: auth,
    uptime: up,
  };
}
