import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, type CustomerRecord, type LedgerEvent } from '@tusafishe/protocol';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.js';
import { Store } from '../store/store.js';
import { startFakeKioskCloud, type FakeKioskCloud } from './fake-kiosk-cloud.js';
import { startSync, type SyncWorker } from './sync.js';

const KIOSK = 'K1';
const SECRET = 'kiosk-secret-123';
const logger = createLogger({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function customer(n: number, balance = 10_000): Omit<CustomerRecord, 'version'> {
  return {
    account_id: `AQP${String(n).padStart(6, '0')}`,
    phone: `+2547${String(n).padStart(8, '0')}`,
    name: `Customer ${n}`,
    pin_hash: '$scrypt$ln=10,r=8,p=1$c2FsdA$a2V5',
    status: 'active',
    expires_at: null,
    daily_limit_ml: null,
    allowed_kiosks: null,
    balance_ml: balance,
    locked_until: null,
  };
}

function dispense(accountId: string, ml: number, kioskId = KIOSK): LedgerEvent {
  const id = newId();
  return {
    event_id: id,
    type: 'dispense',
    account_id: accountId,
    amount_ml: -ml,
    kiosk_id: kioskId,
    dispenser_id: 'D1',
    source_id: id,
    occurred_at: Date.now(),
  };
}

async function cloud(): Promise<FakeKioskCloud> {
  const fake = await startFakeKioskCloud(KIOSK, SECRET);
  cleanups.push(() => fake.close());
  return fake;
}

function openStore(dir?: string): { store: Store; dir: string } {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'sync-worker-'));
  if (!dir) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = Store.open(dataDir);
  cleanups.push(() => store.close());
  return { store, dir: dataDir };
}

function start(store: Store, cloudUrl: string, extra: Record<string, string> = {}, registry?: Registry): SyncWorker {
  const env = { CLOUD_URL: cloudUrl, KIOSK_ID: KIOSK, KIOSK_SECRET: SECRET, SYNC_PAGE_SIZE: '50', ...extra };
  const worker = startSync({
    store,
    env,
    settings: { offlineAfterMs: 6_000 },
    logger,
    backoff: { initialMs: 20, maxMs: 200 },
    ...(registry && { registry }),
  });
  cleanups.push(() => worker.close());
  return worker;
}

