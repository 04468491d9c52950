import type { CustomerRecord } from '@tusafishe/protocol';
import type { Db } from './database.js';

/** A following is extended only when it would run out within this: at most a write a customer a day. */
const REFRESH_WITHIN_MS = 24 * 60 * 60_000;

/**
 * The customers whose balances this kiosk follows (migration 717; ARCHITECTURE §7, option 1): those
 * allowed only at some kiosks including this one, and those it served lately. Their every change
 * is written to the replica; anyone else's balance-only change is not, so their stored balance may
 * be stale and is not trusted (`DispenseFlow.knowBalance`).
 */
export class FollowedCustomers {
  private readonly until;
  private readonly extend;

  constructor(db: Db) {
    this.until = db.prepare<[string], number>('SELECT until FROM followed_customers WHERE account_id = ?').pluck();
    this.extend = db.prepare<[{ account_id: string; until: number; refresh_before: number }]>(`
      INSERT INTO followed_customers (account_id, until) VALUES (@account_id, @until)
      ON CONFLICT (account_id) DO UPDATE SET until = excluded.until WHERE followed_customers.until < @refresh_before`);
  }

  /** Follows these customers until `until` (a following that runs out later than a day before it is kept). */
  follow(accountIds: Iterable<string>, until: number): void {
    for (const account_id of accountIds)
      this.extend.run({ account_id, until, refresh_before: until - REFRESH_WITHIN_MS });
  }

  /** Whether this kiosk follows the customer's balance at `at`. */
  follows(customer: Pick<CustomerRecord, 'account_id' | 'allowed_kiosks'>, kioskId: string, at: number): boolean {
    if (customer.allowed_kiosks?.includes(kioskId)) return true;
    const until = this.until.get(customer.account_id);
    return until !== undefined && until > at;
  }
}
