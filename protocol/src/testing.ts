/**
 * Test helpers shared by every part's tests.
 */

/**
 * Matches a secret (a PIN, a password) standing as a whole token in a text: in a JSON
 * value, after a space, in a URL parameter. The same digits inside a millisecond
 * timestamp, a random id or a salted hash are chance, not a leak, so a test asserting
 * `not.toMatch(secretToken(pin))` cannot fail at random.
 */
export function secretToken(secret: string): RegExp {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`);
}

/**
 * A time zone (`Etc/GMT±N`) where it is 12:00–12:59 at `now`: a test of "today's" usage that runs
 * in it stays on one day for eleven hours, while one in a fixed zone fails at random when run
 * across that zone's midnight.
 */
export function zoneAtNoon(now: number = Date.now()): string {
  const offsetHours = 12 - new Date(now).getUTCHours(); // −11 … +12, all of which Etc/GMT names
  // Etc/GMT signs are POSIX ones, the opposite of ISO: Etc/GMT-3 is UTC+3.
  if (offsetHours === 0) return 'Etc/GMT';
  return `Etc/GMT${offsetHours > 0 ? '-' : '+'}${Math.abs(offsetHours)}`;
}

/** The day (YYYY-MM-DD) it is at `now` in `timeZone`. */
export function dayIn(timeZone: string, now: number = Date.now()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone }).format(now);
}
