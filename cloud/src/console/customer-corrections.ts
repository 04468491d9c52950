import { newId } from '@tusafishe/protocol';
import { audit } from '../admin/adjustments.js';
import { findCustomer, findCustomerByPhone } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import { appendEvents, balancesOf, lockCustomerChanges, type Balance } from '../ledger/ledger.js';
import type { SmsSender } from '../sms/sender.js';
import type { Db } from '../store/db.js';
import { checkCode, issueCode, spendCode } from './customer-codes.js';

/**
 * A disputed dispense corrected: a `reversal` ledger event giving back what the dispense took,
 * referencing it (`source_id` = its event id, unique per type, so at most once per dispense).
 * The customer's balance and version move with it, so every gateway pulls the new balance.
 */
export async function reverseDispense(
  db: Db,
  input: { accountId: string; eventId: string; reason: string; operator: string; capMl: number | null },
): Promise<{ eventId: string; amountMl: number; balance: Balance }> {
  return db.transaction(async (tx) => {
    await lockCustomerChanges(tx);
    const [disputed] = await tx.query<{ amount_ml: number; reversed: boolean }>(
      `SELECT e.amount_ml, EXISTS (SELECT 1 FROM ledger_events r WHERE r.type = 'reversal' AND r.source_id = $2) AS reversed
         FROM ledger_events e WHERE e.event_id = $2::uuid AND e.account_id = $1 AND e.type = 'dispense'`,
      [input.accountId, input.eventId],
    );
    if (!disputed) throw new CloudError('UNKNOWN_EVENT', `no dispense ${input.eventId} of ${input.accountId}`);
    if (disputed.reversed) throw new CloudError('ALREADY_REVERSED', `dispense ${input.eventId} is already reversed`);
    const amountMl = -Number(disputed.amount_ml);
    if (input.capMl !== null && amountMl > input.capMl)
      throw new CloudError('CORRECTION_OVER_CAP', `corrections above ${input.capMl} mL need an admin`);
    const eventId = newId();
    await appendEvents(tx, [
      {
        event_id: eventId,
        type: 'reversal',
        account_id: input.accountId,
        amount_ml: amountMl,
        source_id: input.eventId,
        occurred_at: Date.now(),
        details: { reason: input.reason, operator: input.operator, reverses: input.eventId },
      },
    ]);
    await audit(tx, input.operator, 'ledger.reverse', input.accountId, {
      event_id: eventId,
      reverses: input.eventId,
      amount_ml: amountMl,
      reason: input.reason,
    });
    return { eventId, amountMl, balance: (await balancesOf(tx, [input.accountId]))[0]! };
  });
}

/** Sends a code to the new number; the change happens when the operator types it back (`confirmPhoneChange`). */
export async function startPhoneChange(
  db: Db,
  sms: SmsSender,
  input: { accountId: string; newPhone: string; operator: string },
): Promise<void> {
  if (!(await findCustomer(db, input.accountId)))
    throw new CloudError('UNKNOWN_ACCOUNT', `no customer ${input.accountId}`);
  if (await findCustomerByPhone(db, input.newPhone))
    throw new CloudError('ALREADY_REGISTERED', `${input.newPhone} is already registered`);
  const code = await db.transaction(async (tx) => {
    const issued = await issueCode(tx, { ...input, purpose: 'phone_change' });
    await audit(tx, input.operator, 'customer.phone_change.start', input.accountId, { new_phone: input.newPhone });
    return issued;
  });
  await sms.send(input.newPhone, `Tusafishe: your code to move your water account to this number is ${code} (15 min).`);
}

/** The customer read the code from the new phone: the account moves to it, at every kiosk. */
export async function confirmPhoneChange(
  db: Db,
  input: { accountId: string; code: string; operator: string },
): Promise<string> {
  // Checked outside the transaction so a wrong code's try is counted even though nothing changes.
  const open = await checkCode(db, input.accountId, 'phone_change', input.code, true);
  if (!open?.newPhone) throw new CloudError('WRONG_CODE', 'wrong or expired code');
  const newPhone = open.newPhone;
  return db.transaction(async (tx) => {
    await lockCustomerChanges(tx);
    if (!(await spendCode(tx, open.codeId))) throw new CloudError('WRONG_CODE', 'wrong or expired code');
    if (await findCustomerByPhone(tx, newPhone))
      throw new CloudError('ALREADY_REGISTERED', `${newPhone} is already registered`);
    await tx.query('UPDATE customers SET phone = $2 WHERE account_id = $1', [input.accountId, newPhone]);
    await audit(tx, input.operator, 'customer.phone_change', input.accountId, { new_phone: newPhone });
    return newPhone;
  });
}
