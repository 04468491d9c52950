import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** A constant-time check against a configured secret (digests first, so lengths never leak). */
export function secretMatcher(expected: string): (offered: unknown) => boolean {
  const wanted = digest(expected);
  return (offered) => typeof offered === 'string' && timingSafeEqual(digest(offered), wanted);
}
