import { BALANCE_EVENT_TYPES, DEFAULT_TIME_ZONE, type LedgerEvent } from '@tusafishe/protocol';
import { CUSTOMER_VERSION_LOCK } from '../store/migrations.js';
import type { Queryable } from '../store/db.js';
import { usageDaySql } from '../store/usage-day.js';

const BALANCE_TYPES_SQL = BALANCE_EVENT_TYPES.map((type) => `'${type}'`).join(', ');
/**
 * A kiosk's event (one kiosk's push: every event is its own) makes it a follower of the customer
 * today (`customers.followers`, migration 23): written once a day per customer and kiosk, with
 * the balance when it moves anyway.
 */
const FOLLOWER_STALE = `d.kiosk_id IS NOT NULL AND coalesce((c.followers ->> d.kiosk_id)::int, -1) < d.seen`;

/**
 * Serialises the rare writers that read customers and then change them (operators' corrections,
 * unlocks and token changes, imports): first statement of their transaction. Versions do not need
 * it (migration 18), so kiosks' pushes and payment credits, the hot paths, do not take it.
 */
export async function lockCustomerChanges(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [CUSTOMER_VERSION_LOCK]);
}

export interface Balance {
  account_id: string;
  balance_ml: number;
  version: number;
  usage_day: string | null;
  used_today_ml: number;
}

interface InsertedRow {
  event_id: string;
}

/**
 * The statement of `appendEvents` as CTEs, for statements that do more with the same round trip:
 * `inserted` (the new events: event_id, type, account_id, amount_ml, kiosk_id, occurred_at), `today` (the
 * usage day, `usageDaySql`) and `moved` (the customers they moved, as `Balance` columns). Parameters `$1`…`$10`, from `appendParams`.
 */
export const APPEND_EVENTS_CTES = `input AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::jsonb[])
         AS t(event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at, details)
     ), inserted AS (
       INSERT INTO ledger_events (event_id, type, account_id, amount_ml, kiosk_id, dispenser_id, source_id, occurred_at, details)
       SELECT * FROM input ON CONFLICT DO NOTHING
       RETURNING event_id, type, account_id, amount_ml, kiosk_id, occurred_at
     ), today AS (${usageDaySql('$10')}), moved AS (
       UPDATE customers c SET
         balance_ml = c.balance_ml + d.delta,
         usage_day = CASE WHEN d.drawn = 0 THEN c.usage_day ELSE d.day END,
         used_today_ml = CASE WHEN d.drawn = 0 THEN c.used_today_ml
                              WHEN c.usage_day = d.day THEN c.used_today_ml + d.drawn
                              ELSE d.drawn END,
         followers = CASE WHEN ${FOLLOWER_STALE} THEN c.followers || jsonb_build_object(d.kiosk_id, d.seen)
                          ELSE c.followers END
       FROM (SELECT account_id, today.day, max(kiosk_id) AS kiosk_id,
                    floor(extract(epoch FROM now()) / 86400)::int AS seen,
                    bool_or(type IN (${BALANCE_TYPES_SQL})) AS moves,
                    coalesce(sum(amount_ml) FILTER (WHERE type IN (${BALANCE_TYPES_SQL})), 0) AS delta,
                    coalesce(-sum(amount_ml) FILTER (WHERE type = 'dispense' AND amount_ml < 0
                      AND occurred_at >= today.start_ms AND occurred_at < today.end_ms), 0) AS drawn
             FROM inserted CROSS JOIN today
             WHERE account_id IS NOT NULL GROUP BY account_id, today.day) d
       WHERE c.account_id = d.account_id AND (d.moves OR ${FOLLOWER_STALE})
       RETURNING c.account_id, c.balance_ml, c.version, c.usage_day, c.used_today_ml
     )`;

/** The parameters `$1`…`$10` of `APPEND_EVENTS_CTES`. */
export function appendParams(events: readonly LedgerEvent[], usageTimeZone: string): unknown[] {
  const column = <T>(pick: (event: LedgerEvent) => T): T[] => events.map(pick);
  return [
    column((e) => e.event_id),
    column((e) => e.type),
    column((e) => e.account_id ?? null),
    column((e) => e.amount_ml),
    column((e) => e.kiosk_id ?? null),
    column((e) => e.dispenser_id ?? null),
    column((e) => e.source_id ?? null),
    column((e) => e.occurred_at),
    column((e) => (e.details === undefined ? null : JSON.stringify(e.details))),
    usageTimeZone,
  ];
}

