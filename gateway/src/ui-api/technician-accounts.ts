import type { Database } from 'better-sqlite3';
import { newId } from '@tusafishe/protocol';
import { hashSecret, verifySecret, type SecretHashCost } from '@tusafishe/protocol/secret-hash';
import { GatewayError } from '../errors.js';

/**
 * Technician passwords get a costlier scrypt than PINs (16 MiB, ~50 ms on a Pi 4): a
 * sign-in is rare, and a technician can change every dispenser's calibration.
 */
const TECHNICIAN_PASSWORD_COST: SecretHashCost = { ln: 14, r: 8, p: 1 };
export const MAX_FAILED_SIGN_INS = 5;
const SIGN_IN_LOCKOUT_MS = 15 * 60_000;
export const MIN_PASSWORD_LENGTH = 10;

export interface Technician {
  technicianId: string;
  username: string;
}

interface TechnicianRow {
  technician_id: string;
  username: string;
  password_hash: string;
  locked_until: number | null;
}

/** Creates a technician account (first account: from config or the provisioning command). */
export async function createTechnician(db: Database, username: string, password: string): Promise<Technician> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new GatewayError('WEAK_PASSWORD', MIN_PASSWORD_LENGTH);
  }
  const passwordHash = await hashSecret(password, TECHNICIAN_PASSWORD_COST);
  const technicianId = newId();
  const inserted = db
    .prepare(
      `INSERT INTO technicians (technician_id, username, password_hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (username) DO NOTHING`,
    )
    .run(technicianId, username, passwordHash, Date.now());
  if (inserted.changes === 0) throw new GatewayError('USERNAME_TAKEN', username);
  return { technicianId, username };
}

/**
 * Gives an account a new password, clears its lockout and ends its sessions, so a leaked
 * password or a browser left signed in stops working at once.
 */
export async function setTechnicianPassword(db: Database, username: string, password: string): Promise<void> {
  if (password.length < MIN_PASSWORD_LENGTH) throw new GatewayError('WEAK_PASSWORD', MIN_PASSWORD_LENGTH);
  const passwordHash = await hashSecret(password, TECHNICIAN_PASSWORD_COST);
  db.transaction(() => {
    const account = db
      .prepare(
        `UPDATE technicians SET password_hash = ?, failed_attempts = 0, locked_until = NULL
         WHERE username = ? RETURNING technician_id`,
      )
      .get(passwordHash, username) as Pick<TechnicianRow, 'technician_id'> | undefined;
    if (!account) throw new GatewayError('UNKNOWN_TECHNICIAN', username);
    db.prepare('DELETE FROM technician_sessions WHERE technician_id = ?').run(account.technician_id);
  })();
}

/** Removes an account and its sessions; its audit entries stay, under its technician id. */
export function removeTechnician(db: Database, username: string): void {
  const removed = db.prepare('DELETE FROM technicians WHERE username = ?').run(username);
  if (removed.changes === 0) throw new GatewayError('UNKNOWN_TECHNICIAN', username);
}

/** Creates the account only when it does not exist yet, so a restart with the same env is harmless. */
export async function ensureTechnician(db: Database, username: string, password: string): Promise<void> {
  const exists = db.prepare('SELECT 1 FROM technicians WHERE username = ?').get(username);
  if (!exists) await createTechnician(db, username, password);
}

/** A hash no password matches, checked for unknown usernames so they take as long as known ones. */
let decoyHash: Promise<string> | undefined;
const decoy = () => {
  decoyHash ??= hashSecret(newId(), TECHNICIAN_PASSWORD_COST);
  return decoyHash;
};

/**
 * Checks a password; after MAX_FAILED_SIGN_INS wrong ones the account is locked for
 * SIGN_IN_LOCKOUT_MS. Each attempt is counted as a failure in one statement before the
 * (slow) hash runs, so concurrent guesses each count and none outruns the lockout; a right
 * password then clears the count. Unknown users and wrong passwords answer alike, in the same time.
 */
export async function authenticateTechnician(
  db: Database,
  username: string,
  password: string,
  now: number = Date.now(),
): Promise<Technician> {
  const attempt = db
    .prepare(
      `UPDATE technicians SET
         failed_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END,
         locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END) >= @max
                             THEN @lockedUntil ELSE NULL END
       WHERE username = @username AND (locked_until IS NULL OR locked_until <= @now)
       RETURNING technician_id, username, password_hash`,
    )
    .get({ username, now, max: MAX_FAILED_SIGN_INS, lockedUntil: now + SIGN_IN_LOCKOUT_MS }) as
    | Pick<TechnicianRow, 'technician_id' | 'username' | 'password_hash'>
    | undefined;
  if (!attempt) {
    const locked = db
      .prepare('SELECT locked_until FROM technicians WHERE username = ? AND locked_until > ?')
      .get(username, now) as Pick<TechnicianRow, 'locked_until'> | undefined;
    if (locked) {
      throw new GatewayError('TECHNICIAN_LOCKED', {
        locked_until: locked.locked_until,
      });
    }
    await verifySecret(password, await decoy());
    throw invalidCredentials();
  }
  if (!(await verifySecret(password, attempt.password_hash))) throw invalidCredentials();
  db.prepare('UPDATE technicians SET failed_attempts = 0, locked_until = NULL WHERE technician_id = ?').run(
    attempt.technician_id,
  );
  return { technicianId: attempt.technician_id, username: attempt.username };
}

function invalidCredentials(): GatewayError {
  return new GatewayError('INVALID_CREDENTIALS');
}
