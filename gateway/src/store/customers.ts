import { CustomerRecord, type CustomerUsage } from '@tusafishe/protocol';
import type { Db } from './database.js';

export interface CustomerRow {
  account_id: string;
  phone: string;
  name: string;
  pin_hash: string;
  status: CustomerRecord['status'];
  expires_at: number | null;
  daily_limit_ml: number | null;
  allowed_kiosks: string | null;
  balance_ml: number;
  locked_until: number | null;
  version: number;
  usage_day: string | null;
  used_today_ml: number;
  token_key: string | null;
  token_counter: number;
  tokens_void: string;
}

/** A push response's balance; the usage fields come from a cloud that publishes them. */
export interface CloudBalance extends CustomerUsage {
  account_id: string;
  balance_ml: number;
  version: number;
}

/** A replica (or staged) row as the cloud record it came from. */
export function toRecord(row: CustomerRow): CustomerRecord {
  return {
    ...row,
    allowed_kiosks: row.allowed_kiosks === null ? null : (JSON.parse(row.allowed_kiosks) as string[]),
    tokens_void: JSON.parse(row.tokens_void) as number[],
  };
}

/**
 * What a record sets besides its version. A record that changes none of them is not written again
 * (each rewrite is a WAL page): the kiosk's own dispense comes back by pull with the balance and
 * version the push answer already gave.
 */
const RECORD_COLUMNS = [
  'phone',
  'name',
  'pin_hash',
  'status',
  'expires_at',
  'daily_limit_ml',
  'allowed_kiosks',
  'balance_ml',
  'locked_until',
  'usage_day',
  'used_today_ml',
  'token_key',
  'token_counter',
  'tokens_void',
] as const;

/**
 * What every kiosk writes of every customer. The rest moves with the balance: its usage, and the
 * token counter (each top-up with a keypad token moves it; a kiosk not following the customer
 * asks the cloud before a token is redeemed, `TokenRedemptionOptions.refresh`).
 */
const BALANCE_COLUMNS = new Set(['balance_ml', 'usage_day', 'used_today_ml', 'token_counter']);
const PROFILE_COLUMNS = RECORD_COLUMNS.filter((c) => !BALANCE_COLUMNS.has(c));

/**
 * Whether a record may be left unwritten: it changes only the balance of a customer whose balance
 * this kiosk does not follow (ARCHITECTURE §7, _A kiosk's SD card_).
 */
export type BalanceFollowed = (stored: CustomerRecord) => boolean;

/** Whether `row` changes only the balance (and usage) of a stored customer this kiosk does not follow. */
function onlyUnfollowedBalance(stored: CustomerRow, row: ReturnType<typeof toRow>, followed: BalanceFollowed): boolean {
  if (PROFILE_COLUMNS.some((column) => stored[column] !== row[column])) return false;
  return !followed(toRecord(stored));
}

/** A cloud that does not publish usage (an older one) leaves the figure at nothing drawn. */
function usageOf(usage: CustomerUsage): { usage_day: string | null; used_today_ml: number } {
  return { usage_day: usage.usage_day ?? null, used_today_ml: usage.used_today_ml ?? 0 };
}

/** Every column of the replica a cloud record fills. */
export const REPLICA_COLUMNS = ['account_id', 'version', ...RECORD_COLUMNS] as const;

/** `(@account_id, @version, …)`: the named parameters `toRow` binds. */
export const REPLICA_PARAMS = `(${REPLICA_COLUMNS.map((column) => `@${column}`).join(', ')})`;

/** A validated cloud record as the replica stores it. */
export function toRow(record: CustomerRecord): Record<(typeof REPLICA_COLUMNS)[number], unknown> {
  return {
    ...record,
    allowed_kiosks: record.allowed_kiosks === null ? null : JSON.stringify(record.allowed_kiosks),
    ...usageOf(record),
    // A cloud without tokens (an older one) publishes none: no token is accepted then.
    token_key: record.token_key ?? null,
    token_counter: record.token_counter ?? 0,
    tokens_void: JSON.stringify(record.tokens_void ?? []),
  };
}

/** The customer replica: cloud-owned profiles and the cloud's last balance (ARCHITECTURE §3). */
export class CustomerReplica {
  private readonly byPhone;
  private readonly byAccount;
  private readonly dropPhoneHolder;
  private readonly upsert;
  private readonly updateKeepingPhone;
  private readonly updateBalance;
  private readonly unlock;
  private readonly keepUnlock;
  private readonly size;

