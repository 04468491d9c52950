import type { Db } from './database.js';

export interface PinFailureState {
  failures: number;
  locked_until: number | null;
}

/** Wrong-PIN counters this kiosk keeps (the cloud's merged lockout is on the customer record). */
export class PinFailures {
  private readonly byAccount;
  private readonly save;
  private readonly remove;

  constructor(db: Db) {
    this.byAccount = db.prepare<[string], PinFailureState>(
      'SELECT failures, locked_until FROM pin_failures WHERE account_id = ?',
    );
    this.save = db.prepare(`INSERT INTO pin_failures (account_id, failures, locked_until, updated_at)
      VALUES (@account_id, @failures, @locked_until, @updated_at)
      ON CONFLICT (account_id) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at`);
    this.remove = db.prepare('DELETE FROM pin_failures WHERE account_id = ?');
  }

  get(accountId: string): PinFailureState {
    return this.byAccount.get(accountId) ?? { failures: 0, locked_until: null };
  }

  /**
   * Counts one wrong PIN. Reaching `maxFailures` starts a lockout and restarts the
   * count, so the customer gets the full number of attempts after it.
   */
  recordFailure(accountId: string, now: number, maxFailures: number, lockoutMs: number): PinFailureState {
    const failures = this.get(accountId).failures + 1;
    const state: PinFailureState =
      failures >= maxFailures ? { failures: 0, locked_until: now + lockoutMs } : { failures, locked_until: null };
    this.save.run({ account_id: accountId, ...state, updated_at: now });
    return state;
  }

  reset(accountId: string): void {
    this.remove.run(accountId);
  }
}
