import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, type CustomerRecord, type PullResponse } from '@tusafishe/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, PAGE_SIZE } from '../store/database.js';
import { Store } from '../store/store.js';
import { SyncStore } from './sync-store.js';

const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);
const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(dir = mkdtempSync(join(tmpdir(), 'sync-store-'))): { store: Store; sync: SyncStore; dir: string } {
  if (!dirs.includes(dir)) dirs.push(dir);
  const store = Store.open(dir);
  stores.push(store);
  return { store, sync: new SyncStore(store), dir };
}

function customer(n: number, balance: number, version: number): CustomerRecord {
  return {
    account_id: `TSF${String(n).padStart(6, '0')}`,
    phone: `+2547000${String(n).padStart(5, '0')}`,
    name: `Customer ${n}`,
    pin_hash: '$scrypt$ln=10,r=8,p=1$c2FsdA$a2V5',
    status: 'active',
    expires_at: null,
    daily_limit_ml: null,
    allowed_kiosks: null,
    balance_ml: balance,
    locked_until: null,
    version,
  };
}

const page = (customers: CustomerRecord[], cursor: string): PullResponse => ({
  customers,
  cursor,
  has_more: false,
  must_refetch: false,
});
/** The first replica (a refetch) built from what was staged and swapped in. */
const replicated = async (sync: SyncStore): Promise<void> => {
  expect(await sync.finishRefetch(new AbortController().signal)).toBe(true);
};
/** Staged rows set aside by a new refetch, not yet emptied. */
const setAside = (store: Store): number =>
  store.db
    .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name GLOB 'sync_incoming_*'")
    .pluck()
    .all()
    .reduce((rows, table) => rows + (store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number), 0);
/** TSF000001 draws 700 mL of 10 L here at T0. */
const dispensedHere = (store: Store) =>
  store.ledger.append({
    event_id: newId(),
    type: 'dispense',
    account_id: 'TSF000001',
    amount_ml: -700,
    occurred_at: T0,
  });
/** `dispensedHere`, and the cloud acknowledges it with balance 9,300 (version 2). */
function servedAndAcknowledged(store: Store, sync: SyncStore): void {
  const event = dispensedHere(store);
  sync.applyPushResponse(
    { acked: [event.event_id], rejected: [], balances: [{ account_id: 'TSF000001', balance_ml: 9300, version: 2 }] },
    T0 + 1000,
  );
}
const walBytes = (dir: string): number => statSync(join(dir, `${DATABASE_FILE}-wal`)).size;

