import { v5 as uuidv5 } from 'uuid';
import { newTokenKey } from '@tusafishe/protocol/keypad-token';
import {
  audit,
  newAccountId,
  findCustomer,
  findCustomerByPhone,
  appendEvents,
  lockCustomerChanges,
  type Db,
  type Queryable,
} from '@tusafishe/cloud/provisioning';
import type { CustomerCandidate, SkipReason } from './appwrite-customer.js';

const IMPORT_REASON = 'import from Appwrite';
const IMPORT_OPERATOR = 'provisioning';

/** Namespace of opening-balance event ids (UUIDv5): the same document always yields the same event id. */
const OPENING_BALANCE_NAMESPACE = '6f0b7c1e-3a52-5d8e-9c47-2b1e8f4d0a93';

/** Where a document comes from, so documents of different collections never share an event id. */
export interface DocumentOrigin {
  project: string;
  database: string;
  collection: string;
}

export function openingBalanceEventId(origin: DocumentOrigin, documentId: string): string {
  return uuidv5(
    `appwrite:${origin.project}/${origin.database}/${origin.collection}/${documentId}`,
    OPENING_BALANCE_NAMESPACE,
  );
}

export type ImportOutcome =
  | { kind: 'imported'; accountId: string; accountIdNote: string | undefined; creditsMl: number }
  | { kind: 'already_imported'; accountId: string }
  | { kind: 'skipped'; reason: SkipReason; message: string };

/** Phones and account ids this run has given out (imported or found imported), so a later document of the run, dry or not, sees them. */
export interface RunClaims {
  phones: Map<string, string>;
  accountIds: Set<string>;
}

/** Which of these documents an earlier run imported: document id → account id. */
export async function importedBefore(
  db: Queryable,
  eventIds: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  const byEvent = new Map([...eventIds].map(([documentId, eventId]) => [eventId, documentId]));
  const rows = await db.query<{ event_id: string; account_id: string }>(
    'SELECT event_id::text AS event_id, account_id FROM ledger_events WHERE event_id = ANY($1::uuid[])',
    [[...byEvent.keys()]],
  );
  return new Map(rows.map((row) => [byEvent.get(row.event_id)!, row.account_id]));
}

class DryRunRollback extends Error {
  constructor(readonly outcome: ImportOutcome) {
    super('dry run');
  }
}

/**
 * Creates one customer and its opening balance (one `adjustment` event whose id is derived from
 * the document) in one transaction: all of it or nothing. A dry run does the same work and rolls back.
 */
export async function importCandidate(
  db: Db,
  candidate: CustomerCandidate,
  pinHash: string,
  origin: DocumentOrigin,
  options: { dryRun: boolean; claims: RunClaims },
): Promise<ImportOutcome> {
  const eventId = openingBalanceEventId(origin, candidate.documentId);
  const claimedBy = options.claims.phones.get(candidate.phone);
  if (claimedBy !== undefined) {
    return {
      kind: 'skipped',
      reason: 'duplicate_phone',
      message: `${candidate.phone} is also on document ${claimedBy}, imported first`,
    };
  }
  try {
    const outcome = await db.transaction(async (tx) => {
      await lockCustomerChanges(tx);
      const earlier = await tx.query<{ account_id: string }>(
        'SELECT account_id FROM ledger_events WHERE event_id = $1',
        [eventId],
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
      const { accountId, note } = await chooseAccountId(tx, candidate, options.claims);
      await tx.query(
        `INSERT INTO customers (account_id, phone, name, pin_hash, status, created_at, token_key)
         VALUES ($1, $2, $3, $4, $5, coalesce($6, now()), $7)`,
        [
          accountId,
          candidate.phone,
          candidate.name,
          pinHash,
          candidate.status,
          candidate.createdAt ?? null,
          newTokenKey(),
        ],
      );
      const details = { reason: IMPORT_REASON, operator: IMPORT_OPERATOR, appwrite_document_id: candidate.documentId };
      await appendEvents(tx, [
        {
          event_id: eventId,
          type: 'adjustment',
          account_id: accountId,
          amount_ml: candidate.creditsMl,
          occurred_at: Date.now(),
          details,
        },
      ]);
      await audit(tx, IMPORT_OPERATOR, 'customer.import', accountId, {
        ...details,
        event_id: eventId,
        opening_balance_ml: candidate.creditsMl,
      });
      const imported: ImportOutcome = {
        kind: 'imported',
        accountId,
        accountIdNote: note,
        creditsMl: candidate.creditsMl,
      };
      if (options.dryRun) throw new DryRunRollback(imported);
      return imported;
    });
    claim(options.claims, candidate, outcome);
    return outcome;
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
    claim(options.claims, candidate, error.outcome);
    return error.outcome;
  }
}

export function claim(claims: RunClaims, candidate: CustomerCandidate, outcome: ImportOutcome): void {
  if (outcome.kind === 'skipped') return;
  claims.phones.set(candidate.phone, candidate.documentId);
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
