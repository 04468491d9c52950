/**
 * Operators' passwords need at least this many characters. Its own module (no Node code) so the
 * console's forms say so before sending, from the same number the server checks.
 */
export const MIN_PASSWORD_LENGTH = 10;
