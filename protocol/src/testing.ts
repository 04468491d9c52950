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
