import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  groupTokenDigits,
  TOKEN_COUNTER_WINDOW,
  tokenCreditMl,
  tokenDigitsValid,
  tokenValueFor,
} from './keypad-token-format.js';
import { issueKeypadToken, newTokenKey, openKeypadToken, tokenEventId } from './keypad-token.js';
import { Id } from './schema-parts.js';

// Seeded: a wrong key or counter passes the 24-bit MAC with probability 2^-23 per try, so an
// unseeded run could fail by chance once in millions; a seeded one gives the same answer every time.
const seeded = { seed: 20_261_130, numRuns: 300 };
const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64url'));
const counter = fc.integer({ min: 1, max: 2 ** 32 - 1 });
/** Credits as tariffs make them: whole shillings at 4,000 mL (KES) or 400 mL (UGX) each, and any small amount. */
const creditMl = fc.oneof(
  fc.integer({ min: 1, max: 4095 }).map((kes) => kes * 4000),
  fc.integer({ min: 1, max: 4095 }).map((ugx) => ugx * 400),
  fc.integer({ min: 1, max: 16_383 }),
);
const issued = fc
  .record({ key, counter, creditMl })
  .map(({ key, counter, creditMl }) => ({ key, counter, creditMl, token: issueKeypadToken(key, counter, creditMl)! }));

describe('keypad tokens', () => {
  it('are 15 digits that open to their counter and credit from anywhere in the window', () => {
    fc.assert(
      fc.property(issued, fc.integer({ min: -TOKEN_COUNTER_WINDOW, max: TOKEN_COUNTER_WINDOW - 1 }), (t, offset) => {
        expect(t.token).toMatch(/^[0-9]{15}$/);
        expect(tokenDigitsValid(t.token)).toBe(true);
        const base = Math.max(0, t.counter + offset);
        expect(openKeypadToken(t.key, t.token, base)).toEqual({ counter: t.counter, credit_ml: t.creditMl });
      }),
      seeded,
    );
  });

  it('refuse any single altered digit, at the keypad already (check digit)', () => {
    fc.assert(
      fc.property(issued, fc.nat(14), fc.integer({ min: 1, max: 9 }), (t, at, change) => {
        const digit = (Number(t.token[at]) + change) % 10;
        const altered = `${t.token.slice(0, at)}${digit}${t.token.slice(at + 1)}`;
        expect(tokenDigitsValid(altered)).toBe(false);
        expect(openKeypadToken(t.key, altered, t.counter)).toBeNull();
      }),
      seeded,
    );
  });

  it('refuse two adjacent digits swapped', () => {
    fc.assert(
      fc.property(issued, fc.nat(13), (t, at) => {
        fc.pre(t.token[at] !== t.token[at + 1]);
        const swapped = `${t.token.slice(0, at)}${t.token[at + 1]}${t.token[at]}${t.token.slice(at + 2)}`;
        expect(openKeypadToken(t.key, swapped, t.counter)).toBeNull();
      }),
      seeded,
    );
  });

  it('refuse another customer’s key', () => {
    fc.assert(
      fc.property(issued, key, (t, other) => {
        fc.pre(other !== t.key);
        expect(openKeypadToken(other, t.token, t.counter)).toBeNull();
      }),
      seeded,
    );
  });

  it('open only within 32 counters of what the kiosk knows', () => {
    fc.assert(
      fc.property(issued, fc.integer({ min: TOKEN_COUNTER_WINDOW, max: 10_000 }), (t, distance) => {
        fc.pre(t.counter - distance - 1 >= 0 && t.counter + distance <= 2 ** 32 - 1);
        expect(openKeypadToken(t.key, t.token, t.counter + distance)).toBeNull();
        expect(openKeypadToken(t.key, t.token, t.counter - distance - 1)).toBeNull();
      }),
      seeded,
    );
  });

  it('refuse random digits with a right check digit (a guess)', () => {
    // A fixed key too: with a random one, 2,000 guesses pass the MAC once in ~4,000 runs.
    const k = Buffer.alloc(32, 0x5a).toString('base64url');
    let accepted = 0;
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{14}$/), (payload) => {
        const guess = [...'0123456789'].map((d) => payload + d).find(tokenDigitsValid)!;
        if (openKeypadToken(k, guess, 100) !== null) accepted += 1;
      }),
      { ...seeded, numRuns: 2000 },
    );
    expect(accepted).toBe(0);
  });

  it('cover every whole-shilling top-up up to KES 4,095 and UGX 4,095, and refuse amounts they cannot carry exactly', () => {
    for (let kes = 1; kes <= 4095; kes += 1) expect(tokenCreditMl(tokenValueFor(kes * 4000)!)).toBe(kes * 4000);
    for (let ugx = 1; ugx <= 4095; ugx += 1) expect(tokenCreditMl(tokenValueFor(ugx * 400)!)).toBe(ugx * 400);
    for (const round of [4_000_000, 40_000_000, 1_000_000_000])
      expect(tokenCreditMl(tokenValueFor(round)!)).toBe(round);
    expect(tokenValueFor(16_385)).toBeNull();
    expect(tokenValueFor(0)).toBeNull();
    expect(tokenValueFor(-4000)).toBeNull();
    expect(issueKeypadToken(newTokenKey(), 1, 163_841)).toBeNull();
  });

  it('name their top-up event by customer and counter, as a UUID', () => {
    expect(tokenEventId('TS1234', 7)).toBe(tokenEventId('TS1234', 7));
    expect(tokenEventId('TS1234', 7)).not.toBe(tokenEventId('TS1234', 8));
    expect(tokenEventId('TS1234', 7)).not.toBe(tokenEventId('TS1235', 7));
    expect(Id.safeParse(tokenEventId('TS1234', 7)).success).toBe(true);
  });

  it('show as three groups of five', () => {
    expect(groupTokenDigits('123456789012345')).toBe('12345 67890 12345');
  });
});
