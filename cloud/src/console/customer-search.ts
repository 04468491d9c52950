import { normalisePhone, type CountryCode } from '@tusafishe/protocol/phone';
import type { Customer } from '../customers/customers.js';
import type { Queryable } from '../store/db.js';

const SEARCH_PAGE_SIZE = 25;
/** The fleet's markets: a local number (`0772…`) is read in each, as a kiosk in that country would. */
const PHONE_REGIONS: CountryCode[] = ['KE', 'UG'];

export interface CustomerSummary {
  account_id: string;
  phone: string;
  name: string;
  status: Customer['status'];
  balance_ml: number;
  locked_until: number | null;
}

/** The E.164 numbers `query` can mean, in any form a kiosk keypad accepts. */
function phonesOf(query: string): string[] {
  const phones = new Set<string>();
  for (const region of PHONE_REGIONS) {
    try {
      phones.add(normalisePhone(query, region));
    } catch {
      // Not a number in this region.
    }
  }
  return [...phones];
}

/**
 * The statement finding customers matching `query`: a phone number in any form the keypad takes,
 * an account id (or its start), or a name (its start, or a word's start), case-insensitive; by
 * name. Each arm has its index (phone unique, account id pattern ops, the name's start and, with
 * pg_trgm, its words: migration 16), so PostgreSQL ORs small bitmaps instead of reading every row.
 */
export function searchStatement(query: string, limit: number, offset: number): { sql: string; params: unknown[] } {
  const q = query.trim();
  const name = q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
  return {
    sql: `SELECT account_id, phone, name, status, balance_ml, locked_until FROM customers
      WHERE phone = ANY($1::text[])
         OR ($2::text IS NOT NULL AND account_id LIKE $2 || '%')
         OR lower(name) LIKE $3 || '%' OR lower(name) LIKE '% ' || $3 || '%'
      ORDER BY name, account_id LIMIT $4 OFFSET $5`,
    params: [phonesOf(q), /^[A-Za-z0-9]{2,16}$/.test(q) ? q.toUpperCase() : null, name, limit, offset],
  };
}

/** Customers matching `query` (see `searchStatement`), 25 a page. */
export async function searchCustomers(
  db: Queryable,
  query: string,
  page: number,
  pageSize: number = SEARCH_PAGE_SIZE,
): Promise<{ customers: CustomerSummary[]; hasMore: boolean }> {
  const { sql, params } = searchStatement(query, pageSize + 1, (page - 1) * pageSize);
  const rows = await db.query<CustomerSummary>(sql, params);
  return {
    customers: rows.slice(0, pageSize).map((row) => ({
      ...row,
      balance_ml: Number(row.balance_ml),
      locked_until: row.locked_until === null ? null : Number(row.locked_until),
    })),
    hasMore: rows.length > pageSize,
  };
}

export interface CustomerEvent {
  event_id: string;
  type: string;
  amount_ml: number;
  kiosk_id: string | null;
  dispenser_id: string | null;
  occurred_at: number;
  details: Record<string, unknown> | null;
  /** The reversal that corrected this dispense, if any. */
  reversed_by: string | null;
}

/** A customer's ledger events, newest first, 25 a page. */
export async function customerEvents(
  db: Queryable,
  accountId: string,
  page: number,
  pageSize: number = SEARCH_PAGE_SIZE,
): Promise<{ events: CustomerEvent[]; hasMore: boolean }> {
  const rows = await db.query<CustomerEvent>(
    `SELECT e.event_id::text AS event_id, e.type, e.amount_ml, e.kiosk_id, e.dispenser_id, e.occurred_at, e.details,
            r.event_id::text AS reversed_by
       FROM ledger_events e
       LEFT JOIN ledger_events r ON r.type = 'reversal' AND r.source_id = e.event_id::text
      WHERE e.account_id = $1
      ORDER BY e.occurred_at DESC, e.event_id DESC LIMIT $2 OFFSET $3`,
    [accountId, pageSize + 1, (page - 1) * pageSize],
  );
  return {
    events: rows.slice(0, pageSize).map((row) => ({ ...row, occurred_at: Number(row.occurred_at) })),
    hasMore: rows.length > pageSize,
  };
}
