import type { CustomerRecord } from '@tusafishe/protocol';
import type { Db } from './database.js';

/**
 * The customers whose balances this kiosk follows (ARCHITECTURE §7, _A kiosk's SD card_): those
 * allowed only at some kiosks including this one, and those in its ledger lately (a dispense, a
 * keypad token, a lockout). Read from the ledger's index by account, which every event writes
 * anyway: following costs the card nothing. Every change of a followed customer is written to the
 * replica; anyone else's balance-only change is not, so their stored balance may be stale and is
 * not counted on (`DispenseFlow.knowBalance`).
 */
export class FollowedCustomers {
  private readonly servedSince;

  constructor(db: Db) {
    this.servedSince = db
      .prepare<[string, number], number>(
        'SELECT EXISTS (SELECT 1 FROM ledger_events INDEXED BY ledger_account_time WHERE account_id = ? AND occurred_at >= ?)',
      )
      .pluck();
  }

  /** Whether this kiosk follows the customer's balance, counting its ledger from `since` (ms). */
  follows(customer: Pick<CustomerRecord, 'account_id' | 'allowed_kiosks'>, kioskId: string, since: number): boolean {
    if (customer.allowed_kiosks?.includes(kioskId)) return true;
    return this.servedSince.get(customer.account_id, since) === 1;
  }
}
