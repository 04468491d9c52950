import type { LedgerEvent, PushResponse } from '@tusafishe/protocol';
import { sqlTextArray, type Db, type Queryable, type TransactionOptions } from '../store/db.js';
import { CUSTOMERS_CHANGED_CHANNEL, LIVE_CHANGED_CHANNEL } from '../store/migrations.js';
import {
  APPEND_EVENTS_CTES,
  appendParams,
  applyLockout,
  balancesOf,
  clearLockout,
  existingEventIds,
  type Balance,
} from '../ledger/ledger.js';
import { acceptRedemptions } from '../customers/keypad-tokens.js';
import { KIOSK_VOLUME_CTES, type KioskVolumeFlag } from './kiosk-volume.js';

/** Stable codes for events a kiosk may not push; the gateway parks them instead of retrying. */
const PUSH_REJECTIONS = {
  KIOSK_MISMATCH: 'the event belongs to another kiosk',
  EVENT_TYPE_NOT_ALLOWED: 'kiosks report dispenses, lockouts, unlocks and alerts; credit comes only from the cloud',
  INVALID_AMOUNT: 'a dispense is negative or zero, a notice is zero',
  AMOUNT_TOO_LARGE: 'a dispense is larger than the per-dispense maximum',
  MISSING_ACCOUNT: 'this event type needs an account_id',
  UNKNOWN_ACCOUNT: 'no customer has this account id',
  DUPLICATE_SOURCE: 'another event of this type already settles this source_id',
  TOKEN_NOT_ISSUED: 'a kiosk credits only a keypad token the cloud issued, under its top-up id, customer and amount',
} as const;
type PushRejectionCode = keyof typeof PUSH_REJECTIONS;

/** `topup` only as a keypad token's redemption (acceptRedemptions): the cloud holds it already. */
const KIOSK_EVENT_TYPES = new Set(['dispense', 'topup', 'pin_lockout', 'pin_unlock', 'alert_raised', 'alert_cleared']);
/** Event types about one customer. */
const CUSTOMER_EVENT_TYPES = new Set(['dispense', 'topup', 'pin_lockout', 'pin_unlock']);
/** Pushes are the hottest writers: they wake the change feed and the console's live feed after committing. */
const PUSH_TRANSACTION: TransactionOptions = { notifyAfterCommit: [CUSTOMERS_CHANGED_CHANNEL, LIVE_CHANGED_CHANNEL] };
/** Lockout length when a pin_lockout event does not say (`details.locked_until`). */
const DEFAULT_LOCKOUT_MS = 15 * 60_000;

/** What a gateway may claim (issue 10): it is trusted with its own events, within these bounds. */
export interface KioskClaimLimits {
  /** The fleet's day for daily usage (IANA time zone). */
  usageTimeZone: string;
  /** A pin_lockout ends at most this long after the cloud's now, whatever the gateway says. */
  maxLockoutMs: number;
  /** One dispense draws at most this many mL. */
  maxDispenseMl: number;
  /** A kiosk dispensing more than this on one usage day is flagged for operators. */
  dailyVolumeAlertMl: number;
}

export interface IngestResult {
  response: PushResponse;
  /** Set when this batch took its kiosk's day over `dailyVolumeAlertMl`. */
  volumeFlag: KioskVolumeFlag | undefined;
}

function checkEvent(event: LedgerEvent, kioskId: string, limits: KioskClaimLimits): PushRejectionCode | undefined {
  if (event.kiosk_id !== kioskId) return 'KIOSK_MISMATCH';
  if (!KIOSK_EVENT_TYPES.has(event.type)) return 'EVENT_TYPE_NOT_ALLOWED';
  if (
    event.type === 'topup'
      ? event.amount_ml <= 0
      : event.type === 'dispense'
        ? event.amount_ml > 0
        : event.amount_ml !== 0
  )
    return 'INVALID_AMOUNT';
  if (event.type === 'dispense' && -event.amount_ml > limits.maxDispenseMl) return 'AMOUNT_TOO_LARGE';
  if (CUSTOMER_EVENT_TYPES.has(event.type) && !event.account_id) return 'MISSING_ACCOUNT';
  return undefined;
}

/** The lockout a pin_lockout event asks for, capped at the cloud's now + the maximum lockout. */
function lockedUntil(event: LedgerEvent, now: number, maxLockoutMs: number): number {
  const stated = event.details?.['locked_until'];
  const asked =
    typeof stated === 'number' && Number.isSafeInteger(stated) && stated > 0
      ? stated
      : event.occurred_at + DEFAULT_LOCKOUT_MS;
  return Math.min(asked, now + maxLockoutMs);
}

/** The customers a batch's events are about, each once. */
function accountsOf(events: readonly LedgerEvent[]): string[] {
  return [...new Set(events.flatMap((event) => (event.account_id ? [event.account_id] : [])))];
}

interface Merged {
  inserted: Set<string>;
  balances: Balance[];
  volumeFlag: KioskVolumeFlag | undefined;
}

/**
 * The batch's one statement (a push's round trips were most of its time at hundreds of kiosks):
 * appends the events, moves their customers, counts the kiosk's daily volume and reads the
 * balances of `accountIds` as they stand after it — moved ones from the update, the others as
 * read (locked by the push, so unchanged).
 */
