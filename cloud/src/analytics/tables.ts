import type { Queryable } from '../store/db.js';

/** True when `table` exists: the fleet's tables (console-fleet's migration) are read only where they are. */
export async function hasTable(db: Queryable, table: string): Promise<boolean> {
  const rows = await db.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table]);
  return rows[0]?.found != null;
}
