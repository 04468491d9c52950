import type { Db } from '../store/db.js';

/**
 * Makes the analytics rollups count days and months in `timeZone` (the fleet's usage day): a
 * cloud started with another zone than the last one rebuilds them from the ledger, once.
 */
export async function setAnalyticsTimeZone(db: Db, timeZone: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ time_zone: string }>('SELECT time_zone FROM analytics_settings FOR UPDATE');
    if (rows[0]?.time_zone === timeZone) return false;
    await tx.query('UPDATE analytics_settings SET time_zone = $1', [timeZone]);
    await tx.query('SELECT analytics_rebuild()');
    return true;
  });
}
