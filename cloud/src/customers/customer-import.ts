import * as z from 'zod';
import { AccountId, ProtocolError, type CustomerStatus } from '@tusafishe/protocol';
import { newTokenKey } from '@tusafishe/protocol/keypad-token';
import { normalisePhone, type CountryCode } from '@tusafishe/protocol/phone';
import { audit } from '../admin/adjustments.js';
import { appendEvents, lockCustomerChanges } from '../ledger/ledger.js';
import type { Db, Queryable } from '../store/db.js';
import { newAccountId } from './account-id.js';
import { findCustomer, findCustomerByPhone } from './customers.js';

/**
 * Importing customers from another system, shared by `provisioning customers import-appwrite`
 * and the console's CSV import: the same field checks, one transaction per customer, the same
 * idempotency (an opening-balance event whose id the source line determines) and the same report.
 */

/** Why a source line is not imported; stable codes for the report. */
export const SKIP_REASONS = [
  'invalid_document',
  'invalid_line',
  'invalid_phone',
  'missing_pin',
  'invalid_pin',
  'invalid_credits',
  'credits_over_cap',
  'duplicate_phone',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** A customer as a source gives it, checked; never holds a PIN in clear beyond the caller's hashing. */
export interface CustomerCandidate {
  /** The source line's id in reports: an Appwrite document id, a CSV line number. */
  sourceId: string;
  /** How messages name the source line: `document a-1`, `line 3`. */
  sourceLabel: string;
  phone: string;
  name: string;
  status: CustomerStatus;
  /** The old account id when customers can keep typing it; else the cloud draws a new one. */
  wantedAccountId: string | undefined;
  /** Why the old account id cannot be kept (reported), when there was one. */
  accountIdProblem: string | undefined;
  creditsMl: number;
  createdAt: Date | undefined;
}

/** The fields every source has, before checking. */
export interface CustomerFields {
  phone: string | number | null | undefined;
  name: string | null | undefined;
  credits: unknown;
  accountId: string | null | undefined;
}

export type FieldsResult =
  | {
      ok: true;
      fields: Pick<CustomerCandidate, 'phone' | 'name' | 'creditsMl' | 'wantedAccountId' | 'accountIdProblem'>;
    }
  | { ok: false; reason: SkipReason; message: string };

// Limits of a ledger event's amount and the cloud's integer column.
const Credits = z.int().min(-1_000_000_000).max(1_000_000_000);
const NAME_MAX = 80;

/** Checks the phone (E.164; local forms read in `region`), name, credits (whole mL) and old account id. */
export function checkCustomerFields(input: CustomerFields, region: CountryCode): FieldsResult {
  if (input.phone === null || input.phone === undefined || String(input.phone).trim() === '')
    return { ok: false, reason: 'invalid_phone', message: 'no phone number' };
  let phone: string;
  try {
    phone = normalisePhone(String(input.phone), region);
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, reason: 'invalid_phone', message: error.message };
    throw error;
  }
  const credits = Credits.safeParse(input.credits ?? 0);
  if (!credits.success)
    return { ok: false, reason: 'invalid_credits', message: 'credits are not a whole number of mL' };
  const account = keepableAccountId(input.accountId);
  return {
    ok: true,
    fields: {
      phone,
      name: (input.name ?? '').trim().slice(0, NAME_MAX),
      creditsMl: credits.data,
      wantedAccountId: account.id,
      accountIdProblem: account.problem,
    },
  };
}

/** An old id is kept (upper-cased) when it is a valid account id on the wire; whether it is free is checked on import. */
function keepableAccountId(raw: string | null | undefined): { id: string | undefined; problem: string | undefined } {
  if (raw === null || raw === undefined || raw.trim() === '') return { id: undefined, problem: undefined };
  const id = raw.trim().toUpperCase();
  if (!AccountId.safeParse(id).success)
    return { id: undefined, problem: `old account id "${raw}" is not 4–16 letters and digits` };
  return { id, problem: undefined };
}

export type ImportOutcome =
  | { kind: 'imported'; accountId: string; accountIdNote: string | undefined; creditsMl: number }
  | { kind: 'already_imported'; accountId: string }
  | { kind: 'skipped'; reason: SkipReason; message: string };

/** Phones (→ the label of the line that has it) and account ids this run has given out, so a later line, dry or not, sees them. */
export interface RunClaims {
  phones: Map<string, string>;
  accountIds: Set<string>;
}

export const newRunClaims = (): RunClaims => ({ phones: new Map(), accountIds: new Set() });

