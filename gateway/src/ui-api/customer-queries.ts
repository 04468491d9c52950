import { normalisePhone, type CountryCode } from '@tusafishe/protocol/phone';
import { TusafisheError, type CustomerRecord } from '@tusafishe/protocol';
import { localDay } from '../dispense/local-day.js';
import { effectiveLockout } from '../dispense/verify-dispense.js';
import type { Store } from '../store/store.js';
import type { CustomerView } from './api-schemas.js';
import { GatewayError } from '../errors.js';

/** Account ids contain letters (AQP123456); phone numbers never do. */
const looksLikeAccountId = (term: string): boolean => /[A-Za-z]/.test(term) && /^[A-Za-z0-9]{4,16}$/.test(term);

/** Finds a customer by account id or by any form of phone number (normalised to E.164). */
export function lookUpCustomer(store: Store, query: string, phoneRegion: CountryCode): CustomerRecord {
  const compact = query.replace(/\s/g, '');
  if (looksLikeAccountId(compact)) {
    const accountId = compact.toUpperCase();
    return store.customers.findByAccount(accountId) ?? notFound(`account id ${accountId}`);
  }
  let phone: string;
  try {
    phone = normalisePhone(compact, phoneRegion);
  } catch (error) {
    if (error instanceof TusafisheError) throw new GatewayError('INVALID_PHONE', error.message);
    throw error;
  }
  return store.customers.findByPhone(phone) ?? notFound(`phone ${phone}`);
}

function notFound(what: string): never {
  throw new GatewayError('UNKNOWN_CUSTOMER', what);
}

/**
 * The kiosk's view of a customer: available balance (`balanceKnown` false: the last this kiosk
 * knew of a balance it does not follow), today's use, lockout (local or cloud).
 */
export function customerView(
  store: Store,
  customer: CustomerRecord,
  timezone: string,
  balanceKnown: boolean,
  now: number = Date.now(),
): CustomerView {
  const day = localDay(now, timezone);
  const failures = store.pinFailures.get(customer.account_id);
  const lockedUntil = effectiveLockout(failures.locked_until, customer.locked_until);
  return {
    account_id: customer.account_id,
    phone: customer.phone,
    name: customer.name,
    status: customer.status,
    balance_ml: store.availableBalanceMl(customer, now),
    balance_known: balanceKnown,
    today_ml: store.ledger.dispensedMl(customer.account_id, day.start, day.end),
    daily_limit_ml: customer.daily_limit_ml,
    locked_until: lockedUntil !== null && lockedUntil > now ? lockedUntil : null,
    failed_pins: failures.failures,
  };
}
