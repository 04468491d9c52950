import type { Queryable } from '../src/store/db.js';

/**
 * The console's fleet tables analytics reads (hourly authorisation counts, contact hours), as
 * their migration makes them; created here only where that migration is not on this branch.
 */
export async function ensureFleetTables(db: Queryable): Promise<void> {
  await db.query(`CREATE TABLE IF NOT EXISTS kiosk_auth_counts (
    kiosk_id text NOT NULL, hour timestamptz NOT NULL, outcome text NOT NULL, count integer NOT NULL,
    PRIMARY KEY (kiosk_id, hour, outcome))`);
  await db.query(`CREATE TABLE IF NOT EXISTS kiosk_contact_hours (
    kiosk_id text NOT NULL, hour timestamptz NOT NULL, PRIMARY KEY (kiosk_id, hour))`);
}