/**
 * Appends events to the grow-only ledger (ARCHITECTURE §3): an event id already present is
 * ignored, so merge is union. Each new balance-affecting event moves its customer's cached
 * balance in the same statement, so `customers.balance_ml` always equals the sum of its events.
 * New dispenses that occurred on today's usage day (in `usageTimeZone`) move `used_today_ml` in
 * that statement too, starting it afresh when `usage_day` was an earlier day; late dispenses of
 * an earlier day count for no one's today. Returns the ids this call inserted. Call inside a transaction.
 */
export async function appendEvents(
  tx: Queryable,
  events: readonly LedgerEvent[],
  usageTimeZone: string = DEFAULT_TIME_ZONE,
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = await tx.query<InsertedRow>(
    `WITH ${APPEND_EVENTS_CTES}
     SELECT event_id::text AS event_id FROM inserted`,
    appendParams(events, usageTimeZone),
  );
  return new Set(rows.map((row) => row.event_id));
}

/** Which of `ids` the ledger holds. */
export async function existingEventIds(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.query<InsertedRow>(
    'SELECT event_id::text AS event_id FROM ledger_events WHERE event_id = ANY($1::uuid[])',
    [ids],
  );
  return new Set(rows.map((row) => row.event_id));
}

export async function balancesOf(db: Queryable, accountIds: readonly string[]): Promise<Balance[]> {
  if (accountIds.length === 0) return [];
  const rows = await db.query<{
    account_id: string;
    balance_ml: number | string;
    version: number | string;
    usage_day: string | null;
    used_today_ml: number | string;
  }>(
    'SELECT account_id, balance_ml, version, usage_day, used_today_ml FROM customers WHERE account_id = ANY($1::text[]) ORDER BY account_id',
    [accountIds],
  );
  return rows.map((row) => ({
    account_id: row.account_id,
    balance_ml: Number(row.balance_ml),
    version: Number(row.version),
    usage_day: row.usage_day,
    used_today_ml: Number(row.used_today_ml),
  }));
}

/** Extends a customer's cloud-wide lockout (never shortens it); bumps the version so gateways learn it. */
export async function applyLockout(tx: Queryable, accountId: string, lockedUntil: number): Promise<void> {
  await tx.query(
    'UPDATE customers SET locked_until = $2 WHERE account_id = $1 AND (locked_until IS NULL OR locked_until < $2)',
    [accountId, lockedUntil],
  );
}

/** Ends a customer's cloud-wide lockout (an operator's or technician's unlock); gateways learn it by the version bump. */
export async function clearLockout(tx: Queryable, accountId: string): Promise<boolean> {
  const rows = await tx.query<{ account_id: string }>(
    'UPDATE customers SET locked_until = NULL, pin_failures = 0 WHERE account_id = $1 RETURNING account_id',
    [accountId],
  );
  return rows.length > 0;
}

export interface NegativeBalance {
  account_id: string;
  phone: string;
  name: string;
  balance_ml: number;
}

/** Customers whose merged balance went below zero (offline spending at several kiosks, ARCHITECTURE §5). */
export async function negativeBalances(db: Queryable, limit = 1000): Promise<NegativeBalance[]> {
  const rows = await db.query<{ account_id: string; phone: string; name: string; balance_ml: number | string }>(
    'SELECT account_id, phone, name, balance_ml FROM customers WHERE balance_ml < 0 ORDER BY balance_ml LIMIT $1',
    [limit],
  );
  return rows.map((row) => ({ ...row, balance_ml: Number(row.balance_ml) }));
}

export async function countNegativeBalances(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number | string }>('SELECT count(*) AS n FROM customers WHERE balance_ml < 0');
  return Number(rows[0]?.n ?? 0);
}

/** The check behind "a balance is the sum of its events": accounts whose cache disagrees (should be none). */
export async function balanceDrift(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ account_id: string }>(
    `SELECT c.account_id FROM customers c
     LEFT JOIN (SELECT account_id, sum(amount_ml) AS total FROM ledger_events
                WHERE type IN (${BALANCE_TYPES_SQL}) GROUP BY account_id) s
       ON s.account_id = c.account_id
     WHERE c.balance_ml <> coalesce(s.total, 0)`,
  );
  return rows.map((row) => row.account_id);
}
