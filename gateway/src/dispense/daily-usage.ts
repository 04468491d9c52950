import type { CustomerRecord } from '@tusafishe/protocol';
import type { Store } from '../store/store.js';
import { localDate, localDay } from './local-day.js';

export interface DailyUsage {
  /** Drawn today at every kiosk, as far as this kiosk can know, plus open holds: for the customer's daily limit. */
  everywhereMl: number;
  /** Drawn today at this kiosk plus open holds: for the per-kiosk offline daily limit (ARCHITECTURE §5). */
  hereMl: number;
}

/**
 * How much the customer has used today. The cloud's figure counts every kiosk's merged
 * dispenses of its `usage_day`; this kiosk's acknowledged dispenses are already in it, so only
 * the unacknowledged ones are added. A figure of another day (none drawn since midnight, or
 * none merged yet) counts as nothing. Never less than this kiosk's own dispenses today, which
 * covers a cloud that publishes no figure and a figure older than an acknowledgement.
 * Assumes the fleet shares one usage time zone (the gateway's `timezone`, the cloud's USAGE_TIMEZONE).
 */
export function dailyUsage(
  store: Store,
  customer: Pick<CustomerRecord, 'account_id' | 'usage_day' | 'used_today_ml'>,
  now: number,
  timeZone: string,
): DailyUsage {
  const day = localDay(now, timeZone);
  const here = store.ledger.dispensed(customer.account_id, day.start, day.end);
  const held = store.holds.heldMlFor(customer.account_id, now);
  const cloudToday = customer.usage_day === localDate(now, timeZone) ? (customer.used_today_ml ?? 0) : 0;
  return { everywhereMl: Math.max(cloudToday + here.unacked_ml, here.total_ml) + held, hereMl: here.total_ml + held };
}
