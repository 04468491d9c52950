import type { FeedChange } from '../customers/customers.js';

/**
 * A kiosk that asked for only the balances of the customers it serves (`PullQuery.follow_days`):
 * a change to a customer's balance, usage and token counter alone is sent to it only when it follows them.
 * Every other change, and every record after a cursor older than the customer's last profile
 * change, is sent to every kiosk: any kiosk must check anyone's PIN, status and limits offline.
 */
export interface BalanceFilter {
  kioskId: string;
  /** The first day (days since 1970-01-01, UTC) an event of the kiosk's counts as following. */
  sinceDay: number;
}

const DAY_MS = 86_400_000;

/**
 * The filter of a kiosk following its customers of the last `followDays` days. A day wider than
 * asked: the gateway counts from its events' times, the cloud from the day it merged them (later,
 * in UTC), so the cloud's set is the gateway's or more, never less. A customer the gateway follows
 * but the cloud does not would keep a stale balance the gateway counts on.
 */
export function balanceFilter(kioskId: string, followDays: number, now = Date.now()): BalanceFilter {
  return { kioskId, sinceDay: Math.floor(now / DAY_MS) - followDays - 1 };
}

/** Whether a kiosk at `after` with `filter` (none: every change) is sent `change`. */
export function isSent(change: FeedChange, after: number, filter: BalanceFilter | undefined): boolean {
  if (!filter || change.profileVersion > after) return true;
  if (change.record.allowed_kiosks?.includes(filter.kioskId)) return true;
  const day = change.followers[filter.kioskId];
  return day !== undefined && day >= filter.sinceDay;
}
