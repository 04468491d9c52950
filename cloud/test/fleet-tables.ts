import type { Queryable } from '../src/store/db.js';

/**
 * The console's fleet tables analytics and reports read (hourly authorisation counts, contact
 * hours, alerts), as their migration makes them; created here only where it is not on this branch.
 */
export async function ensureFleetTables(db: Queryable): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS kiosk_auth_counts (
    kiosk_id text NOT NULL, hour timestamptz NOT NULL, outcome text NOT NULL, count integer NOT NULL,
    PRIMARY KEY (kiosk_id, hour, outcome))`);
  await db.query(`CREATE TABLE IF NOT EXISTS kiosk_contact_hours (
    kiosk_id text NOT NULL, hour timestamptz NOT NULL, PRIMARY KEY (kiosk_id, hour))`);
  await db.query(`CREATE TABLE IF NOT EXISTS alerts (
    alert_id text PRIMARY KEY, source text NOT NULL, rule text NOT NULL, subject text NOT NULL, kiosk_id text,
    severity text NOT NULL, message text NOT NULL, raised_at timestamptz NOT NULL, cleared_at timestamptz)`);
}
