import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../gateway/src/store/database.js';
import { Store } from '../../gateway/src/store/store.js';

/**
 * Reads a gateway's own SQLite file (read-only, beside the running process, as WAL
 * allows) to see balances exactly as that gateway would use them to authorise.
 */
export function readGatewayBalances(dataDir: string, accountIds: readonly string[]): Map<string, number | undefined> {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    const store = new Store(db);
    const now = Date.now();
    return new Map(
      accountIds.map((id) => {
        const customer = store.customers.findByAccount(id);
        return [id, customer && store.availableBalanceMl(customer, now)];
      }),
    );
  } finally {
    db.close();
  }
}