  constructor(private readonly db: Db) {
    // The phone lookup is its own table (migration 701), so a refetch can build each in key order.
    this.byPhone = db.prepare<[string], CustomerRow>(
      'SELECT c.* FROM customer_phones p JOIN customers c USING (account_id) WHERE p.phone = ?',
    );
    this.byAccount = db.prepare<[string], CustomerRow>('SELECT * FROM customers WHERE account_id = ?');
    this.size = db.prepare<[], number>('SELECT customers FROM replica_size WHERE id = 1').pluck();
    this.dropPhoneHolder = db.prepare(
      'DELETE FROM customers WHERE account_id = (SELECT account_id FROM customer_phones WHERE phone = ? AND account_id <> ?)',
    );
    this.upsert = db.prepare(`
      INSERT INTO customers (${REPLICA_COLUMNS.join(', ')}) VALUES ${REPLICA_PARAMS}
      ON CONFLICT (account_id) DO UPDATE SET
        phone = excluded.phone, name = excluded.name, pin_hash = excluded.pin_hash, status = excluded.status,
        expires_at = excluded.expires_at, daily_limit_ml = excluded.daily_limit_ml,
        allowed_kiosks = excluded.allowed_kiosks, balance_ml = excluded.balance_ml,
        locked_until = excluded.locked_until, version = excluded.version,
        usage_day = excluded.usage_day, used_today_ml = excluded.used_today_ml,
        token_key = excluded.token_key, token_counter = excluded.token_counter, tokens_void = excluded.tokens_void
      WHERE excluded.version > customers.version OR (excluded.version = customers.version AND
        (${RECORD_COLUMNS.map((c) => `excluded.${c}`).join(', ')}) IS NOT (${RECORD_COLUMNS.join(', ')}))`);
    // Setting a column rewrites its index entry even to the same value: a record keeping its number
    // (nearly all) leaves the phone index alone.
    const keptPhone = RECORD_COLUMNS.filter((c) => c !== 'phone');
    this.updateKeepingPhone = db.prepare(`UPDATE customers SET
        ${[...keptPhone, 'version'].map((c) => `${c} = @${c}`).join(', ')}
      WHERE account_id = @account_id AND (@version > version OR (@version = version AND
        (${keptPhone.map((c) => `@${c}`).join(', ')}) IS NOT (${keptPhone.join(', ')})))`);
    this.unlock = db.prepare('UPDATE customers SET locked_until = NULL WHERE account_id = ?');
    // During a refetch the new replica is built from records that may predate the unlock: kept, with
    // the version it was made against, for the swap (sync/sync-store.ts).
    this.keepUnlock = db.prepare(`INSERT INTO sync_refetch_unlocks (account_id, version)
      SELECT account_id, version FROM customers
      WHERE account_id = ? AND (SELECT refetching FROM sync_state WHERE id = 1) = 1
      ON CONFLICT (account_id) DO UPDATE SET version = max(version, excluded.version)`);
    // The usage moves with the balance: the events just acknowledged are in the cloud's figure.
    this.updateBalance = db.prepare(`UPDATE customers SET balance_ml = @balance_ml, version = @version,
        usage_day = CASE WHEN @has_usage THEN @usage_day ELSE usage_day END,
        used_today_ml = CASE WHEN @has_usage THEN @used_today_ml ELSE used_today_ml END
      WHERE account_id = @account_id AND (version < @version OR (version = @version AND
        (balance_ml IS NOT @balance_ml OR (@has_usage AND (usage_day IS NOT @usage_day OR used_today_ml IS NOT @used_today_ml)))))`);
  }

  findByPhone(phone: string): CustomerRecord | undefined {
    const row = this.byPhone.get(phone);
    return row && toRecord(row);
  }

  findByAccount(accountId: string): CustomerRecord | undefined {
    const row = this.byAccount.get(accountId);
    return row && toRecord(row);
  }

  count(): number {
    // Kept by triggers (migration 703): a count(*) of a million rows holds the event loop ~1 s.
    return this.size.get() as number;
  }

  /**
   * Applies a page of cloud records in one transaction: upsert by account_id, older
   * versions ignored, so a page may be applied twice. Returns how many changed rows.
   */
  applyRecords(records: readonly CustomerRecord[]): number {
    return this.applyValidated(records.map((record) => CustomerRecord.parse(record)));
  }

  /**
   * As `applyRecords`, for records already validated against the schema (a pulled page, record by
   * record). Given `followed`, a record that changes only the balance of a customer it says this
   * kiosk does not follow is left unwritten.
   */
  applyValidated(records: readonly CustomerRecord[], followed?: BalanceFollowed): number {
    return this.db.transaction(() => {
      let changed = 0;
      for (const valid of records) {
        const row = toRow(valid);
        // One read of the stored row serves both questions: may it be left as it is, and does it keep its number.
        const stored = this.byAccount.get(valid.account_id);
        if (stored && followed && onlyUnfollowedBalance(stored, row, followed)) continue;
        if (stored?.phone === valid.phone) {
          changed += this.updateKeepingPhone.run(row).changes;
          continue;
        }
        // A number re-assigned by the cloud belongs to the newer account only.
        this.dropPhoneHolder.run(valid.phone, valid.account_id);
        changed += this.upsert.run(row).changes;
      }
      return changed;
    })();
  }

  /**
   * Forgets the cloud's lockout in this replica (a technician's unlock); the cloud clears it
   * too when the unlock event reaches it, and its next record says so.
   */
  clearLockout(accountId: string): void {
    this.db.transaction(() => {
      this.unlock.run(accountId);
      this.keepUnlock.run(accountId);
    })();
  }

  /** Authoritative balances from a push response; older versions ignored. */
  applyBalances(balances: readonly CloudBalance[]): void {
    for (const { account_id, balance_ml, version, ...usage } of balances) {
      this.updateBalance.run({
        account_id,
        balance_ml,
        version,
        has_usage: usage.used_today_ml === undefined ? 0 : 1,
        ...usageOf(usage),
      });
    }
  }
}