/** Which of these source lines an earlier run imported: source id → account id. */
export async function importedBefore(
  db: Queryable,
  eventIds: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  const byEvent = new Map([...eventIds].map(([sourceId, eventId]) => [eventId, sourceId]));
  const rows = await db.query<{ event_id: string; account_id: string }>(
    'SELECT event_id::text AS event_id, account_id FROM ledger_events WHERE event_id = ANY($1::uuid[])',
    [[...byEvent.keys()]],
  );
  return new Map(rows.map((row) => [byEvent.get(row.event_id)!, row.account_id]));
}

/** How one candidate is imported: its opening-balance event id (the idempotency key), who, why. */
export interface ImportContext {
  /** Same source line → same id (UUIDv5), so a re-run finds it imported. */
  eventId: string;
  /** Salted hash of the PIN, or '' when the customer sets one by USSD (the account stays inactive until then). */
  pinHash: string;
  operator: string;
  /** Reason on the opening-balance event and in the audit line, with where it came from. */
  details: { reason: string } & Record<string, unknown>;
  dryRun: boolean;
  claims: RunClaims;
}

class DryRunRollback extends Error {
  constructor(readonly outcome: ImportOutcome) {
    super('dry run');
  }
}

/**
 * Creates one customer and its opening balance (one `adjustment` event) in one transaction: all
 * of it or nothing. A dry run does the same work and rolls back, so it sees what the real run would.
 */
export async function importCandidate(
  db: Db,
  candidate: CustomerCandidate,
  context: ImportContext,
): Promise<ImportOutcome> {
  const claimedBy = context.claims.phones.get(candidate.phone);
  if (claimedBy !== undefined) {
    return {
      kind: 'skipped',
      reason: 'duplicate_phone',
      message: `${candidate.phone} is also on ${claimedBy}, imported first`,
    };
  }
  try {
    const outcome = await db.transaction(async (tx) => {
      await lockCustomerChanges(tx);
      const earlier = await tx.query<{ account_id: string }>(
        'SELECT account_id FROM ledger_events WHERE event_id = $1',
        [context.eventId],
      );
      if (earlier[0]) return { kind: 'already_imported', accountId: earlier[0].account_id } as const;
      const owner = await findCustomerByPhone(tx, candidate.phone);
      if (owner) {
        return {
          kind: 'skipped',
          reason: 'duplicate_phone',
          message: `${candidate.phone} already belongs to cloud account ${owner.account_id}`,
        } as const;
      }
      const imported = await insertCandidate(tx, candidate, context);
      if (context.dryRun) throw new DryRunRollback(imported);
      return imported;
    });
    claim(context.claims, candidate, outcome);
    return outcome;
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
    claim(context.claims, candidate, error.outcome);
    return error.outcome;
  }
}

async function insertCandidate(
  tx: Queryable,
  candidate: CustomerCandidate,
  context: ImportContext,
): Promise<ImportOutcome> {
  const { accountId, note } = await chooseAccountId(tx, candidate, context.claims);
  await tx.query(
    `INSERT INTO customers (account_id, phone, name, pin_hash, status, created_at, token_key)
     VALUES ($1, $2, $3, $4, $5, coalesce($6, now()), $7)`,
    [
      accountId,
      candidate.phone,
      candidate.name,
      context.pinHash,
      candidate.status,
      candidate.createdAt ?? null,
      newTokenKey(),
    ],
  );
  const details = { ...context.details, operator: context.operator };
  await appendEvents(tx, [
    {
      event_id: context.eventId,
      type: 'adjustment',
      account_id: accountId,
      amount_ml: candidate.creditsMl,
      occurred_at: Date.now(),
      details,
    },
  ]);
  await audit(tx, context.operator, 'customer.import', accountId, {
    ...details,
    event_id: context.eventId,
    opening_balance_ml: candidate.creditsMl,
  });
  return { kind: 'imported', accountId, accountIdNote: note, creditsMl: candidate.creditsMl };
}

export function claim(claims: RunClaims, candidate: CustomerCandidate, outcome: ImportOutcome): void {
  if (outcome.kind === 'skipped') return;
  claims.phones.set(candidate.phone, candidate.sourceLabel);
  claims.accountIds.add(outcome.accountId);
}

async function chooseAccountId(
  tx: Queryable,
  candidate: CustomerCandidate,
  claims: RunClaims,
): Promise<{ accountId: string; note: string | undefined }> {
  const wanted = candidate.wantedAccountId;
  if (wanted !== undefined && !claims.accountIds.has(wanted) && !(await findCustomer(tx, wanted)))
    return { accountId: wanted, note: undefined };
  const note =
    wanted !== undefined ? `old account id ${wanted} is taken` : (candidate.accountIdProblem ?? 'no old account id');
  for (;;) {
    const drawn = newAccountId();
    if (!claims.accountIds.has(drawn) && !(await findCustomer(tx, drawn))) return { accountId: drawn, note };
  }
}