describe("the balances a kiosk follows (ARCHITECTURE §7, _A kiosk's SD card_)", () => {
  const DAY = 86_400_000;
  function following(dir?: string): { store: Store; sync: SyncStore; dir: string } {
    const opened = open(dir);
    return { ...opened, sync: new SyncStore(opened.store, { kioskId: 'K1', followForMs: 30 * DAY }) };
  }
  const row = (store: Store, n: number) => store.customers.findByAccount(customer(n, 0, 0).account_id);

  it("writes nothing for another kiosk's customer whose balance alone changed; their profile, always", async () => {
    const { store, sync, dir } = following();
    await sync.applyPage(page([customer(1, 10_000, 1), customer(2, 10_000, 1)], '1'), T0);
    await replicated(sync);

    const before = walBytes(dir);
    // A dispense elsewhere, and a top-up with its keypad token (the counter moves with the balance).
    await sync.applyPage(page([customer(1, 2000, 2), { ...customer(2, 40_000, 3), token_counter: 1 }], '3'), T0 + 1000);
    expect(walBytes(dir)).toBe(before);
    expect(row(store, 1)).toMatchObject({ balance_ml: 10_000, version: 1 });
    expect(sync.state().cursor).toBe('3');

    // A new PIN (or status, limits, a new customer) reaches every kiosk, with the balance it carries.
    await sync.applyPage(
      page([{ ...customer(1, 1500, 4), pin_hash: '$scrypt$ln=10,r=8,p=1$c2FsdA$bmV3' }], '4'),
      T0 + 2000,
    );
    expect(row(store, 1)).toMatchObject({ balance_ml: 1500, version: 4 });
    await sync.applyPage(page([customer(3, 700, 5)], '5'), T0 + 3000);
    expect(row(store, 3)).toMatchObject({ balance_ml: 700 });
  });

  it('follows whom it served lately, and whom the cloud allows here by name', async () => {
    const { store, sync } = following();
    const allowedHere = { ...customer(2, 10_000, 1), allowed_kiosks: ['K1'] };
    await sync.applyPage(page([customer(1, 10_000, 1), allowedHere], '1'), T0);
    await replicated(sync);
    servedAndAcknowledged(store, sync);
    // A top-up, and a dispense at another kiosk: both written.
    await sync.applyPage(
      page([customer(1, 29_300, 3), { ...allowedHere, balance_ml: 5000, version: 4 }], '4'),
      T0 + 2000,
    );
    expect(row(store, 1)).toMatchObject({ balance_ml: 29_300, version: 3 });
    expect(row(store, 2)).toMatchObject({ balance_ml: 5000, version: 4 });

    // Unserved for the following's length after their dispense, the customer is another kiosk's again.
    await sync.applyPage(page([customer(1, 20_000, 5)], '5'), T0 + 30 * DAY);
    expect(row(store, 1)).toMatchObject({ balance_ml: 20_000 });
    await sync.applyPage(page([customer(1, 15_000, 6)], '6'), T0 + 30 * DAY + 1);
    expect(row(store, 1)).toMatchObject({ balance_ml: 20_000, version: 5 });
  });

  it("writes a looked-up record whatever it changes, and through a refetch's swap", async () => {
    const { store, sync } = following();
    await sync.applyPage(page([customer(1, 10_000, 1)], '1'), T0);
    await replicated(sync);
    sync.applyLookup(customer(1, 25_000, 7));
    expect(row(store, 1)).toMatchObject({ balance_ml: 25_000, version: 7 });

    // During a refetch: the old replica serves, and the new one is built with it.
    sync.startRefetch(T0 + 3000);
    await sync.applyPage({ ...page([customer(1, 10_000, 1)], '1'), has_more: true }, T0 + 3000);
    sync.applyLookup(customer(1, 24_000, 8));
    expect(row(store, 1)).toMatchObject({ balance_ml: 24_000, version: 8 });
    await sync.applyPage(page([], '8'), T0 + 5000);
    await replicated(sync);
    expect(row(store, 1)).toMatchObject({ balance_ml: 24_000, version: 8 });
  });
});

