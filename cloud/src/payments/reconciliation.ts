import { audit } from '../admin/adjustments.js';
import { toCsv } from '../http/csv.js';
import type { Db } from '../store/db.js';
import type { PaymentService, PaymentStatus } from './payments.js';
import { ProviderError, type ProviderName } from './provider.js';

/** What kind of disagreement a reconciliation line shows. */
type MismatchKind =
  /** We credited it; the provider says it did not collect. */
  | 'credited_not_collected'
  /** The provider collected; we had not credited it (pending, failed or expired). */
  | 'collected_not_credited'
  /** The provider reports another amount or currency than we asked for. */
  | 'amount_differs'
  /** The provider could not be asked (timeouts, errors): not verified. */
  | 'unverified';

interface ReconciliationLine {
  payment_id: string;
  provider: ProviderName;
  account_id: string;
  amount_minor: number;
  currency: string;
  created_at: string;
  our_status: PaymentStatus;
  provider_status: 'successful' | 'failed' | 'pending' | 'not_found' | 'error';
  provider_amount_minor: number | null;
  kind: MismatchKind;
  /** `credited`: a collected_not_credited payment credited now, through the late-callback path. */
  resolution: 'credited' | 'none';
}

export interface Reconciliation {
  date: string;
  provider: ProviderName | 'all';
  time_zone: string;
  checked: number;
  mismatches: ReconciliationLine[];
}

interface Row {
  payment_id: string;
  provider: ProviderName;
  account_id: string;
  amount_minor: number;
  currency: string;
  created_at: string;
  status: PaymentStatus;
}

/**
 * A day's payments (created on `date` in `timeZone`), ours against what each provider's status
 * query says now. A payment the provider collected and we did not credit is credited once, by
 * `settle` (the path a late callback takes), and the credit goes to the audit log with the operator.
 */
export async function reconcile(
  db: Db,
  payments: PaymentService,
  input: { date: string; provider?: ProviderName; timeZone: string; operator: string },
): Promise<Reconciliation> {
  const rows = await db.query<Row>(
    `SELECT payment_id::text AS payment_id, provider, account_id, amount_minor, currency, created_at::text, status
     FROM payments WHERE channel = 'request' AND ($2::text IS NULL OR provider = $2)
       AND created_at >= ($1::date::timestamp AT TIME ZONE $3) AND created_at < (($1::date + 1)::timestamp AT TIME ZONE $3)
     ORDER BY created_at`,
    [input.date, input.provider ?? null, input.timeZone],
  );
  const mismatches: ReconciliationLine[] = [];
  for (const row of rows) {
    const line = await compare(payments, row);
    if (!line) continue;
    if (line.kind === 'collected_not_credited' && (await payments.settle(row.payment_id)) === 'credited') {
      line.resolution = 'credited';
      await audit(db, input.operator, 'payment.reconcile.credit', row.payment_id, {
        date: input.date,
        provider: row.provider,
        account_id: row.account_id,
        amount_minor: Number(row.amount_minor),
        currency: row.currency,
        was: row.status,
      });
    }
    mismatches.push(line);
  }
  return {
    date: input.date,
    provider: input.provider ?? 'all',
    time_zone: input.timeZone,
    checked: rows.length,
    mismatches,
  };
}

async function compare(payments: PaymentService, row: Row): Promise<ReconciliationLine | undefined> {
  const base = {
    payment_id: row.payment_id,
    provider: row.provider,
    account_id: row.account_id,
    amount_minor: Number(row.amount_minor),
    currency: row.currency,
    created_at: row.created_at,
    our_status: row.status,
    provider_amount_minor: null,
    resolution: 'none' as const,
  };
  let said: ReconciliationLine['provider_status'];
  let reportedMinor: number | undefined;
  let reportedCurrency: string | undefined;
  try {
    const status = await payments.providerStatus(row.payment_id);
    said = status.status;
    reportedMinor = status.amountMinor;
    reportedCurrency = status.currency;
  } catch (error) {
    said = error instanceof ProviderError && error.kind === 'not-found' ? 'not_found' : 'error';
  }
  const line = (kind: MismatchKind): ReconciliationLine => ({
    ...base,
    provider_status: said,
    provider_amount_minor: reportedMinor ?? null,
    kind,
  });
  if (said === 'error') return row.status === 'pending' ? undefined : line('unverified');
  if (row.status === 'mismatch') return line('amount_differs');
  if (said === 'successful') {
    if (
      (reportedMinor !== undefined && reportedMinor !== base.amount_minor) ||
      (reportedCurrency && reportedCurrency !== row.currency)
    )
      return line('amount_differs');
    return row.status === 'successful' ? undefined : line('collected_not_credited');
  }
  return row.status === 'successful' ? line('credited_not_collected') : undefined;
}

const CSV_COLUMNS: (keyof ReconciliationLine)[] = [
  'payment_id',
  'provider',
  'account_id',
  'amount_minor',
  'currency',
  'created_at',
  'our_status',
  'provider_status',
  'provider_amount_minor',
  'kind',
  'resolution',
];

/** The mismatches as CSV (RFC 4180), one line per payment, a header first. */
export function reconciliationCsv(result: Reconciliation): string {
  return toCsv(CSV_COLUMNS, result.mismatches);
}
