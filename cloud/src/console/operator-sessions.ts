import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/db.js';
import type { Operator } from './operator-accounts.js';
import type { OperatorRole } from './roles.js';

export const SESSION_COOKIE = 'tusafishe_console';
export const SESSION_TTL_MS = 12 * 60 * 60_000;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Starts a session after a successful sign-in (the operator's last sign-in is now); returns the
 * cookie value (256 random bits), of which only a hash is stored.
 */
export async function startSession(db: Queryable, operator: Operator, now: number = Date.now()): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query('DELETE FROM operator_sessions WHERE expires_at <= $1', [now]);
  await db.query(
    'INSERT INTO operator_sessions (token_hash, operator_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
    [hashToken(token), operator.operatorId, now, now + SESSION_TTL_MS],
  );
  await db.query(
    'UPDATE operators SET last_sign_in_at = to_timestamp($2::double precision / 1000) WHERE operator_id = $1',
    [operator.operatorId, now],
  );
  return token;
}

/** The (enabled) operator a cookie value belongs to, or null when unknown or expired. */
export async function findSession(
  db: Queryable,
  token: string | undefined,
  now: number = Date.now(),
): Promise<Operator | null> {
  if (!token) return null;
  const [row] = await db.query<{ operator_id: string; username: string; role: OperatorRole }>(
    `SELECT o.operator_id, o.username, o.role
       FROM operator_sessions s JOIN operators o USING (operator_id)
      WHERE s.token_hash = $1 AND s.expires_at > $2 AND o.disabled_at IS NULL`,
    [hashToken(token), now],
  );
  return row ? { operatorId: row.operator_id, username: row.username, role: row.role } : null;
}

export async function endSession(db: Queryable, token: string | undefined): Promise<void> {
  if (token) await db.query('DELETE FROM operator_sessions WHERE token_hash = $1', [hashToken(token)]);
}

/** Ends every session of an operator but the one `keepToken` belongs to (after they change their password). */
export async function endOtherSessions(
  db: Queryable,
  operatorId: string,
  keepToken: string | undefined,
): Promise<void> {
  await db.query('DELETE FROM operator_sessions WHERE operator_id = $1 AND token_hash <> $2', [
    operatorId,
    hashToken(keepToken ?? ''),
  ]);
}
