/*
 * The keypad token's layout, without cryptography: what the dispenser checks before it sends a
 * token (length, digits, check digit), and what the SMS and the LCD show. Safe on every runtime
 * (no Node built-ins); the MAC is made and verified in `@tusafishe/protocol/keypad-token`.
 *
 * A token is 15 digits: a 14-digit payload, then a Damm check digit. The payload is one 46-bit
 * integer: MAC (24 bits) · counter mod 32 (5 bits) · credit (17 bits: 3-bit power of ten, 14-bit
 * mantissa, in mL). docs/ARCHITECTURE.md § Keypad tokens says why it resists guessing and replay.
 */

export const TOKEN_DIGITS = 15;
export const TOKEN_PATTERN = /^[0-9]{15}$/;
export const TOKEN_MAC_BITS = 24;
export const TOKEN_COUNTER_BITS = 5;
/** Counters a kiosk tells apart on either side of what it knows: 32 (OpenPAYGO's idea of a window). */
export const TOKEN_COUNTER_WINDOW = 2 ** TOKEN_COUNTER_BITS;
const VALUE_BITS = 17;
const MANTISSA_MAX = 16_383;
const EXPONENT_MAX = 7;

// Damm's quasigroup of order 10: one check digit catches every single-digit error and every swap
// of two adjacent digits, so a typo is told apart at the keypad and never counts toward a lockout.
const DAMM = [
  '0317598642',
  '7092154863',
  '4206871359',
  '1750983426',
  '6123045978',
  '3674209581',
  '5869720134',
  '8945362017',
  '9438617205',
  '2581436790',
];

function dammDigit(digits: string): number {
  let interim = 0;
  for (const digit of digits) interim = DAMM[interim]!.charCodeAt(Number(digit)) - 48;
  return interim;
}

/** What the payload carries, before the MAC is checked. */
export interface TokenPayload {
  mac: number;
  counterLow: number;
  /** The 17-bit credit field (see `tokenCreditMl`). */
  value: number;
}

/** True for 15 digits with a right check digit: worth sending to the gateway. */
export function tokenDigitsValid(token: string): boolean {
  return TOKEN_PATTERN.test(token) && dammDigit(token) === 0;
}

/** The payload of a well-typed token, or null (a typo, or not a token at all). */
export function readTokenPayload(token: string): TokenPayload | null {
  if (!tokenDigitsValid(token)) return null;
  const payload = Number(token.slice(0, TOKEN_DIGITS - 1));
  if (payload >= 2 ** (TOKEN_MAC_BITS + TOKEN_COUNTER_BITS + VALUE_BITS)) return null;
  const value = payload % 2 ** VALUE_BITS;
  const rest = Math.floor(payload / 2 ** VALUE_BITS);
  return { value, counterLow: rest % TOKEN_COUNTER_WINDOW, mac: Math.floor(rest / TOKEN_COUNTER_WINDOW) };
}

/** The 15 digits of a payload, check digit last. */
export function writeTokenPayload({ mac, counterLow, value }: TokenPayload): string {
  const payload = (mac * TOKEN_COUNTER_WINDOW + counterLow) * 2 ** VALUE_BITS + value;
  const digits = String(payload).padStart(TOKEN_DIGITS - 1, '0');
  return `${digits}${dammDigit(digits)}`;
}

/**
 * The credit field for `ml`: mantissa × 10^exponent with the smallest exponent, or null when
 * `ml` has no such form (a mantissa above 16,383 at every power of ten: no token is issued then).
 * At the tariffs in use (KES 5 per 20 L = 4,000 mL per shilling, UGX 50 per 20 L = 400 mL per
 * shilling) every top-up up to KES 4,095 and UGX 4,095 has one, and round amounts far beyond
 * (UGX 10,000 = 4 × 10^6 mL).
 */
export function tokenValueFor(ml: number): number | null {
  if (!Number.isSafeInteger(ml) || ml < 1) return null;
  for (let exponent = 0, scale = 1; exponent <= EXPONENT_MAX; exponent++, scale *= 10) {
    if (ml % scale !== 0) return null;
    if (ml / scale <= MANTISSA_MAX) return exponent * (MANTISSA_MAX + 1) + ml / scale;
  }
  return null;
}

/** mL a credit field stands for (0 for a field no token carries). */
export function tokenCreditMl(value: number): number {
  const mantissa = value % (MANTISSA_MAX + 1);
  return mantissa * 10 ** Math.floor(value / (MANTISSA_MAX + 1));
}

/** Three groups of five, as the SMS and the LCD show a token: `12345 67890 12345`. */
export function groupTokenDigits(token: string): string {
  return token.replace(/(\d{5})(?=\d)/g, '$1 ');
}

/**
 * How a gateway answers a typed token, with the LCD text (≤ 20 characters). ADDED credits the
 * token's amount; ALREADY_ADDED: the kiosk already has that top-up from the cloud (nothing added);
 * USED: this kiosk redeemed it before; VOID: an operator cancelled it; WRONG_TOKEN counts toward
 * the lockouts; LOCKED_OUT: too many wrong tokens for this customer or at this dispenser.
 */
export const TOKEN_OUTCOMES = {
  ADDED: 'Credit added',
  ALREADY_ADDED: 'Already added',
  USED: 'Token already used',
  VOID: 'Token cancelled',
  WRONG_TOKEN: 'Wrong token',
  LOCKED_OUT: 'Locked: try later',
  UNKNOWN_CUSTOMER: 'Number not found',
  INVALID_REQUEST: 'Invalid request',
  UNAVAILABLE: 'Kiosk fault: later',
} as const;
export type TokenOutcome = keyof typeof TOKEN_OUTCOMES;
export const TOKEN_OUTCOME_CODES = Object.keys(TOKEN_OUTCOMES) as [TokenOutcome, ...TokenOutcome[]];
