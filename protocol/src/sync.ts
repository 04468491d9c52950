import * as z from 'zod/mini';
import { CustomerRecord, CustomerUsage } from './customer.js';
import { LedgerEvent } from './ledger-event.js';
import { AccountId, Id } from './schema-parts.js';

/**
 * Kiosk API: how a gateway syncs with the cloud (ARCHITECTURE §5). Pull and push are
 * both resumable and safe to repeat. Gateways authenticate with
 * `Authorization: Basic base64(kiosk_id:secret)`.
 */
export const SYNC_PATHS = {
  customers: '/kiosk/v1/customers',
  /**
   * GET: the same pages as `customers`, one JSON line each (`application/x-ndjson`) on one
   * response as the cloud publishes them, and an empty page after `wait_s` seconds without one
   * (the heartbeat a kiosk judges its link by). Gzipped, each page is its own gzip member. Ends
   * after a `must_refetch` page, or when the same kiosk opens another; the kiosk asks again from
   * its cursor.
   */
  customerStream: '/kiosk/v1/customers/stream',
  /**
   * GET: one customer's current record as the feed publishes it (`CustomerLookupResponse`), for a
   * gateway authorising a customer whose balance it does not follow. 404 `UNKNOWN_ACCOUNT` when no
   * customer has the id. Every customer, whatever its `allowed_kiosks`: the gateway judges those.
   */
  customer: '/kiosk/v1/customers/:account_id',
  events: '/kiosk/v1/events',
} as const;

/** `SYNC_PATHS.customer` for one account. */
export const customerPath = (accountId: string): string =>
  SYNC_PATHS.customer.replace(':account_id', encodeURIComponent(accountId));

export const CustomerLookupResponse = z.object({ customer: CustomerRecord });
export type CustomerLookupResponse = z.infer<typeof CustomerLookupResponse>;

/** The longest `follow_days` a kiosk may ask for: the cloud keeps who follows whom for 60 days. */
export const MAX_FOLLOW_DAYS = 60;

/**
 * GET customers and the stream: query string. `cursor` is opaque; `wait_s` > 0 long-polls when
 * nothing is new. With `follow_days`, a change to a customer's balance, usage and token counter
 * alone (a top-up, a dispense) is sent only when the kiosk follows the customer: it sent an event
 * of theirs within that many days, or their `allowed_kiosks` names it. Every other change (a new customer, a PIN, a status, limits, token
 * keys) and every record of a first replica is sent to every kiosk. Without it, every change.
 */
export const PullQuery = z.object({
  cursor: z.optional(z.string().check(z.regex(/^[0-9]{1,20}$/))),
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(5000))),
  wait_s: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(30))),
  follow_days: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_FOLLOW_DAYS))),
});
export type PullQuery = z.infer<typeof PullQuery>;

export const PullResponse = z.object({
  customers: z.array(CustomerRecord),
  /** Pass back unchanged to resume after the last record returned. */
  cursor: z.string(),
  has_more: z.boolean(),
  /** The cursor is no longer valid: drop the replica and pull from the start. */
  must_refetch: z.boolean(),
});
export type PullResponse = z.infer<typeof PullResponse>;

export const MAX_PUSH_BATCH = 500;

export const PushRequest = z.object({
  events: z.array(LedgerEvent).check(z.minLength(1), z.maxLength(MAX_PUSH_BATCH)),
});
export type PushRequest = z.infer<typeof PushRequest>;

export const PushResponse = z.object({
  /** Every id now durable in the cloud, including ones it already had. */
  acked: z.array(Id),
  rejected: z.array(z.object({ event_id: Id, code: z.string(), message: z.string() })),
  /** Authoritative balances (and, from a current cloud, daily usage) of the customers the batch touched. */
  balances: z.array(z.object({ account_id: AccountId, balance_ml: z.int(), version: z.int(), ...CustomerUsage.shape })),
});
export type PushResponse = z.infer<typeof PushResponse>;
