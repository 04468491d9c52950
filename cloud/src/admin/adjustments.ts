import { newId } from '@tusafishe/protocol';
import { appendEvents, balancesOf, lockCustomerChanges, type Balance } from '../ledger/ledger.js';
import type { Db, Queryable } from '../store/db.js';

export async function audit(
  db: Queryable,
  actor: string,
  action: string,
  subject: string,
  details: Record<string, unknown>,
): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [
    actor,
    action,
    subject,
    JSON.stringify(details),
  ]);
}

export interface Adjustment {
  accountId: string;
  amountMl: number;
  reason: string;
  operator: string;
}

/** An operator's correction: one `adjustment` ledger event plus an audit entry, in one transaction. */
export async function recordAdjustment(db: Db, adjustment: Adjustment): Promise<{ eventId: string; balance: Balance }> {
  const eventId = newId();
  const { accountId, amountMl, reason, operator } = adjustment;
  const balance = await db.transaction(async (tx) => {
    await lockCustomerChanges(tx);
    await appendEvents(tx, [
      {
        event_id: eventId,
        type: 'adjustment',
        account_id: accountId,
        amount_ml: amountMl,
        occurred_at: Date.now(),
        details: { reason, operator },
      },
    ]);
    await audit(tx, operator, 'ledger.adjust', accountId, { event_id: eventId, amount_ml: amountMl, reason });
    return (await balancesOf(tx, [accountId]))[0]!;
  });
  return { eventId, balance };
}
