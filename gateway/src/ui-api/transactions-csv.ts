import type { Database } from 'better-sqlite3';
import { BALANCE_EVENT_TYPES } from '@tusafishe/protocol';

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
  acked_at: number | null;
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

/** Balance-changing ledger events in [from, to) as CSV lines, oldest first, streamed row by row. */
export function* transactionsCsv(db: Database, from: number, to: number): Generator<string> {
  yield `${COLUMNS.join(',')}\r\n`;
  const placeholders = BALANCE_EVENT_TYPES.map(() => '?').join(', ');
  const rows = db
    .prepare(
      `SELECT e.occurred_at, e.event_id, e.type, e.account_id, c.phone, e.amount_ml, e.kiosk_id, e.dispenser_id, e.source_id, e.acked_at
         FROM ledger_events e LEFT JOIN customers c USING (account_id)
        WHERE e.type IN (${placeholders}) AND e.occurred_at >= ? AND e.occurred_at < ? ORDER BY e.occurred_at, e.seq`,
    )
    .iterate(...BALANCE_EVENT_TYPES, from, to) as IterableIterator<TransactionRow>;
  for (const row of rows) {
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
      row.acked_at === null ? 'no' : 'yes',
    ];
    yield `${cells.map(csvCell).join(',')}\r\n`;
  }
}
