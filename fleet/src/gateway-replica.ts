import { join } from 'node:path';
import type { CustomerRecord, LedgerEventType } from '@tusafishe/protocol';
import Database from 'better-sqlite3';
import { DATABASE_FILE, resolveSettings, Store } from '@tusafishe/gateway';

/**
 * Reads a gateway's own SQLite file (read-only, beside the running process, as WAL
 * allows) to see balances exactly as that gateway would use them to authorise.
 */
export function readGatewayBalances(dataDir: string, accountIds: readonly string[]): Map<string, number | undefined> {
  return withGatewayStore(dataDir, (store) => {
    const now = Date.now();
    return new Map(
      accountIds.map((id) => {
        const customer = store.customers.findByAccount(id);
        return [id, customer && store.availableBalanceMl(customer, now)];
      }),
    );
  });
}

/**
 * The customers of `accountIds` whose balances this gateway follows (kept current in its replica;
 * ARCHITECTURE §7, _A kiosk's SD card_): it authorises anyone else against the cloud's balance or, offline,
 * the offline daily limit.
 */
export function readGatewayFollowed(dataDir: string, kioskId: string, accountIds: readonly string[]): Set<string> {
  return withGatewayStore(dataDir, (store) => {
    const since = Date.now() - resolveSettings({}).followCustomersMs;
    return new Set(
      accountIds.filter((id) => {
        const customer = store.customers.findByAccount(id);
        return customer !== undefined && store.followed.follows(customer, kioskId, since);
      }),
    );
  });
}

/** A customer's record in this gateway's replica (PIN hash, version, lockout…), as it authorises with it. */
export function readGatewayCustomer(dataDir: string, accountId: string): CustomerRecord | undefined {
  return withGatewayStore(dataDir, (store) => store.customers.findByAccount(accountId));
}

/** mL each customer has on hold at this gateway: approvals whose dispense has not reported yet. */
export function readGatewayHolds(dataDir: string, accountIds: readonly string[]): Map<string, number> {
  return withGatewayStore(dataDir, (store) => {
    const now = Date.now();
    return new Map(accountIds.map((id) => [id, store.holds.heldMlFor(id, now)]));
  });
}

/** Ids of the ledger events of one type this gateway recorded. */
export function readGatewayEventIds(dataDir: string, type: LedgerEventType): string[] {
  return withGatewayStore(dataDir, (store) =>
    store.db.prepare<[string], string>('SELECT event_id FROM ledger_events WHERE type = ?').pluck().all(type),
  );
}

function withGatewayStore<T>(dataDir: string, read: (store: Store) => T): T {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return read(new Store(db));
  } finally {
    db.close();
  }
}
