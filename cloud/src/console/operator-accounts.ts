import { newId } from '@tusafishe/protocol';
import { hashSecret, verifySecret, type SecretHashCost } from '@tusafishe/protocol/secret-hash';
import { CloudError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import { MIN_PASSWORD_LENGTH } from './password-rule.js';
import type { OperatorRole } from './roles.js';

/**
 * Operator passwords get a costly scrypt (16 MiB, as technicians' on the gateway): a sign-in
 * is rare, and an operator can move customers' credit.
 */
const OPERATOR_PASSWORD_COST: SecretHashCost = { ln: 14, r: 8, p: 1 };
export const MAX_FAILED_SIGN_INS = 5;
const SIGN_IN_LOCKOUT_MS = 15 * 60_000;

export interface Operator {
  operatorId: string;
  username: string;
  role: OperatorRole;
}

export interface OperatorListing extends Operator {
  disabled: boolean;
  lockedUntil: number | null;
  createdAt: number;
  /** Null until the first successful sign-in. */
  lastSignInAt: number | null;
  /** Wrong passwords since the last successful sign-in (or since the last lockout began counting anew). */
  failedAttempts: number;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new CloudError('WEAK_PASSWORD', `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
}

/** Creates an operator account (the first one: `npm run provision -- operator add`). */
export async function createOperator(
  db: Queryable,
  account: { username: string; role: OperatorRole; password: string },
): Promise<Operator> {
  checkPassword(account.password);
  const operatorId = newId();
  const rows = await db.query(
    `INSERT INTO operators (operator_id, username, role, password_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT (username) DO NOTHING RETURNING operator_id`,
    [operatorId, account.username, account.role, await hashSecret(account.password, OPERATOR_PASSWORD_COST)],
  );
  if (rows.length === 0) throw new CloudError('USERNAME_TAKEN', `operator "${account.username}" already exists`);
  return { operatorId, username: account.username, role: account.role };
}

/** Creates the account only when the name is free, so a restart with the same demo seed is harmless. */
export async function ensureOperator(
  db: Queryable,
  account: { username: string; role: OperatorRole; password: string },
): Promise<void> {
  const exists = await db.query('SELECT 1 FROM operators WHERE username = $1', [account.username]);
  if (exists.length === 0) await createOperator(db, account).catch(ignoreTaken);
}

function ignoreTaken(error: unknown): void {
  if (!(error instanceof CloudError && error.code === 'USERNAME_TAKEN')) throw error;
}

export async function listOperators(db: Queryable): Promise<OperatorListing[]> {
  const rows = await db.query<{
    operator_id: string;
    username: string;
    role: OperatorRole;
    disabled: boolean;
    locked_until: number | null;
    created_at: Date;
    last_sign_in_at: Date | null;
    failed_attempts: number;
  }>(
    `SELECT operator_id, username, role, disabled_at IS NOT NULL AS disabled, locked_until, created_at, last_sign_in_at,
            failed_attempts
       FROM operators ORDER BY username`,
  );
  return rows.map((row) => ({
    operatorId: row.operator_id,
    username: row.username,
    role: row.role,
    disabled: row.disabled,
    lockedUntil: row.locked_until,
    createdAt: new Date(row.created_at).getTime(),
    lastSignInAt: row.last_sign_in_at === null ? null : new Date(row.last_sign_in_at).getTime(),
    failedAttempts: Number(row.failed_attempts),
  }));
}

/** Disables (or enables again) an account; disabling also ends its sessions at once. */
export async function setOperatorDisabled(db: Queryable, username: string, disabled: boolean): Promise<Operator> {
  const rows = await db.query<{ operator_id: string; username: string; role: OperatorRole }>(
    `UPDATE operators SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) ELSE NULL END
      WHERE username = $1 RETURNING operator_id, username, role`,
    [username, disabled],
  );
  const row = rows[0];
  if (!row) throw new CloudError('UNKNOWN_OPERATOR', `no operator "${username}"`);
  if (disabled) await db.query('DELETE FROM operator_sessions WHERE operator_id = $1', [row.operator_id]);
  return { operatorId: row.operator_id, username: row.username, role: row.role };
}

/** Stores a new password and clears a sign-in lockout; which sessions end is the caller's choice. */
async function storePassword(db: Queryable, username: string, password: string): Promise<Operator> {
  checkPassword(password);
  const rows = await db.query<{ operator_id: string; username: string; role: OperatorRole }>(
    `UPDATE operators SET password_hash = $2, failed_attempts = 0, locked_until = NULL
      WHERE username = $1 RETURNING operator_id, username, role`,
    [username, await hashSecret(password, OPERATOR_PASSWORD_COST)],
  );
  const row = rows[0];
  if (!row) throw new CloudError('UNKNOWN_OPERATOR', `no operator "${username}"`);
  return { operatorId: row.operator_id, username: row.username, role: row.role };
}

/** An admin sets another's password: a lockout is cleared and all the account's sessions end. */
export async function resetOperatorPassword(db: Queryable, username: string, password: string): Promise<Operator> {
  const operator = await storePassword(db, username, password);
  await db.query('DELETE FROM operator_sessions WHERE operator_id = $1', [operator.operatorId]);
  return operator;
}

/**
 * An operator changes their own password, proving the current one first: a wrong one counts
 * towards the sign-in lockout like a wrong sign-in, so a left-open session cannot guess it.
 */
export async function changeOwnPassword(
  db: Queryable,
  username: string,
  passwords: { current: string; next: string },
): Promise<Operator> {
  checkPassword(passwords.next);
  await authenticateOperator(db, username, passwords.current).catch((error: unknown) => {
    if (error instanceof CloudError && error.code === 'INVALID_CREDENTIALS')
      throw new CloudError('WRONG_PASSWORD', 'the current password is wrong');
    throw error;
  });
  return storePassword(db, username, passwords.next);
}

/** A hash no password matches, checked for unknown or disabled accounts so they take as long as known ones. */
let decoyHash: Promise<string> | undefined;
const decoy = () => {
  decoyHash ??= hashSecret(newId(), OPERATOR_PASSWORD_COST);
  return decoyHash;
};

/**
 * Checks a password; after MAX_FAILED_SIGN_INS wrong ones the account is locked for
 * SIGN_IN_LOCKOUT_MS. Each attempt is counted as a failure in one statement before the slow
 * hash runs, so concurrent guesses each count and none outruns the lockout; a right password
 * then clears the count. Unknown, disabled and wrong answer alike, in the same time (the
 * gateway's technician sign-in, on PostgreSQL).
 */
export async function authenticateOperator(
  db: Queryable,
  username: string,
  password: string,
  now: number = Date.now(),
): Promise<Operator> {
  const [attempt] = await db.query<{
    operator_id: string;
    username: string;
    role: OperatorRole;
    password_hash: string;
  }>(
    `UPDATE operators SET
       failed_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END,
       locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END) >= $3
                           THEN $4::bigint ELSE NULL END
     WHERE username = $1 AND disabled_at IS NULL AND (locked_until IS NULL OR locked_until <= $2)
     RETURNING operator_id, username, role, password_hash`,
    [username, now, MAX_FAILED_SIGN_INS, now + SIGN_IN_LOCKOUT_MS],
  );
  if (!attempt) {
    const [locked] = await db.query<{ locked_until: number }>(
      'SELECT locked_until FROM operators WHERE username = $1 AND disabled_at IS NULL AND locked_until > $2',
      [username, now],
    );
    if (locked) throw new CloudError('OPERATOR_LOCKED', 'too many wrong passwords: try again later');
    await verifySecret(password, await decoy());
    throw invalidCredentials();
  }
  if (!(await verifySecret(password, attempt.password_hash))) throw invalidCredentials();
  await db.query('UPDATE operators SET failed_attempts = 0, locked_until = NULL WHERE operator_id = $1', [
    attempt.operator_id,
  ]);
  return { operatorId: attempt.operator_id, username: attempt.username, role: attempt.role };
}

function invalidCredentials(): CloudError {
  return new CloudError('INVALID_CREDENTIALS', 'wrong username or password');
}
