import { tokenValueFor, type LedgerEvent } from '@tusafishe/protocol';
import { issueKeypadToken, newTokenKey, tokenEventId } from '@tusafishe/protocol/keypad-token';
import type { Queryable } from '../store/db.js';

/*
 * Keypad tokens in the cloud (ARCHITECTURE §5a): one per confirmed top-up whose credit has a
 * token form, under the customer's key (made with their first token, rotatable); replicated to
 * gateways in the customer record; redeemed offline at a kiosk, which pushes its credit under the
 * top-up's own event id.
 */

export interface IssuedToken {
  counter: number;
  /** The 15 digits. */
  token: string;
  /** The id the top-up event must have: a kiosk that redeems the token writes its credit under it. */
  eventId: string;
}

/**
 * Takes the customer's next token counter for a top-up of `creditMl` (their key is made with the
 * customer; one made before keys existed gets it here), in the top-up's transaction, so every record that shows the counter shows the credit.
 * Undefined when the amount has no token form (the top-up is credited all the same).
 */
export async function issueToken(tx: Queryable, accountId: string, creditMl: number): Promise<IssuedToken | undefined> {
  if (tokenValueFor(creditMl) === null) return undefined;
  const rows = await tx.query<{ token_counter: number | string; token_key: string }>(
    `UPDATE customers SET token_counter = token_counter + 1, token_key = coalesce(token_key, $2)
     WHERE account_id = $1 RETURNING token_counter, token_key`,
    [accountId, newTokenKey()],
  );
  const row = rows[0];
  if (!row) return undefined;
  const counter = Number(row.token_counter);
  const eventId = tokenEventId(accountId, counter);
  await tx.query('INSERT INTO keypad_tokens (account_id, counter, event_id, credit_ml) VALUES ($1, $2, $3, $4)', [
    accountId,
    counter,
    eventId,
    creditMl,
  ]);
  return { counter, token: issueKeypadToken(row.token_key, counter, creditMl)!, eventId };
}

/** The newest token of the customer no kiosk has redeemed and no operator voided (USSD balance). */
export async function lastUnusedToken(db: Queryable, accountId: string): Promise<string | undefined> {
  const rows = await db.query<{ token_key: string; counter: number | string; credit_ml: number | string }>(
    `SELECT c.token_key, t.counter, t.credit_ml FROM keypad_tokens t JOIN customers c USING (account_id)
     WHERE t.account_id = $1 AND t.redeemed_at IS NULL AND t.voided_at IS NULL AND c.token_key IS NOT NULL
     ORDER BY t.counter DESC LIMIT 1`,
    [accountId],
  );
  const row = rows[0];
  return row ? (issueKeypadToken(row.token_key, Number(row.counter), Number(row.credit_ml)) ?? undefined) : undefined;
}

/**
 * Which of a kiosk's pushed `topup` events are redemptions of tokens the cloud issued, for that
 * customer and amount: those are acknowledged (the cloud holds the top-up under the same id, so
 * the union counts it once) and recorded as redeemed at the kiosk. Returns their ids.
 */
export async function acceptRedemptions(
  tx: Queryable,
  kioskId: string,
  events: readonly LedgerEvent[],
): Promise<Set<string>> {
  const topups = events.filter((event) => event.type === 'topup' && event.account_id);
  if (topups.length === 0) return new Set();
  const rows = await tx.query<{ event_id: string }>(
    `UPDATE keypad_tokens t SET
       redeemed_at = coalesce(t.redeemed_at, to_timestamp(r.occurred_at / 1000.0)),
       redeemed_kiosks = CASE WHEN $5 = ANY(t.redeemed_kiosks) THEN t.redeemed_kiosks ELSE t.redeemed_kiosks || $5::text END
     FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[]) AS r(event_id, account_id, credit_ml, occurred_at)
     WHERE t.event_id = r.event_id AND t.account_id = r.account_id AND t.credit_ml = r.credit_ml
     RETURNING t.event_id::text AS event_id`,
    [
      topups.map((e) => e.event_id),
      topups.map((e) => e.account_id),
      topups.map((e) => e.amount_ml),
      topups.map((e) => e.occurred_at),
      kioskId,
    ],
  );
  return new Set(rows.map((row) => row.event_id));
}

export interface TokenView {
  counter: number;
  event_id: string;
  credit_ml: number;
  issued_at: string;
  redeemed_at: string | null;
  /** Kiosks that redeemed it before they synced (more than one: credit spent twice offline, bounded by the offline limit). */
  redeemed_kiosks: string[];
  voided_at: string | null;
  voided_by: string | null;
}

/** A customer's tokens, newest first, for operators (never the digits: the customer has those). */
export async function tokensOf(db: Queryable, accountId: string, limit = 50): Promise<TokenView[]> {
  const rows = await db.query<TokenView & { counter: number | string; credit_ml: number | string }>(
    `SELECT counter, event_id::text AS event_id, credit_ml, issued_at::text AS issued_at, redeemed_at::text AS redeemed_at,
       redeemed_kiosks, voided_at::text AS voided_at, voided_by
     FROM keypad_tokens WHERE account_id = $1 ORDER BY counter DESC LIMIT $2`,
    [accountId, limit],
  );
  return rows.map((row) => ({ ...row, counter: Number(row.counter), credit_ml: Number(row.credit_ml) }));
}

/**
 * Voids a token: kiosks refuse it once they sync (the customer record's `tokens_void`); its credit
 * stays on the account. False when there is no such token or it is void already.
 */
export async function voidToken(tx: Queryable, accountId: string, counter: number, operator: string): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE keypad_tokens SET voided_at = now(), voided_by = $3
     WHERE account_id = $1 AND counter = $2 AND voided_at IS NULL RETURNING counter`,
    [accountId, counter, operator],
  );
  if (rows.length === 0) return false;
  await tx.query('UPDATE customers SET tokens_void = (ARRAY[$2::bigint] || tokens_void)[1:32] WHERE account_id = $1', [
    accountId,
    counter,
  ]);
  return true;
}

/** A new key for the customer: tokens not yet redeemed stop working at kiosks once they sync. */
export async function rotateTokenKey(tx: Queryable, accountId: string): Promise<boolean> {
  const rows = await tx.query('UPDATE customers SET token_key = $2 WHERE account_id = $1 RETURNING account_id', [
    accountId,
    newTokenKey(),
  ]);
  return rows.length > 0;
}
