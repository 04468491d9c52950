import type { Database } from 'better-sqlite3';
import { newId } from '@tusafishe/protocol';
import { hashSecret, verifySecret, type SecretHashCost } from '@tusafishe/protocol/secret-hash';
import { TechnicianApiError } from './technician-errors.js';

/**
 * Technician passwords get a costlier scrypt than PINs (16 MiB, ~50 ms on a Pi 4): a
 * sign-in is rare, and a technician can change every dispenser's calibration.
 */
export const TECHNICIAN_PASSWORD_COST: SecretHashCost = { ln: 14, r: 8, p: 1 };
export const MAX_FAILED_SIGN_INS = 5;
export const SIGN_IN_LOCKOUT_MS = 15 * 60_000;
export const MIN_PASSWORD_LENGTH = 10;

export interface Technician {
  technicianId: string;
  username: string;
}

interface TechnicianRow {
  technician_id: string;
  username: string;
  password_hash: string;
  failed_attempts: number;
  locked_until: number | null;
}

/** Creates a technician account (first account: from config or the provisioning command). */
export async function createTechnician(db: Database, username: string, password: string): Promise<Technician> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new TechnicianApiError('WEAK_PASSWORD', 400, `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const passwordHash = await hashSecret(password, TECHNICIAN_PASSWORD_COST);
  const technicianId = newId();
  const inserted = db
    .prepare(
      `INSERT INTO technicians (technician_id, username, password_hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (username) DO NOTHING`,
    )
    .run(technicianId, username, passwordHash, Date.now());
  if (inserted.changes === 0)
    throw new TechnicianApiError('USERNAME_TAKEN', 409, `technician "${username}" already exists`);
  return { technicianId, username };
}

/** Creates the account only when it does not exist yet, so a restart with the same env is harmless. */
export async function ensureTechnician(db: Database, username: string, password: string): Promise<void> {
  const exists = db.prepare('SELECT 1 FROM technicians WHERE username = ?').get(username);
  if (!exists) await createTechnician(db, username, password);
}

/**
 * Checks a password; after MAX_FAILED_SIGN_INS wrong ones the account is locked for
 * SIGN_IN_LOCKOUT_MS. Unknown users and wrong passwords answer alike.
 */
export async function authenticateTechnician(
  db: Database,
  username: string,
  password: string,
  now: number = Date.now(),
): Promise<Technician> {
  const row = db
    .prepare(
      'SELECT technician_id, username, password_hash, failed_attempts, locked_until FROM technicians WHERE username = ?',
    )
    .get(username) as TechnicianRow | undefined;
  if (!row) throw invalidCredentials();
  if (row.locked_until !== null && row.locked_until > now) {
    throw new TechnicianApiError('TECHNICIAN_LOCKED', 423, 'too many wrong passwords: try again later', {
      locked_until: row.locked_until,
    });
  }
  if (!(await verifySecret(password, row.password_hash))) {
    const failures = row.failed_attempts + 1;
    const lockedUntil = failures >= MAX_FAILED_SIGN_INS ? now + SIGN_IN_LOCKOUT_MS : null;
    db.prepare('UPDATE technicians SET failed_attempts = ?, locked_until = ? WHERE technician_id = ?').run(
      lockedUntil === null ? failures : 0,
      lockedUntil,
      row.technician_id,
    );
    throw invalidCredentials();
  }
  db.prepare('UPDATE technicians SET failed_attempts = 0, locked_until = NULL WHERE technician_id = ?').run(
    row.technician_id,
  );
  return { technicianId: row.technician_id, username: row.username };
}

function invalidCredentials(): TechnicianApiError {
  return new TechnicianApiError('INVALID_CREDENTIALS', 401, 'wrong username or password');
}