describe('sync store on the SD card', () => {
  it("writes nothing for the kiosk's own dispense coming back by pull; a crash re-pulls to the same replica", async () => {
    const { store, sync, dir } = open();
    await sync.applyPage(page([customer(1, 10_000, 1), customer(2, 10_000, 1)], '1'), T0);
    await replicated(sync);
    servedAndAcknowledged(store, sync);

    const before = walBytes(dir);
    await sync.applyPage(page([customer(1, 9300, 2)], '2'), T0 + 2000);
    expect(walBytes(dir)).toBe(before);
    expect(sync.state()).toMatchObject({ cursor: '2', lastPullAt: T0 + 2000 });

    // Power cut before the cursor reached the disk: the page is pulled again and changes nothing.
    const { sync: afterCrash, store: reopened } = open(dir);
    expect(afterCrash.state().cursor).toBe('1');
    await afterCrash.applyPage(page([customer(1, 9300, 2)], '2'), T0 + 3000);
    expect(reopened.customers.findByAccount('TSF000001')).toMatchObject({ balance_ml: 9300, version: 2 });
    expect(reopened.availableBalanceMl(reopened.customers.findByAccount('TSF000001')!, T0 + 3000)).toBe(9300);
  });

  it('an acknowledgement lost in a power cut (committed without an fsync) counts the event once and is pushed again', async () => {
    const { store, sync, dir } = open();
    sync.applyPage(page([customer(1, 10_000, 1)], '1'), T0);
    await replicated(sync);
    const event = dispensedHere(store);
    // What the card holds if the power goes before the acknowledgement's frames are written.
    const card = mkdtempSync(join(tmpdir(), 'sync-store-'));
    for (const file of [DATABASE_FILE, `${DATABASE_FILE}-wal`]) copyFileSync(join(dir, file), join(card, file));
    const ack = {
      acked: [event.event_id],
      rejected: [],
      balances: [{ account_id: 'TSF000001', balance_ml: 9300, version: 2 }],
    };
    sync.applyPushResponse(ack, T0 + 1000);

    const { store: restarted, sync: again } = open(card);
    const available = (): number =>
      restarted.availableBalanceMl(restarted.customers.findByAccount('TSF000001')!, T0 + 2000);
    expect(again.pendingBatch(10).map((e) => e.event_id)).toEqual([event.event_id]);
    expect(available()).toBe(9300);
    // The cloud merges by event id: the same push is acknowledged again with the same balance.
    again.applyPushResponse(ack, T0 + 2000);
    expect(again.pendingBatch(10)).toEqual([]);
    expect(available()).toBe(9300);
  });

  it('rewrites only what changed: a push answer the pull already brought writes nothing, a new name not the phone index', async () => {
    const { store, sync, dir } = open();
    await sync.applyPage(page([customer(1, 10_000, 1), customer(2, 10_000, 1)], '1'), T0);
    await replicated(sync);
    // The pull brought the new balance before the push answer did.
    await sync.applyPage(page([customer(1, 9300, 2)], '2'), T0 + 1000);
    let before = walBytes(dir);
    store.customers.applyBalances([{ account_id: 'TSF000001', balance_ml: 9300, version: 2 }]);
    expect(walBytes(dir)).toBe(before);

    before = walBytes(dir);
    expect(store.customers.applyRecords([{ ...customer(1, 9300, 3), name: 'Renamed' }])).toBe(1);
    const frames = (walBytes(dir) - before) / (PAGE_SIZE + 24);
    expect(frames).toBe(1); // the customers page; not the phone index's
    expect(store.customers.findByPhone(customer(1, 0, 0).phone)).toMatchObject({ name: 'Renamed', version: 3 });
  });

  it('writes the cursor every ten minutes and at close; a crash re-pulls to the same replica', async () => {
    const { store, sync, dir } = open();
    await sync.applyPage(page([customer(1, 10_000, 1)], '1'), T0);
    await replicated(sync);
    await sync.applyPage(page([customer(1, 10_000, 1)], '2'), T0 + 1000);
    await sync.applyPage(page([customer(2, 5000, 3)], '3'), T0 + 2000);
    expect(open(dir).sync.state().cursor).toBe('1');
    expect(store.customers.findByAccount('TSF000002')).toMatchObject({ balance_ml: 5000 });
    // A crash now: the pages after '1' come again, and change nothing more.
    const { sync: afterCrash, store: reopened } = open(dir);
    await afterCrash.applyPage(page([customer(1, 10_000, 1), customer(2, 5000, 3)], '3'), T0 + 3000);
    expect(reopened.customers.findByAccount('TSF000002')).toMatchObject({ balance_ml: 5000, version: 3 });

    await sync.applyPage(page([], '4'), T0 + 10 * 60_000 + 1);
    expect(open(dir).sync.state().cursor).toBe('4');
    await sync.applyPage(page([], '5'), T0 + 10 * 60_000 + 2);
    sync.flush(T0 + 10 * 60_000 + 3);
    expect(open(dir).sync.state()).toMatchObject({ cursor: '5', lastPullAt: T0 + 10 * 60_000 + 2 });
  });

  it('a new must_refetch mid-refetch sets the staged rows aside, empties them later and builds from the new feed only', async () => {
    const { store, sync } = open();
    await sync.applyPage(page([customer(1, 10_000, 1)], '1'), T0);
    await replicated(sync);
    sync.startRefetch(T0 + 1000);
    const first = [customer(1, 10_000, 1), customer(2, 10_000, 2), customer(3, 10_000, 3)];
    await sync.applyPage({ ...page(first, '3'), has_more: true }, T0 + 2000);
    expect(sync.staged()).toBe(3);

    // The cloud invalidates the cursor again: the staged rows are set aside whole (a DELETE of a
    // million held the gateway for seconds), not read by the new build, and emptied after its swap.
    sync.startRefetch(T0 + 3000);
    expect(sync.state()).toMatchObject({ refetching: true, cursor: null, refetchBoundary: null });
    expect(sync.staged()).toBe(0);
    expect(setAside(store)).toBe(3);
    // Customer 4's number goes to a new account 5 while the feed is read.
    const moved = { ...customer(5, 7000, 6), phone: customer(4, 0, 0).phone };
    await sync.applyPage(page([customer(1, 9000, 4), customer(4, 10_000, 5), moved], '6'), T0 + 4000);
    await replicated(sync);
    expect(store.db.prepare('SELECT account_id, balance_ml FROM customers ORDER BY account_id').raw().all()).toEqual([
      ['TSF000001', 9000],
      ['TSF000005', 7000],
    ]);
    expect(store.customers.count()).toBe(2);
    expect(setAside(store)).toBe(0);
    expect(store.db.prepare('SELECT count(*) FROM sync_incoming').pluck().get()).toBe(0);
  });

  it("keeps a technician's unlock made during a refetch through the swap, unless the cloud's record is newer", async () => {
    const { store, sync } = open();
    const LOCKED = T0 + 3_600_000;
    const locked = (n: number, version: number): CustomerRecord => ({
      ...customer(n, 10_000, version),
      locked_until: LOCKED,
    });
    await sync.applyPage(page([locked(1, 1), locked(2, 1)], '1'), T0);
    await replicated(sync);
    sync.startRefetch(T0 + 1000);
    await sync.applyPage({ ...page([locked(1, 1), locked(2, 1)], '2'), has_more: true }, T0 + 2000);
    // The technician unlocks both on the old replica, which serves until the swap.
    store.customers.clearLockout('TSF000001');
    store.customers.clearLockout('TSF000002');
    expect(store.customers.findByAccount('TSF000001')?.locked_until).toBeNull();
    // The cloud locks customer 2 again after the unlock (a newer record); the feed ends.
    await sync.applyPage(page([locked(2, 3)], '3'), T0 + 3000);
    await replicated(sync);
    expect(store.customers.findByAccount('TSF000001')).toMatchObject({ locked_until: null, version: 1 });
    expect(store.customers.findByAccount('TSF000002')).toMatchObject({ locked_until: LOCKED, version: 3 });

    // Outside a refetch an unlock is not kept for a later swap.
    store.customers.clearLockout('TSF000002');
    sync.startRefetch(T0 + 4000);
    await sync.applyPage(page([locked(1, 1), locked(2, 3)], '4'), T0 + 5000);
    await replicated(sync);
    expect(store.customers.findByAccount('TSF000002')?.locked_until).toBe(LOCKED);
  });

  it('keeps the last cloud contact in memory and on disk at most five minutes old', () => {
    const { store, dir } = open();
    store.setLastCloudContact(T0);
    store.setLastCloudContact(T0 + 60_000);
    expect(store.lastCloudContact()).toBe(T0 + 60_000);
    expect(open(dir).store.lastCloudContact()).toBe(T0);
    store.setLastCloudContact(T0 + 5 * 60_000);
    expect(open(dir).store.lastCloudContact()).toBe(T0 + 5 * 60_000);
  });
});
