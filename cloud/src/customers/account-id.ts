import { randomInt } from 'node:crypto';

/** Crockford's base-32 digits: no I, L, O or U, so an id read aloud or off a receipt is not misheard. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PREFIX = 'TS';
const RANDOM_CHARS = 7;

/** `TS` + 7 random characters: 32^7 ≈ 3.4e10 ids, so collisions (retried on insert) are rare. */
export function newAccountId(): string {
  let id = PREFIX;
  for (let i = 0; i < RANDOM_CHARS; i += 1) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** Accepts what a customer types (lower case, O for 0, I/L for 1) and returns the canonical id. */
export function canonicalAccountId(input: string): string {
  return input.trim().toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1').replace(/^T5/, 'TS');
}
