import { recordAdjustment } from '../src/admin/adjustments.js';
import type { RunningCloud } from '../src/cloud.js';
import { createCustomer, type Customer } from '../src/customers/customers.js';

/** A customer with `creditMl` of water credited by an operator's adjustment (none when 0). */
export async function creditedCustomer(
  cloud: RunningCloud,
  customer: Parameters<typeof createCustomer>[1],
  creditMl: number,
): Promise<Customer> {
  const created = await createCustomer(cloud.db, customer);
  if (creditMl)
    await recordAdjustment(cloud.db, {
      accountId: created.account_id,
      amountMl: creditMl,
      reason: 'test credit',
      operator: 'test',
    });
  return created;
}
