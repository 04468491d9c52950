import { normalisePhone } from '@tusafishe/protocol/phone';

/**
 * Rate-limit key for a caller's phone: the normalised number, so `+254 700-000 101`,
 * `254700000101` and `+254700000101` share one budget; anything that is not a number falls
 * back to the source address.
 */
export function phoneKey(raw: unknown, ip: string): string {
  if (typeof raw === 'string') {
    try {
      return normalisePhone(raw);
    } catch {
      // not a phone number: limited by address below
    }
  }
  return `ip:${ip}`;
}
