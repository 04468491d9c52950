/**
 * The fleet's day for daily limits: a kiosk's day (gateway TIMEZONE) and the cloud's usage
 * day (USAGE_TIMEZONE) must be the same day, so both share one default and one check.
 * East African kiosks share EAT.
 */
export const DEFAULT_TIME_ZONE = 'Africa/Nairobi';

/** True for an IANA time zone this runtime knows, e.g. `Africa/Nairobi` or `Africa/Kampala`. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const TIME_ZONE_HINT = 'must be an IANA time zone, e.g. Africa/Nairobi';
