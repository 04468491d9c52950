import { CloudError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { createCustomer, findCustomerByPhone, type NewCustomer } from './customers.js';

/** Registers a phone; a phone already registered is not an error for the customer, it shows their account. */
export async function register(
  db: Queryable,
  input: NewCustomer,
): Promise<{ accountId: string; alreadyRegistered: boolean }> {
  try {
    return { accountId: (await createCustomer(db, input)).account_id, alreadyRegistered: false };
  } catch (error) {
    if (!(error instanceof CloudError && error.code === 'ALREADY_REGISTERED')) throw error;
    const existing = await findCustomerByPhone(db, input.phone);
    return { accountId: existing!.account_id, alreadyRegistered: true };
  }
}
