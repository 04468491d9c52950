import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Technician } from './technician-accounts.js';

export const SESSION_COOKIE = 'tusafishe_session';
export const SESSION_TTL_MS = 12 * 60 * 60_000;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Starts a session; returns the cookie value (256 random bits), of which only a hash is stored. */
export function startSession(db: Database, technician: Technician, now: number = Date.now()): string {
  const token = randomBytes(32).toString('base64url');
  db.prepare('DELETE FROM technician_sessions WHERE expires_at <= ?').run(now);
  db.prepare(
    'INSERT INTO technician_sessions (token_hash, technician_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
  ).run(hashToken(token), technician.technicianId, now, now + SESSION_TTL_MS);
  return token;
}

/** The technician a cookie value belongs to, or null when unknown or expired. */
export function findSession(db: Database, token: string | undefined, now: number = Date.now()): Technician | null {
  if (!token) return null;
  const row = db
    .prepare(
      `SELECT t.technician_id AS technicianId, t.username AS username
         FROM technician_sessions s JOIN technicians t USING (technician_id)
        WHERE s.token_hash = ? AND s.expires_at > ?`,
    )
    .get(hashToken(token), now) as Technician | undefined;
  return row ?? null;
}

export function endSession(db: Database, token: string | undefined): void {
  if (token) db.prepare('DELETE FROM technician_sessions WHERE token_hash = ?').run(hashToken(token));
}
