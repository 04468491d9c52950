import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { audit } from '../admin/adjustments.js';
import { findCustomer } from '../customers/customers.js';
import { CloudError } from '../errors.js';
import { lockCustomerChanges } from '../ledger/ledger.js';
import type { SmsSender } from '../sms/sender.js';
import type { Db } from '../store/db.js';
import { checkCode, issueCode, spendCode } from './customer-codes.js';

/**
 * An operator's PIN reset: the customer gets a one-time code by SMS and sets a new PIN with it
 * on USSD (PIN menu: the code instead of the old PIN). The operator never sees the code or a PIN.
 */
export async function startPinReset(
  db: Db,
  sms: SmsSender,
  input: { accountId: string; operator: string; ussdCode: string },
): Promise<void> {
  const customer = await findCustomer(db, input.accountId);
  if (!customer) throw new CloudError('UNKNOWN_ACCOUNT', `no customer ${input.accountId}`);
  const code = await db.transaction(async (tx) => {
    const issued = await issueCode(tx, {
      accountId: customer.account_id,
      purpose: 'pin_reset',
      operator: input.operator,
    });
    await audit(tx, input.operator, 'customer.pin_reset', customer.account_id, {});
    return issued;
  });
  const message =
    customer.language === 'sw'
      ? `Tusafishe: namba yako ya kubadili PIN ni ${code} (dakika 15). Piga ${input.ussdCode}, chagua 3 na uiweke badala ya PIN ya zamani.`
      : `Tusafishe: your PIN reset code is ${code} (15 min). Dial ${input.ussdCode}, choose 3 and enter it instead of your old PIN.`;
  await sms.send(customer.phone, message);
}

/**
 * Sets the new PIN with a reset code, spending the code, and clears a PIN lockout: the customer
 * can use the new PIN at every kiosk once gateways pull the change. False when the code is no
 * longer good (spent, expired, replaced).
 */
export async function redeemPinReset(db: Db, accountId: string, code: string, pin: string): Promise<boolean> {
  const pinHash = await hashSecret(pin);
  return db.transaction(async (tx) => {
    await lockCustomerChanges(tx);
    const open = await checkCode(tx, accountId, 'pin_reset', code, false);
    if (!open || !(await spendCode(tx, open.codeId))) return false;
    await tx.query(
      `UPDATE customers SET pin_hash = $2, pin_failures = 0, locked_until = NULL,
         status = CASE WHEN status = 'inactive' THEN 'active' ELSE status END
       WHERE account_id = $1`,
      [accountId, pinHash],
    );
    await audit(tx, 'customer', 'customer.pin_reset.redeemed', accountId, { channel: 'ussd' });
    return true;
  });
}
