import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { ProtocolError } from './errors.js';

/** Countries whose numbers a kiosk accepts without a leading +; others must be typed in full. */
export const DEFAULT_PHONE_REGION: CountryCode = 'KE';

/**
 * Normalises any way a customer writes a number (`0700 000 102`, `254700000102`,
 * `+254700000102`) to E.164, using the full numbering plan so `0700…` in Uganda
 * and Kenya each resolve correctly. Throws INVALID_PHONE for anything else.
 */
export function normalisePhone(input: string, region: CountryCode = DEFAULT_PHONE_REGION): string {
  const compact = input.replace(/[\s().-]/g, '');
  if (!/^\+?[0-9]{6,16}$/.test(compact)) {
    throw new ProtocolError('INVALID_PHONE', `"${input}" is not a phone number: use digits only, e.g. 0712345678`);
  }
  // "2547…" without "+" is an international number typed without the plus.
  const candidates = compact.startsWith('+') ? [compact] : [compact, `+${compact}`];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, region);
    if (parsed?.isValid()) return parsed.number;
  }
  throw new ProtocolError(
    'INVALID_PHONE',
    `"${input}" is not a valid phone number for ${region} or in +country format`,
  );
}

/** True when `input` normalises; for validators that only need a yes/no. */
export function isValidPhone(input: string, region: CountryCode = DEFAULT_PHONE_REGION): boolean {
  try {
    normalisePhone(input, region);
    return true;
  } catch {
    return false;
  }
}

export { isSupportedCountry };
export type { CountryCode };
