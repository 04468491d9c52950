import type { CustomerRecord, CustomerStatus } from '@tusafishe/protocol';
import { newTokenKey } from '@tusafishe/protocol/keypad-token';
import { hashSecret } from '@tusafishe/protocol/secret-hash';
import { CloudError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { CUSTOMER_WRITERS_LOCK } from '../store/migrations.js';
import { newAccountId } from './account-id.js';

export type Language = 'en' | 'sw';

export interface Customer extends CustomerRecord {
  language: Language;
}

interface CustomerRow {
  account_id: string;
  phone: string;
  name: string;
  pin_hash: string;
  status: CustomerStatus;
  language: Language;
  expires_at: number | string | null;
  daily_limit_ml: number | null;
  allowed_kiosks: string[] | null;
  locked_until: number | string | null;
  balance_ml: number | string;
  version: number | string;
  usage_day: string | null;
  used_today_ml: number | string;
  token_key: string | null;
  token_counter: number | string;
  tokens_void: (number | string)[];
}

const CUSTOMER_COLUMNS =
  'account_id, phone, name, pin_hash, status, language, expires_at, daily_limit_ml, allowed_kiosks, locked_until, balance_ml, version, usage_day, used_today_ml, token_key, token_counter, tokens_void';

const nullableNumber = (value: number | string | null): number | null => (value === null ? null : Number(value));

function toCustomer(row: CustomerRow): Customer {
  return {
    account_id: row.account_id,
    phone: row.phone,
    name: row.name,
    pin_hash: row.pin_hash,
    status: row.status,
    language: row.language,
    expires_at: nullableNumber(row.expires_at),
    daily_limit_ml: row.daily_limit_ml,
    allowed_kiosks: row.allowed_kiosks,
    locked_until: nullableNumber(row.locked_until),
    balance_ml: Number(row.balance_ml),
    version: Number(row.version),
    usage_day: row.usage_day,
    used_today_ml: Number(row.used_today_ml),
    token_key: row.token_key,
    token_counter: Number(row.token_counter),
    tokens_void: row.tokens_void.map(Number),
  };
}

/** The wire shape gateways replicate (no cloud-only fields). */
export function toCustomerRecord(customer: Customer): CustomerRecord {
  const { language: _language, ...record } = customer;
  return record;
}

/** A customer as operators see it: the token key stays between the cloud and the gateways. */
export function toOperatorRecord(customer: Customer): Omit<CustomerRecord, 'token_key'> {
  const { token_key: _key, ...record } = toCustomerRecord(customer);
  return record;
}

export async function findCustomerByPhone(db: Queryable, phone: string): Promise<Customer | undefined> {
  const rows = await db.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE phone = $1`, [phone]);
  return rows[0] && toCustomer(rows[0]);
}

export async function findCustomer(db: Queryable, accountId: string): Promise<Customer | undefined> {
  const rows = await db.query<CustomerRow>(`SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE account_id = $1`, [
    accountId,
  ]);
  return rows[0] && toCustomer(rows[0]);
}

export interface NewCustomer {
  phone: string;
  name: string;
  /** Kept from an earlier system (import, demo data); drawn fresh when omitted. */
  accountId?: string;
  /** Overrides the status the PIN implies, e.g. an account switched off before import. */
  status?: CustomerStatus;
  /** Omitted when registering by SMS: the account stays inactive until a PIN is set by USSD. */
  pin?: string;
  language?: Language;
  allowedKiosks?: string[] | null;
  dailyLimitMl?: number | null;
  expiresAt?: number | null;
}

const UNIQUE_VIOLATION = '23505';

/** Creates a customer with a fresh account id; a phone already registered is ALREADY_REGISTERED. */
export async function createCustomer(db: Queryable, input: NewCustomer): Promise<Customer> {
  const pinHash = input.pin === undefined ? '' : await hashSecret(input.pin);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      const rows = await db.query<CustomerRow>(
        `INSERT INTO customers (account_id, phone, name, pin_hash, status, language, allowed_kiosks, daily_limit_ml, expires_at, token_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${CUSTOMER_COLUMNS}`,
        [
          input.accountId ?? newAccountId(),
          input.phone,
          input.name,
          pinHash,
          input.status ?? (pinHash ? 'active' : 'inactive'),
          input.language ?? 'en',
          input.allowedKiosks ?? null,
          input.dailyLimitMl ?? null,
          input.expiresAt ?? null,
          // Made with the customer, so every kiosk has it before the first token (issued maybe offline).
          newTokenKey(),
        ],
      );
      return toCustomer(rows[0]!);
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      if (
        (error as { constraint?: string }).constraint === 'customers_phone_key' ||
        (await findCustomerByPhone(db, input.phone))
      ) {
        throw new CloudError('ALREADY_REGISTERED', `${input.phone} is already registered`);
      }
      if (input.accountId !== undefined)
        throw new CloudError('ACCOUNT_EXISTS', `account ${input.accountId} already exists`);
      // An account id collision: draw another.
    }
  }
  throw new Error('could not draw a free account id');
}

/** Sets a new PIN (hashed) and activates an account that was waiting for one. */
export async function setPin(db: Queryable, accountId: string, pin: string): Promise<void> {
  const pinHash = await hashSecret(pin);
  await db.query(
    `UPDATE customers SET pin_hash = $2, status = CASE WHEN status = 'inactive' THEN 'active' ELSE status END WHERE account_id = $1`,
    [accountId, pinHash],
  );
}

export interface PinLockoutPolicy {
  /** Wrong PINs in a row that lock the account. */
  maxFailures: number;
  lockoutMs: number;
}

/**
 * Counts one wrong PIN typed on USSD, atomically (concurrent guesses each count); the one that
 * reaches the limit sets `locked_until`, the lockout every keypad obeys once it syncs. Returns
 * the customer's lockout end after this failure (null: not locked).
 */
export async function recordPinFailure(
  db: Queryable,
  accountId: string,
  policy: PinLockoutPolicy,
  now: number,
): Promise<number | null> {
  const rows = await db.query<{ locked_until: number | string | null }>(
    `UPDATE customers SET
       pin_failures = CASE WHEN pin_failures + 1 >= $2 THEN 0 ELSE pin_failures + 1 END,
       locked_until = CASE WHEN pin_failures + 1 >= $2 THEN greatest(coalesce(locked_until, 0), $3) ELSE locked_until END
     WHERE account_id = $1 RETURNING locked_until`,
    [accountId, policy.maxFailures, now + policy.lockoutMs],
  );
  const lockedUntil = rows[0]?.locked_until;
  return lockedUntil === null || lockedUntil === undefined || Number(lockedUntil) <= now ? null : Number(lockedUntil);
}

/** A right PIN starts the count of wrong ones afresh. */
export async function clearPinFailures(db: Queryable, accountId: string): Promise<void> {
  await db.query('UPDATE customers SET pin_failures = 0 WHERE account_id = $1 AND pin_failures > 0', [accountId]);
}

export interface ProfileChange {
  status?: CustomerStatus;
  dailyLimitMl?: number | null;
  allowedKiosks?: string[] | null;
  expiresAt?: number | null;
}

/** An operator's change to profile fields gateways enforce; undefined fields stay as they are. */
export async function updateProfile(
  db: Queryable,
  accountId: string,
  change: ProfileChange,
): Promise<Customer | undefined> {
  const rows = await db.query<CustomerRow>(
    `UPDATE customers SET
       status = CASE WHEN $2 THEN $3 ELSE status END,
       daily_limit_ml = CASE WHEN $4 THEN $5::integer ELSE daily_limit_ml END,
       allowed_kiosks = CASE WHEN $6 THEN $7::text[] ELSE allowed_kiosks END,
       expires_at = CASE WHEN $8 THEN $9::bigint ELSE expires_at END
     WHERE account_id = $1 RETURNING ${CUSTOMER_COLUMNS}`,
    [
      accountId,
      change.status !== undefined,
      change.status ?? null,
      change.dailyLimitMl !== undefined,
      change.dailyLimitMl ?? null,
      change.allowedKiosks !== undefined,
      change.allowedKiosks ?? null,
      change.expiresAt !== undefined,
      change.expiresAt ?? null,
    ],
  );
  return rows[0] && toCustomer(rows[0]);
}

export async function setLanguage(db: Queryable, accountId: string, language: Language): Promise<void> {
  await db.query('UPDATE customers SET language = $2 WHERE account_id = $1 AND language <> $2', [accountId, language]);
}

/**
 * A change as the change feed holds it: the record it publishes, and what decides which kiosks
 * asking with `follow_days` are sent it (src/kiosk-api/feed-filter.ts).
 */
export interface FeedChange {
  record: CustomerRecord;
  /** The version of the customer's last change to anything but its balance, usage and token counter (migration 23). */
  profileVersion: number;
  /** Kiosk id → the day (days since 1970-01-01, UTC) the cloud last merged an event of this customer from it. */
  followers: Readonly<Record<string, number>>;
}

export interface FeedChangePage {
  changes: FeedChange[];
  hasMore: boolean;
}

const FEED_COLUMNS = `${CUSTOMER_COLUMNS}, profile_version, followers`;

type FeedRow = CustomerRow & { profile_version: number | string; followers: Record<string, number> };

function toFeedChange(row: FeedRow): FeedChange {
  return {
    record: toCustomerRecord(toCustomer(row)),
    profileVersion: Number(row.profile_version),
    followers: row.followers,
  };
}

/**
 * Customers changed after `afterVersion` and up to `upTo` (a horizon from `versionHorizon`:
 * above it a version may still commit below one already read), oldest change first.
 */
export async function customersChangedSince(
  db: Queryable,
  afterVersion: number,
  limit: number,
  upTo: number,
): Promise<FeedChangePage> {
  const rows = await db.query<FeedRow>(
    `SELECT ${FEED_COLUMNS} FROM customers WHERE version > $1 AND version <= $2 ORDER BY version LIMIT $3`,
    [afterVersion, upTo, limit + 1],
  );
  return { changes: rows.slice(0, limit).map(toFeedChange), hasMore: rows.length > limit };
}

/**
 * Customers whose profile changed after `after` and by `through` but who changed again above
 * `through`: a page up to `through` holds no record of theirs (the table keeps the newest row),
 * and a kiosk that is sent only its own customers' balances, once moved past, would never be sent
 * that profile (`ChangeFeed`). Oldest first; almost always none.
 */
export async function profilesChangedBeyond(db: Queryable, after: number, through: number): Promise<FeedChange[]> {
  const rows = await db.query<FeedRow>(
    `SELECT ${FEED_COLUMNS} FROM customers
     WHERE profile_version > $1 AND profile_version <= $2 AND version > $2 ORDER BY version`,
    [after, through],
  );
  return rows.map(toFeedChange);
}

/** The `limit` most recently changed customers up to `upTo`, oldest change first (to warm the change feed's tail). */
export async function latestChangedCustomers(db: Queryable, limit: number, upTo: number): Promise<FeedChange[]> {
  const rows = await db.query<FeedRow>(
    `SELECT ${FEED_COLUMNS} FROM customers WHERE version <= $1 ORDER BY version DESC LIMIT $2`,
    [upTo, limit],
  );
  return rows.reverse().map(toFeedChange);
}

/**
 * The transactions changing customers of this schema now: holders of the lock every customer
 * change takes (migration 18), which each keeps until it ends.
 */
export async function customerWriters(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ writer: string }>(
    `SELECT virtualtransaction AS writer FROM pg_locks
     WHERE locktype = 'advisory' AND objsubid = 2 AND granted
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND classid::bigint = $1 AND objid::bigint = hashtext(current_schema())::bigint & 4294967295`,
    [CUSTOMER_WRITERS_LOCK],
  );
  return rows.map((row) => row.writer);
}

/** Highest version ever handed out (0 before the first customer). */
export async function currentVersion(db: Queryable): Promise<number> {
  const rows = await db.query<{ v: number | string }>(
    'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM customer_version',
  );
  return Number(rows[0]?.v ?? 0);
}