/** vi.waitFor for a value that is set (not undefined or false); generous for a loaded machine. */
const until = <T>(probe: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> =>
  vi.waitFor(
    () => {
      const value = probe();
      expect(value !== undefined && value !== false, what).toBe(true);
      return value as T;
    },
    { timeout: Math.max(timeoutMs, 30_000), interval: 20 },
  );

describe('sync worker', () => {
  it('pulls the whole replica in pages, then a change arrives by long-poll', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 120; n++) fake.put(customer(n));
    const { store } = openStore();
    const worker = start(store, fake.url);

    await until(() => store.customers.count() === 120, 'full replica');
    await until(() => worker.status().last_pull_at !== null && worker.status().online, 'online');
    fake.put({ ...customer(7), name: 'Renamed by USSD' });
    await until(() => store.customers.findByAccount('AQP000007')?.name === 'Renamed by USSD', 'long-polled change');
    expect(worker.status()).toMatchObject({
      enabled: true,
      online: true,
      replica_size: 120,
      offline_limit_active: false,
    });
    expect(store.lastCloudContact()).not.toBeNull();
  });

  it('skips a customer record its schema refuses, reports it, and applies the rest of the page', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 5; n++) fake.put(customer(n));
    // A record a newer cloud (or a corrupted row) sends that this gateway cannot hold.
    fake.put({ ...customer(6), phone: 'not-a-phone', daily_limit_ml: -5 } as unknown as Omit<
      CustomerRecord,
      'version'
    >);
    for (let n = 7; n <= 9; n++) fake.put(customer(n));
    const { store } = openStore();
    const registry = new Registry();
    const worker = start(store, fake.url, {}, registry);

    await until(() => store.customers.count() === 8, 'the good records of the page');
    expect(store.customers.findByAccount('AQP000006')).toBeUndefined();
    expect(worker.status()).toMatchObject({
      online: true,
      last_error: null,
      records_skipped: 1,
      skipped_records: [{ account_id: 'AQP000006', version: 6, reason: expect.stringContaining('phone') }],
    });
    expect(await registry.metrics()).toMatch(/^tusafishe_sync_skipped_records_total 1$/m);
    // Sync carries on past it: later changes arrive, and a corrected record is taken.
    fake.put(customer(6));
    fake.put({ ...customer(1), name: 'Still syncing' });
    await until(() => store.customers.findByAccount('AQP000001')?.name === 'Still syncing', 'a later change');
    expect(store.customers.findByAccount('AQP000006')).toBeDefined();
  });

  it('pushes events, marks them acknowledged and takes the cloud balance; a lost answer counts once', async () => {
    const fake = await cloud();
    fake.put(customer(1, 10_000));
    const { store } = openStore();
    const worker = start(store, fake.url);
    await until(() => store.customers.count() === 1, 'replica');

    fake.dropNextPushAnswer();
    store.ledger.append(dispense('AQP000001', 1_500));
    store.ledger.append(dispense('AQP000001', 500));
    worker.nudge();
    await until(() => worker.status().events_waiting === 0, 'acks after a lost answer');

    expect(fake.events.size).toBe(2);
    expect(fake.customers.get('AQP000001')?.balance_ml).toBe(8_000);
    const local = store.customers.findByAccount('AQP000001') as CustomerRecord;
    expect(store.availableBalanceMl(local, Date.now())).toBe(8_000);
    expect(worker.status().last_push_at).not.toBeNull();
  });

  it('keeps its cursor and unacked events across a restart while the cloud is down', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 60; n++) fake.put(customer(n));
    const first = openStore();
    const worker = start(first.store, fake.url);
    await until(() => first.store.customers.count() === 60, 'replica');
    const cursor = await until(() => worker.status().cursor ?? undefined, 'cursor');
    await worker.close();
    first.store.close();

    // Cloud unreachable: the gateway keeps serving from its replica and queues events.
    const reopened = openStore(first.dir);
    const offline = start(reopened.store, 'http://127.0.0.1:9', {});
    reopened.store.ledger.append(dispense('AQP000002', 700));
    await until(() => offline.status().last_error?.code === 'CLOUD_UNREACHABLE', 'offline status');
    expect(offline.status()).toMatchObject({ online: false, events_waiting: 1, replica_size: 60, cursor });
    await offline.close();

    fake.put(customer(61));
    const pullsBefore = fake.pulls.length;
    const back = start(reopened.store, fake.url);
    await until(() => back.status().events_waiting === 0 && reopened.store.customers.count() === 61, 'resume');
    expect(fake.pulls[pullsBefore]).toBe(cursor);
    expect(fake.customers.get('AQP000002')?.balance_ml).toBe(9_300);
  });

  it('honours must_refetch: pulls everything again and drops accounts the cloud no longer has', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 80; n++) fake.put(customer(n));
    const { store } = openStore();
    const worker = start(store, fake.url);
    await until(() => store.customers.count() === 80, 'replica');

    fake.remove('AQP000003');
    fake.invalidateCursors();
    fake.put({ ...customer(4), name: 'Changed' });
    await until(() => store.customers.count() === 79 && !worker.status().refetching, 'refetched replica');
    expect(fake.pulls).toContain(null);
    expect(store.customers.findByAccount('AQP000003')).toBeUndefined();
    expect(store.customers.findByAccount('AQP000004')?.name).toBe('Changed');
  });

  it("first full pull leaves exactly the cloud's customers (locally seeded ones go)", async () => {
    const fake = await cloud();
    for (let n = 1; n <= 70; n++) fake.put(customer(n));
    const { store } = openStore();
    store.customers.applyRecords([{ ...customer(900), version: 0 }]);
    const worker = start(store, fake.url);
    await until(() => store.customers.count() === 70 && !worker.status().refetching, 'first replica');
    expect(store.customers.findByAccount('AQP000900')).toBeUndefined();
  });

  it("stopped mid-replica, resumes from its cursor and ends with exactly the cloud's customers", async () => {
    const fake = await cloud();
    for (let n = 1; n <= 300; n++) fake.put(customer(n));
    const first = openStore();
    first.store.customers.applyRecords([{ ...customer(900), version: 0 }]);
    fake.holdPullsAfter(3);
    const worker = start(first.store, fake.url);
    // Three pages of 50 answered (the next asked for while the last is written), the rest held.
    await until(() => fake.pulls.length >= 4 && worker.status().refetch_pulled === 150, 'part of the replica');
    const { cursor, refetching } = worker.status();
    expect(refetching).toBe(true);
    // Until the feed is exhausted the kiosk serves from the replica it had.
    expect(first.store.customers.count()).toBe(1);
    await worker.close();
    first.store.close();

    // While the gateway is down the cloud moves on: a pulled customer changes, a new one
    // registers, one not yet pulled goes.
    fake.put({ ...customer(5), name: 'Changed while stopped' });
    fake.put(customer(301));
    fake.remove('AQP000290');
    fake.releasePulls();
    const reopened = openStore(first.dir);
    const pullsBefore = fake.pulls.length;
    const back = start(reopened.store, fake.url);
    await until(() => !back.status().refetching && back.status().cursor !== cursor, 'replica complete');
    expect(fake.pulls[pullsBefore]).toBe(cursor);
    const replica = reopened.store.db
      .prepare<[], { account_id: string; name: string; version: number }>(
        'SELECT account_id, name, version FROM customers ORDER BY account_id',
      )
      .all();
    const expected = [...fake.customers.values()]
      .map(({ account_id, name, version }) => ({ account_id, name, version }))
      .sort((a, b) => a.account_id.localeCompare(b.account_id));
    expect(replica).toEqual(expected);
  });

  it('a replica pulled while customers change keeps each newest record; a re-assigned phone goes to the newer account', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 120; n++) fake.put(customer(n));
    const { store } = openStore();
    fake.holdPullsAfter(1);
    const worker = start(store, fake.url);
    await until(() => worker.status().refetch_pulled === 50, 'first page');
    // Both already pulled: customer 3 changes, customer 4's number goes to a new account.
    fake.put({ ...customer(3), name: 'Changed mid-replica' });
    fake.put({ ...customer(500), phone: customer(4).phone });
    fake.releasePulls();
    await until(() => !worker.status().refetching, 'replica complete');
    expect(store.customers.count()).toBe(120);
    expect(store.customers.findByAccount('AQP000003')?.name).toBe('Changed mid-replica');
    expect(store.customers.findByAccount('AQP000004')).toBeUndefined();
    expect(store.customers.findByPhone(customer(4).phone)?.account_id).toBe('AQP000500');
  });

  it('keeps authorising and recording dispenses from the old replica while a refetch builds the new one', async () => {
    const fake = await cloud();
    const CUSTOMERS = 20_000;
    const START_ML = 100_000_000;
    for (let n = 1; n <= CUSTOMERS; n++) fake.put(customer(n, n === 7 ? START_ML : 10_000));
    const { store } = openStore();
    const worker = start(store, fake.url, { SYNC_PAGE_SIZE: '2000' });
    await until(() => !worker.status().refetching && store.customers.count() === CUSTOMERS, 'first replica', 120_000);

    // The cloud invalidates the kiosk's cursor; meanwhile a customer goes, one registers, one is renamed.
    fake.remove('AQP000003');
    fake.put(customer(CUSTOMERS + 1));
    fake.put({ ...customer(9), name: 'Renamed before the refetch' });
    fake.invalidateCursors();
    const building = (): boolean =>
      store.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'customers_next'").pluck().get() === 1;
    const drinker = customer(7);
    let servedWhileBuilding = 0;
    let dispensed = 0;
    const giveUpAt = Date.now() + 100_000;
    // A dispenser at work: each turn authorises by phone and records a 10 mL dispense (durably).
    while (worker.status().refetching || servedWhileBuilding === 0) {
      const duringBuild = building();
      const found = store.customers.findByPhone(drinker.phone);
      expect(found?.account_id).toBe(drinker.account_id);
      expect(store.availableBalanceMl(found!, Date.now())).toBe(START_ML - 10 * dispensed);
      // The old replica serves until the swap: a customer the cloud no longer has is still there.
      if (duringBuild) expect(store.customers.findByAccount('AQP000003')).toBeDefined();
      await store.write(() => store.ledger.append(dispense(drinker.account_id, 10)));
      dispensed += 1;
      if (duringBuild && building()) servedWhileBuilding += 1;
      if (Date.now() > giveUpAt) throw new Error('the refetch never finished');
    }
    expect(servedWhileBuilding).toBeGreaterThan(0);

    // Every dispense reaches the cloud once, and the replica ends exactly as the cloud's.
    await until(() => worker.status().events_waiting === 0, 'dispenses pushed');
    const cloudRows = (): string =>
      JSON.stringify(
        [...fake.customers.values()]
          .map(({ account_id, phone, name, balance_ml, version }) => [account_id, phone, name, balance_ml, version])
          .sort(),
      );
    const replicaRows = (): string =>
      JSON.stringify(
        store.db
          .prepare<[], unknown[]>('SELECT account_id, phone, name, balance_ml, version FROM customers')
          .raw()
          .all()
          .sort(),
      );
    await until(() => replicaRows() === cloudRows(), 'replica equal to the cloud');
    expect(fake.customers.get(drinker.account_id)?.balance_ml).toBe(START_ML - 10 * dispensed);
    const local = store.customers.findByPhone(drinker.phone)!;
    expect(store.availableBalanceMl(local, Date.now())).toBe(START_ML - 10 * dispensed);
    expect(store.customers.count()).toBe(CUSTOMERS);
    expect(store.customers.findByAccount('AQP000009')?.name).toBe('Renamed before the refetch');
    // What the build and the old replica left is cleared.
    await until(
      () =>
        store.db
          .prepare(
            "SELECT (SELECT count(*) FROM sqlite_schema WHERE name LIKE 'customer%_old' OR name LIKE 'customer%_next') + (SELECT count(*) FROM sync_incoming) + (SELECT count(*) FROM sync_runs)",
          )
          .pluck()
          .get() === 0,
      'leftovers cleared',
    );
  }, 180_000);

  it('sets aside events the cloud refuses and keeps pushing the rest', async () => {
    const fake = await cloud();
    fake.put(customer(1));
    const { store } = openStore();
    const worker = start(store, fake.url);
    store.ledger.append(dispense('AQP000001', 100, 'OTHER'));
    store.ledger.append(dispense('AQP000001', 200));
    await until(() => worker.status().events_rejected === 1 && worker.status().events_waiting === 0, 'rejection');
    store.ledger.append(dispense('AQP000001', 300));
    worker.nudge();
    await until(() => worker.status().events_waiting === 0 && fake.events.size === 2, 'next push');
  });

  it('reports bad credentials as a refusal and stays offline', async () => {
    const fake = await cloud();
    const { store } = openStore();
    const worker = start(store, fake.url, { KIOSK_SECRET: 'wrong-secret-456' });
    const error = await until(() => worker.status().last_error ?? undefined, 'error');
    expect(error.code).toBe('CLOUD_REFUSED');
    expect(worker.status().online).toBe(false);
  });

  it('reports its status and Prometheus gauges', async () => {
    const fake = await cloud();
    fake.put(customer(1));
    const { store } = openStore();
    const registry = new Registry();
    const worker = start(store, fake.url, {}, registry);
    await until(() => store.customers.count() === 1, 'replica');
    expect(worker.status()).toMatchObject({ enabled: true, replica_size: 1, kiosk_id: KIOSK });
    expect(JSON.stringify(worker.status())).not.toContain(SECRET);
    const metrics = await registry.metrics();
    expect(metrics).toContain('tusafishe_sync_replica_customers 1');
    expect(metrics).toMatch(/tusafishe_sync_pulled_customers_total 1/);
  });

  it('without CLOUD_URL reports sync as disabled', async () => {
    const { store } = openStore();
    const worker = startSync({ store, env: {}, settings: { offlineAfterMs: 1000 }, logger });
    expect(worker.status()).toMatchObject({ enabled: false, online: false, offline_limit_active: true });
    expect(worker.status().disabled_reason).toMatch(/CLOUD_URL/);
    expect(() =>
      startSync({ store, env: { CLOUD_URL: 'http://x.test' }, settings: { offlineAfterMs: 1 }, logger }),
    ).toThrow(/KIOSK_SECRET/);
  });
});
