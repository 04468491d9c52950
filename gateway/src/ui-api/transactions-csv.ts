import type { Database } from 'better-sqlite3';
import { BALANCE_EVENT_TYPES } from '@tusafishe/protocol';
import { inTimeRangeSql, timeRange, UNACKED_SQL } from '../store/ledger.js';

const COLUMNS = [
  'occurred_at',
  'event_id',
  'type',
  'account_id',
  'phone',
  'amount_ml',
  'kiosk_id',
  'dispenser_id',
  'source_id',
  'synced',
] as const;

interface TransactionRow {
  occurred_at: number;
  event_id: string;
  type: string;
  account_id: string | null;
  phone: string | null;
  amount_ml: number;
  kiosk_id: string | null;
  dispenser_id: string | null;
  source_id: string | null;
  acked: number;
}

/** Text a spreadsheet would run as a formula; E.164 phones (+2547…) and numbers are left alone. */
const FORMULA_START = /^(?:[=@\t\r]|[+-][^0-9])/;

/** RFC 4180 quoting, with formula-like text defused by a leading quote. */
function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows per page: each page is one complete statement, so no cursor stays open between pages. */
const PAGE_ROWS = 500;

/**
 * Balance-changing ledger events in [from, to) as CSV text (a page of lines per chunk), in the
 * ledger's order (the order this kiosk recorded them), read in pages by seq. A statement left open
 * across event-loop turns (an `.iterate()` cursor while a slow client downloads) would make every
 * write on this connection fail with "connection is busy", i.e. stop every dispense; pages never
 * hold the connection.
 */
export function* transactionsCsv(db: Database, from: number, to: number): Generator<string> {
  yield `${COLUMNS.join(',')}\r\n`;
  const types = Object.fromEntries(BALANCE_EVENT_TYPES.map((type, i) => [`type${i}`, type]));
  const page = db.prepare<[Record<string, unknown>], TransactionRow & { seq: number }>(
    `SELECT e.seq, e.occurred_at, e.event_id, e.type, e.account_id, c.phone, e.amount_ml, e.kiosk_id, e.dispenser_id, e.source_id,
            NOT ${UNACKED_SQL} AS acked
       FROM ledger_events e NOT INDEXED LEFT JOIN customers c USING (account_id)
      WHERE e.seq > @after AND ${inTimeRangeSql('e')} AND e.type IN (${Object.keys(types)
        .map((name) => `@${name}`)
        .join(', ')})
      ORDER BY e.seq LIMIT ${PAGE_ROWS}`,
  );
  const range = { ...timeRange(from, to), ...types };
  // Keyset: after the last row of each page.
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = page.all({ ...range, after });
    if (rows.length > 0) yield rows.map(csvLine).join('');
    const last = rows.at(-1);
    if (!last || rows.length < PAGE_ROWS) return;
    after = last.seq;
  }
}

function csvLine(row: TransactionRow): string {
  const cells = [
    new Date(row.occurred_at).toISOString(),
    row.event_id,
    row.type,
    row.account_id,
    row.phone,
    row.amount_ml,
    row.kiosk_id,
    row.dispenser_id,
    row.source_id,
    row.acked === 1 ? 'yes' : 'no',
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}
