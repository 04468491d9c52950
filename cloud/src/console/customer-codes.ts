import { randomInt } from 'node:crypto';
import { newId } from '@tusafishe/protocol';
import { hashSecret, verifySecret } from '@tusafishe/protocol/secret-hash';
import type { Queryable } from '../store/db.js';

/**
 * One-time codes sent to a customer's phone by SMS: a PIN reset (the customer redeems it on
 * USSD) or a phone change (sent to the new number, read back to the operator). Six digits, so
 * a code never looks like a 4-digit PIN; 15 minutes; 5 wrong tries spend it; one open code per
 * customer and purpose (a new one replaces it). Only a hash is kept: no operator sees a code.
 */
export type CodePurpose = 'pin_reset' | 'phone_change';
const CODE_TTL_MS = 15 * 60_000;
const MAX_CODE_ATTEMPTS = 5;
export const isCode = (input: string): boolean => /^[0-9]{6}$/.test(input);

export async function issueCode(
  tx: Queryable,
  input: { accountId: string; purpose: CodePurpose; operator: string; newPhone?: string },
  now: number = Date.now(),
): Promise<string> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await tx.query('UPDATE customer_codes SET used_at = $3 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL', [
    input.accountId,
    input.purpose,
    now,
  ]);
  await tx.query(
    `INSERT INTO customer_codes (code_id, account_id, purpose, code_hash, new_phone, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      newId(),
      input.accountId,
      input.purpose,
      await hashSecret(code),
      input.newPhone ?? null,
      now + CODE_TTL_MS,
      input.operator,
    ],
  );
  return code;
}

interface OpenCode {
  code_id: string;
  code_hash: string;
  new_phone: string | null;
}

async function openCode(
  db: Queryable,
  accountId: string,
  purpose: CodePurpose,
  now: number,
): Promise<OpenCode | undefined> {
  const [row] = await db.query<OpenCode>(
    `SELECT code_id, code_hash, new_phone FROM customer_codes
      WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 AND attempts < $4
      ORDER BY created_at DESC LIMIT 1`,
    [accountId, purpose, now, MAX_CODE_ATTEMPTS],
  );
  return row;
}

export async function hasOpenCode(db: Queryable, accountId: string, purpose: CodePurpose): Promise<boolean> {
  return (await openCode(db, accountId, purpose, Date.now())) !== undefined;
}

/**
 * Checks `code` against the customer's open code; a wrong one counts toward spending it when
 * `countFailure` (USSD replays earlier inputs: only the newest counts). Answers the open code
 * when right, so the caller can spend it with `spendCode` in the transaction that acts on it.
 */
export async function checkCode(
  db: Queryable,
  accountId: string,
  purpose: CodePurpose,
  code: string,
  countFailure: boolean,
  now: number = Date.now(),
): Promise<{ codeId: string; newPhone: string | null } | undefined> {
  const open = await openCode(db, accountId, purpose, now);
  if (!open || !isCode(code)) return undefined;
  if (await verifySecret(code, open.code_hash)) return { codeId: open.code_id, newPhone: open.new_phone };
  if (countFailure)
    await db.query('UPDATE customer_codes SET attempts = attempts + 1 WHERE code_id = $1', [open.code_id]);
  return undefined;
}

/** Marks a code used; false when another request spent it first. */
export async function spendCode(tx: Queryable, codeId: string, now: number = Date.now()): Promise<boolean> {
  const rows = await tx.query(
    'UPDATE customer_codes SET used_at = $2 WHERE code_id = $1 AND used_at IS NULL RETURNING 1',
    [codeId, now],
  );
  return rows.length === 1;
}
