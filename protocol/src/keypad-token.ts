import { createHmac, randomBytes } from 'node:crypto';
import { v5 as uuidV5 } from 'uuid';
import {
  readTokenPayload,
  TOKEN_COUNTER_WINDOW,
  TOKEN_MAC_BITS,
  tokenCreditMl,
  tokenValueFor,
  writeTokenPayload,
} from './keypad-token-format.js';

/*
 * Keypad tokens (Node only): made by the cloud after a confirmed top-up, verified by a gateway
 * against the customer's key from its replica. The layout is in keypad-token-format.ts; why it
 * resists guessing and replay is in docs/ARCHITECTURE.md § Keypad tokens.
 */

/** Counters are 32-bit in the MAC; a customer's 4-billionth top-up is far away. */
const COUNTER_MAX = 2 ** 32 - 1;
const MAC_DOMAIN = Buffer.from('tusafishe/keypad-token/v1\0');
/** Namespace of the top-up event ids a token stands for (a random UUID, fixed forever). */
const TOKEN_EVENT_NAMESPACE = '5b0e3f52-6a55-4c1e-9a3b-0f6e8d1c2b7a';

/** A new per-customer key: 32 random bytes, base64url (43 characters), as the customer record carries it. */
export function newTokenKey(): string {
  return randomBytes(32).toString('base64url');
}

function mac(key: string, counter: number, value: number): number {
  const message = Buffer.alloc(8);
  message.writeUInt32BE(counter, 0);
  message.writeUInt32BE(value, 4);
  const digest = createHmac('sha256', Buffer.from(key, 'base64url')).update(MAC_DOMAIN).update(message).digest();
  return digest.readUInt32BE(0) >>> (32 - TOKEN_MAC_BITS);
}

/** The token for the customer's `counter`-th top-up of `creditMl`, or null when the amount has no token form. */
export function issueKeypadToken(key: string, counter: number, creditMl: number): string | null {
  if (!Number.isSafeInteger(counter) || counter < 1 || counter > COUNTER_MAX)
    throw new RangeError(`token counter ${counter} out of range`);
  const value = tokenValueFor(creditMl);
  if (value === null) return null;
  return writeTokenPayload({ mac: mac(key, counter, value), counterLow: counter % TOKEN_COUNTER_WINDOW, value });
}

export interface OpenedToken {
  counter: number;
  credit_ml: number;
}

/**
 * The counter and credit of a token made with `key`, or null. The token carries only the
 * counter's low 5 bits; the counter is the one with those bits in (base − 32, base] or in
 * (base, base + 32], where `base` is the highest counter the kiosk knows of (the cloud's, or
 * one it redeemed itself). Two MACs are compared, in constant time each.
 */
export function openKeypadToken(key: string, token: string, base: number): OpenedToken | null {
  const payload = readTokenPayload(token);
  if (!payload) return null;
  const below = base - ((base - payload.counterLow + TOKEN_COUNTER_WINDOW * 2 ** 27) % TOKEN_COUNTER_WINDOW);
  for (const counter of [below + TOKEN_COUNTER_WINDOW, below]) {
    if (counter < 1 || counter > COUNTER_MAX) continue;
    if (mac(key, counter, payload.value) === payload.mac) return { counter, credit_ml: tokenCreditMl(payload.value) };
  }
  return null;
}

/**
 * The id of the `topup` event behind a customer's `counter`-th token: the cloud writes its top-up
 * under it and a kiosk that redeems the token offline writes its credit under the same id, so the
 * ledger (a set keyed by event id) counts the credit once.
 */
export function tokenEventId(accountId: string, counter: number): string {
  return uuidV5(`${accountId}/${counter}`, TOKEN_EVENT_NAMESPACE);
}
