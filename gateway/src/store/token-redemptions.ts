import type { Db } from './database.js';

export interface TokenRedemption {
  account_id: string;
  counter: number;
  event_id: string;
  request_id: string;
  dispenser_id: string | null;
  redeemed_at: number;
}

export interface TokenFailureState {
  failures: number;
  locked_until: number | null;
}

/** The keypad tokens this kiosk redeemed (each counter once) and its wrong-token counts. */
export class TokenRedemptions {
  private readonly insert;
  private readonly find;
  private readonly highest;
  private readonly failure;
  private readonly saveFailure;
  private readonly clearFailure;

  constructor(db: Db) {
    this.insert =
      db.prepare(`INSERT INTO token_redemptions (account_id, counter, event_id, request_id, dispenser_id, redeemed_at)
      VALUES (@account_id, @counter, @event_id, @request_id, @dispenser_id, @redeemed_at)`);
    this.find = db.prepare<[string, number], TokenRedemption>(
      'SELECT * FROM token_redemptions WHERE account_id = ? AND counter = ?',
    );
    this.highest = db
      .prepare<[string], number>('SELECT coalesce(max(counter), 0) FROM token_redemptions WHERE account_id = ?')
      .pluck();
    this.failure = db.prepare<[string], TokenFailureState>(
      'SELECT failures, locked_until FROM token_failures WHERE scope = ?',
    );
    this.saveFailure = db.prepare(`INSERT INTO token_failures (scope, failures, locked_until, updated_at)
      VALUES (@scope, @failures, @locked_until, @updated_at)
      ON CONFLICT (scope) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at`);
    this.clearFailure = db.prepare('DELETE FROM token_failures WHERE scope = ?');
  }

  redeemed(accountId: string, counter: number): TokenRedemption | undefined {
    return this.find.get(accountId, counter);
  }

  /** The highest counter this kiosk redeemed for the customer (0: none). */
  highestRedeemed(accountId: string): number {
    return this.highest.get(accountId) ?? 0;
  }

  record(redemption: TokenRedemption): void {
    this.insert.run(redemption);
  }

  failures(scope: string): TokenFailureState {
    return this.failure.get(scope) ?? { failures: 0, locked_until: null };
  }

  /** Counts one wrong token in `scope`; reaching `max` locks it for `lockoutMs` and restarts the count. */
  recordFailure(scope: string, now: number, max: number, lockoutMs: number): TokenFailureState {
    const failures = this.failures(scope).failures + 1;
    const state: TokenFailureState =
      failures >= max ? { failures: 0, locked_until: now + lockoutMs } : { failures, locked_until: null };
    this.saveFailure.run({ scope, ...state, updated_at: now });
    return state;
  }

  resetFailures(scope: string): void {
    this.clearFailure.run(scope);
  }
}
