import type { CustomerRecord, DenialCode } from '@tusafishe/protocol';

/** Checks before the PIN is even tried (ARCHITECTURE §4). */
export function checkAccount(customer: CustomerRecord, lockedUntil: number, now: number): DenialCode | null {
  if (customer.status !== 'active') return 'ACCOUNT_INACTIVE';
  if (customer.expires_at !== null && customer.expires_at <= now) return 'ACCOUNT_EXPIRED';
  if (lockedUntil > now) return 'LOCKED_OUT';
  return null;
}

export interface Allowance {
  kioskId: string;
  requestedMl: number;
  availableMl: number;
  /** Dispensed today at every kiosk (the cloud's figure + this kiosk's unacknowledged) plus open holds. */
  usedTodayMl: number;
  /** Dispensed today at this kiosk plus open holds. */
  usedHereTodayMl: number;
  /** The offline daily limit when the cloud has not been reached recently, else null. */
  offlineLimitMl: number | null;
}

/** Checks after the PIN matched: where, how much, and how much today. */
export function checkAllowance(customer: CustomerRecord, allowance: Allowance): DenialCode | null {
  if (customer.allowed_kiosks !== null && !customer.allowed_kiosks.includes(allowance.kioskId))
    return 'KIOSK_NOT_ALLOWED';
  if (allowance.requestedMl > allowance.availableMl) return 'INSUFFICIENT_BALANCE';
  if (customer.daily_limit_ml !== null && allowance.usedTodayMl + allowance.requestedMl > customer.daily_limit_ml)
    return 'DAILY_LIMIT';
  if (allowance.offlineLimitMl !== null && allowance.usedHereTodayMl + allowance.requestedMl > allowance.offlineLimitMl)
    return 'OFFLINE_LIMIT';
  return null;
}

/** The later of this kiosk's lockout and the cloud's merged one. */
export function effectiveLockout(local: number | null, cloud: number | null): number | null {
  if (local === null) return cloud;
  if (cloud === null) return local;
  return Math.max(local, cloud);
}
