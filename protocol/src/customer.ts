import * as z from 'zod/mini';
import { AccountId, E164, EpochMs, KioskId } from './schema-parts.js';

export const CUSTOMER_STATUSES = ['active', 'inactive', 'suspended'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

/**
 * What the customer drew on `usage_day` (YYYY-MM-DD in the fleet's usage time zone, which every
 * kiosk of a fleet shares) at every kiosk, from the events the cloud has merged. A gateway adds
 * its own dispenses not yet acknowledged, for a daily limit that holds across kiosks. Optional:
 * absent from an older cloud; a gateway then counts only its own dispenses, as before.
 */
export const CustomerUsage = z.object({
  /** null: no dispense merged yet. A day other than the gateway's today counts as nothing drawn. */
  usage_day: z.optional(z.nullable(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)))),
  used_today_ml: z.optional(z.int().check(z.minimum(0))),
});
export type CustomerUsage = z.infer<typeof CustomerUsage>;

/**
 * What a gateway needs to verify the customer's keypad tokens offline (keypad-token.ts). Absent
 * from an older cloud, and for a customer who never had a token: no token is accepted then.
 */
export const CustomerTokens = z.object({
  /** The customer's token key (32 bytes, base64url). A secret: never logged, never shown to technicians. */
  token_key: z.optional(z.nullable(z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)))),
  /** The highest token counter the cloud has issued: every top-up with a token up to it is in `balance_ml`. */
  token_counter: z.optional(z.int().check(z.minimum(0), z.maximum(2 ** 32 - 1))),
  /** Counters of tokens an operator cancelled, newest first (at most 32: older ones are long in the balance). */
  tokens_void: z.optional(z.array(z.int().check(z.minimum(1))).check(z.maxLength(32))),
});
export type CustomerTokens = z.infer<typeof CustomerTokens>;

/**
 * A customer as the cloud publishes it to gateways. Profile fields are owned by the
 * cloud (ARCHITECTURE §3); `balance_ml` is the cloud's merged balance at `version`.
 */
export const CustomerRecord = z.object({
  account_id: AccountId,
  phone: E164,
  name: z.string().check(z.maxLength(80)),
  /** PHC string from `@tusafishe/protocol/secret-hash`; never the PIN. */
  pin_hash: z.string().check(z.maxLength(200)),
  status: z.enum(CUSTOMER_STATUSES),
  expires_at: z.nullable(EpochMs),
  daily_limit_ml: z.nullable(z.int().check(z.minimum(0))),
  /** null: every kiosk. */
  allowed_kiosks: z.nullable(z.array(KioskId)),
  balance_ml: z.int(),
  /** Cloud-wide lockout after repeated wrong PINs, merged from every kiosk. */
  locked_until: z.nullable(EpochMs),
  /** Cloud change sequence; a gateway keeps the highest it has applied. */
  version: z.int().check(z.minimum(0)),
  ...CustomerUsage.shape,
  ...CustomerTokens.shape,
});
export type CustomerRecord = z.infer<typeof CustomerRecord>;