async function mergeBatch(
  tx: Queryable,
  kioskId: string,
  events: readonly LedgerEvent[],
  accountIds: readonly string[],
  limits: KioskClaimLimits,
): Promise<Merged> {
  if (events.length === 0 && accountIds.length === 0)
    return { inserted: new Set(), balances: [], volumeFlag: undefined };
  const rows = await tx.query<{
    inserted: string[];
    balances: Balance[];
    flag: { day: string; volume_ml: number | string } | null;
  }>(
    `WITH ${APPEND_EVENTS_CTES}, ${KIOSK_VOLUME_CTES}, balances AS (
       SELECT account_id, balance_ml, version, usage_day, used_today_ml FROM moved
       UNION ALL
       SELECT account_id, balance_ml, version, usage_day, used_today_ml FROM customers
       WHERE account_id = ANY($13::text[]) AND account_id NOT IN (SELECT account_id FROM moved)
     )
     SELECT ARRAY(SELECT event_id::text FROM inserted) AS inserted,
            (SELECT coalesce(json_agg(b ORDER BY b.account_id), '[]'::json) FROM balances b) AS balances,
            (SELECT json_build_object('day', day, 'volume_ml', volume_ml) FROM flagged WHERE raised) AS flag`,
    [...appendParams(events, limits.usageTimeZone), kioskId, limits.dailyVolumeAlertMl, accountIds],
  );
  const row = rows[0]!;
  return {
    inserted: new Set(row.inserted),
    balances: row.balances.map((balance) => ({
      ...balance,
      balance_ml: Number(balance.balance_ml),
      version: Number(balance.version),
      used_today_ml: Number(balance.used_today_ml),
    })),
    volumeFlag: row.flag ? { kiosk_id: kioskId, day: row.flag.day, volume_ml: Number(row.flag.volume_ml) } : undefined,
  };
}

/**
 * Merges a kiosk's batch into the ledger (union by event id). Safe to repeat: ids already
 * held are acknowledged again and counted once. Dispenses count toward the customers' usage
 * on today's day in `usageTimeZone`, and toward the kiosk's volume of the day.
 */
export async function ingestKioskEvents(
  db: Db,
  kioskId: string,
  events: readonly LedgerEvent[],
  limits: KioskClaimLimits,
): Promise<IngestResult> {
  const rejected: PushResponse['rejected'] = [];
  const reject = (event: LedgerEvent, code: PushRejectionCode): void => {
    rejected.push({ event_id: event.event_id, code, message: PUSH_REJECTIONS[code] });
  };
  const candidates = events.filter((event) => {
    const code = checkEvent(event, kioskId, limits);
    if (code) reject(event, code);
    return !code;
  });

  const accountIds = accountsOf(candidates);
  // Pushes from many kiosks run at once (no global lock, migration 18); locking the batch's
  // customers first, in one order, keeps two batches touching the same customers from deadlocking.
  // The lock goes with BEGIN, in one round trip.
  const opening =
    accountIds.length === 0
      ? undefined
      : `SELECT account_id FROM customers WHERE account_id = ANY(${sqlTextArray(accountIds)}) ORDER BY account_id FOR NO KEY UPDATE`;
  return db.transaction(
    async (tx, locked) => {
      const known = new Set(locked.map((row) => row['account_id'] as string));
      const ofKnownCustomers = candidates.filter((event) => {
        if (event.account_id && !known.has(event.account_id)) reject(event, 'UNKNOWN_ACCOUNT');
        return !event.account_id || known.has(event.account_id);
      });
      // A kiosk never adds credit: a redeemed token's top-up is already in the ledger under its id.
      const redeemed = await acceptRedemptions(tx, kioskId, ofKnownCustomers);
      const valid = ofKnownCustomers.filter((event) => {
        if (event.type === 'topup' && !redeemed.has(event.event_id)) reject(event, 'TOKEN_NOT_ISSUED');
        return event.type !== 'topup' || redeemed.has(event.event_id);
      });

      const merged = await mergeBatch(
        tx,
        kioskId,
        valid.filter((event) => event.type !== 'topup'),
        accountsOf(valid),
        limits,
      );
      const { inserted, volumeFlag } = merged;
      const notInserted = valid.filter((event) => !inserted.has(event.event_id));
      const alreadyHeld = await existingEventIds(
        tx,
        notInserted.map((event) => event.event_id),
      );
      const acked: string[] = [];
      for (const event of valid) {
        if (inserted.has(event.event_id) || alreadyHeld.has(event.event_id)) acked.push(event.event_id);
        else reject(event, 'DUPLICATE_SOURCE');
      }
      const now = Date.now();
      // In the kiosk's order: a technician's unlock clears the lockout before it, fleet-wide
      // (the version bump publishes the cleared record to every gateway).
      const locks = valid.filter(
        (event) => inserted.has(event.event_id) && (event.type === 'pin_lockout' || event.type === 'pin_unlock'),
      );
      for (const event of locks) {
        if (event.type === 'pin_lockout')
          await applyLockout(tx, event.account_id!, lockedUntil(event, now, limits.maxLockoutMs));
        else await clearLockout(tx, event.account_id!);
      }
      // A lockout or unlock moved its customers' versions after the merge read them.
      const balances =
        locks.length === 0
          ? merged.balances
          : await balancesOf(
              tx,
              merged.balances.map((b) => b.account_id),
            );
      return { response: { acked: [...new Set(acked)], rejected, balances }, volumeFlag };
    },
    opening ? { ...PUSH_TRANSACTION, opening } : PUSH_TRANSACTION,
  );
}
