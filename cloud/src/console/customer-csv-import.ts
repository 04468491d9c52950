import { CsvError, parse } from 'csv-parse/sync';
import { v5 as uuidv5 } from 'uuid';
import type { CountryCode } from '@tusafishe/protocol/phone';
import { audit } from '../admin/adjustments.js';
import {
  checkCustomerFields,
  importCandidate,
  newRunClaims,
  type CustomerCandidate,
  type ImportOutcome,
} from '../customers/customer-import.js';
import { ImportReport } from '../customers/import-report.js';
import { CloudError } from '../errors.js';
import type { Db } from '../store/db.js';

/** The columns a customers CSV may have (header row, any order, any case); only `phone` is required. */
export const CSV_COLUMNS = ['phone', 'name', 'credit_ml', 'account_id'] as const;
type Column = (typeof CSV_COLUMNS)[number];
/** Customers per file: one transaction each, so an upload answers within a request's time. */
export const MAX_CSV_CUSTOMERS = 2_000;

/** Namespace of CSV opening-balance event ids (UUIDv5 of the phone): a phone is imported once, from any file. */
const CSV_IMPORT_NAMESPACE = '0d6f3c9a-8b21-5e47-a3f0-6c2d9e71b854';
const IMPORT_REASON = 'import from CSV';

export interface CsvImportOptions {
  operator: string;
  dryRun: boolean;
  /** Country whose local forms (0700…) the phones use. */
  region: CountryCode;
  /** Largest opening balance (mL) a line may give; null: no cap (admin). */
  capMl: number | null;
}

interface CsvLine {
  line: number;
  fields: string[];
}

/** Header → column positions; an unknown or repeated column refuses the file (a typo must not drop credits). */
function headerColumns(header: readonly string[]): Map<Column, number> {
  const positions = new Map<Column, number>();
  header.forEach((raw, index) => {
    const name = raw.trim().toLowerCase();
    if (!(CSV_COLUMNS as readonly string[]).includes(name))
      throw new CloudError('INVALID_CSV', `unknown column "${raw}"; the columns are ${CSV_COLUMNS.join(', ')}`);
    if (positions.has(name as Column)) throw new CloudError('INVALID_CSV', `column "${name}" appears twice`);
    positions.set(name as Column, index);
  });
  if (!positions.has('phone')) throw new CloudError('INVALID_CSV', 'the header row has no "phone" column');
  return positions;
}

function readCsv(text: string): { columns: Map<Column, number>; lines: CsvLine[] } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // The typings do not know `info: true` wraps each record with where it ends.
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) throw new CloudError('INVALID_CSV', `not CSV: ${error.message}`);
    throw error;
  }
  const [header, ...rows] = records;
  if (!header)
    throw new CloudError('INVALID_CSV', `an empty file; the first row names the columns: ${CSV_COLUMNS.join(',')}`);
  if (rows.length > MAX_CSV_CUSTOMERS)
    throw new CloudError('INVALID_CSV', `${rows.length} customers; at most ${MAX_CSV_CUSTOMERS} a file`);
  return {
    columns: headerColumns(header.record),
    lines: rows.map(({ record, info }) => ({ line: info.lines, fields: record })),
  };
}

type LineResult = { candidate: CustomerCandidate } | { outcome: Extract<ImportOutcome, { kind: 'skipped' }> };

/** One data line checked as the Appwrite import checks a document (shared `checkCustomerFields`), plus the cap. */
function checkLine(line: CsvLine, columns: Map<Column, number>, options: CsvImportOptions): LineResult {
  const skipped = (reason: Extract<ImportOutcome, { kind: 'skipped' }>['reason'], message: string): LineResult => ({
    outcome: { kind: 'skipped', reason, message },
  });
  if (line.fields.length !== columns.size)
    return skipped('invalid_line', `${line.fields.length} fields where the header has ${columns.size}`);
  const field = (column: Column): string | undefined => {
    const index = columns.get(column);
    return index === undefined ? undefined : line.fields[index]!.trim();
  };
  const credit = field('credit_ml') || '0';
  const checked = checkCustomerFields(
    {
      phone: field('phone'),
      name: field('name'),
      // Only plain whole numbers: "1e3" or "1,000" are refused, not guessed at.
      credits: /^-?[0-9]{1,10}$/.test(credit) ? Number(credit) : credit,
      accountId: field('account_id'),
    },
    options.region,
  );
  if (!checked.ok) return skipped(checked.reason, checked.message);
  if (options.capMl !== null && Math.abs(checked.fields.creditsMl) > options.capMl)
    return skipped('credits_over_cap', `${checked.fields.creditsMl} mL is over your cap of ${options.capMl} mL`);
  return {
    candidate: {
      ...checked.fields,
      sourceId: String(line.line),
      sourceLabel: `line ${line.line}`,
      // No PIN ever comes through an operator: the customer sets one by USSD (menu 3), which activates the account.
      status: 'inactive',
      createdAt: undefined,
    },
  };
}

/**
 * Imports customers from CSV text: each line checked, then one transaction per customer (with its
 * opening balance and audit line), a line already imported from any file is found again by its
 * phone and not imported twice. A dry run rolls every transaction back. Answers the report.
 */
export async function importCustomersCsv(db: Db, text: string, options: CsvImportOptions): Promise<ImportReport> {
  const { columns, lines } = readCsv(text);
  const report = new ImportReport(options.dryRun);
  const claims = newRunClaims();
  for (const line of lines) {
    const checked = checkLine(line, columns, options);
    const outcome =
      'outcome' in checked
        ? checked.outcome
        : await importCandidate(db, checked.candidate, {
            eventId: uuidv5(`console-csv:${checked.candidate.phone}`, CSV_IMPORT_NAMESPACE),
            pinHash: '',
            operator: options.operator,
            details: { reason: IMPORT_REASON, csv_line: line.line },
            dryRun: options.dryRun,
            claims,
          });
    report.record(String(line.line), 'candidate' in checked ? checked.candidate.phone : undefined, outcome);
  }
  if (!options.dryRun) await audit(db, options.operator, 'customers.import_csv', 'customers', { ...report.summary });
  return report;
}
