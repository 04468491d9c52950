import type { CustomerRecord } from '@tusafishe/protocol';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { customer, dispense, KIOSK, logger, SECRET, syncHarness, until } from '../../test/sync-harness.js';
import { Settings } from '../settings.js';
import { startSync } from './sync.js';

const { cloud, openStore, start } = syncHarness();

describe('sync worker', () => {
  it('pulls the whole replica in pages, then a change arrives by the stream', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 120; n++) fake.put(customer(n));
    const { store } = openStore();
    const worker = start(store, fake.url);

    await until(() => store.customers.count() === 120, 'full replica');
    await until(() => worker.status().last_pull_at !== null && worker.status().online, 'online');
    fake.put({ ...customer(7), name: 'Renamed by USSD' });
    await until(() => store.customers.findByAccount('AQP000007')?.name === 'Renamed by USSD', 'streamed change');
    expect(worker.status()).toMatchObject({
      enabled: true,
      online: true,
      replica_size: 120,
      offline_limit_active: false,
    });
    expect(store.lastCloudContact()).not.toBeNull();
  });

  it('once caught up, follows the customer stream: every change on one open request', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 60; n++) fake.put(customer(n));
    const { store } = openStore();
    const worker = start(store, fake.url);
    await until(() => store.customers.count() === 60 && fake.streams === 1, 'replica, then the stream');
    for (let n = 1; n <= 5; n++) {
      fake.put({ ...customer(n), name: `Streamed ${n}` });
      await until(() => store.customers.findByAccount(customer(n).account_id)?.name === `Streamed ${n}`, `change ${n}`);
    }
    fake.put(customer(61));
    await until(() => store.customers.count() === 61, 'a new customer');
    expect(fake.streams).toBe(1);
    expect(worker.status()).toMatchObject({ online: true, last_error: null, cursor: expect.any(String) });
  });

  it('opens the stream again from its cursor after a refetch, and long-polls a cloud without one', async () => {
    const fake = await cloud();
    for (let n = 1; n <= 10; n++) fake.put(customer(n));
    const { store } = openStore();
    const worker = start(store, fake.url);
    await until(() => fake.streams === 1, 'the stream');
    fake.remove('AQP000003');
    fake.invalidateCursors();
    fake.put({ ...customer(4), name: 'After the refetch' });
    await until(
      () => store.customers.count() === 9 && !worker.status().refetching && fake.streams === 2,
      'refetched, then the stream again',
    );
    expect(store.customers.findByAccount('AQP000004')?.name).toBe('After the refetch');

    const older = await cloud({ stream: false });
    older.put(customer(1));
    const other = openStore();
    const polling = start(other.store, older.url);
    await until(() => other.store.customers.count() === 1 && polling.status().online, 'replica by pulls');
    older.put({ ...customer(1), name: 'Long-polled' });
    await until(() => other.store.customers.findByAccount('AQP000001')?.name === 'Long-polled', 'long-polled change');
    expect(polling.status().last_error).toBeNull();
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

  it("leaves another kiosk's customer's balance unwritten, and asks the cloud for it when asked", async () => {
    const fake = await cloud();
    fake.put(customer(1, 10_000));
    fake.put(customer(2, 10_000));
    const { store } = openStore();
    const worker = start(store, fake.url);
    await until(() => store.customers.count() === 2, 'replica');
    fake.put(customer(1, 25_000)); // a top-up: only a balance changes
    fake.put({ ...customer(2, 10_000), name: 'Renamed' }); // a profile: every kiosk writes it
    await until(() => store.customers.findByAccount('AQP000002')?.name === 'Renamed', 'the profile change');
    expect(store.customers.findByAccount('AQP000001')).toMatchObject({ balance_ml: 10_000 });

    expect(await worker.lookup?.('AQP000001')).toMatchObject({ balance_ml: 25_000 });
    expect(store.customers.findByAccount('AQP000001')).toMatchObject({ balance_ml: 25_000 });
    expect(await worker.lookup?.('AQP000404')).toBeNull();
    // Served here, the customer is followed: the next change is written.
    store.ledger.append(dispense('AQP000001', 500));
    worker.nudge();
    await until(() => worker.status().events_waiting === 0, 'the dispense acknowledged');
    fake.put(customer(1, 5_000));
    await until(() => store.customers.findByAccount('AQP000001')?.balance_ml === 5_000, 'a followed balance');
  });

  it("asks for only its own customers' balances once its replica holds every customer", async () => {
    const fake = await cloud();
    for (let n = 1; n <= 120; n++) fake.put(customer(n));
    const { store } = openStore();
    const worker = start(store, fake.url, {}, undefined, { followCustomersMs: 10 * 86_400_000 + 1 });
    await until(() => fake.followDays.at(-1) === 11 && !worker.status().refetching, 'a replica, then filtered');
    // A first replica is sent every customer: its pages asked without follow_days.
    expect(fake.followDays.slice(0, 3)).toEqual([undefined, undefined, undefined]);

    const asked = fake.followDays.length;
    fake.invalidateCursors();
    await until(() => fake.followDays.length > asked + 1 && fake.followDays.at(-1) === 11, 'refetched, then filtered');
    expect(fake.followDays.slice(asked)).toContain(undefined);
    expect(store.customers.count()).toBe(120);
  });

  it('asks for every change with FOLLOW_BALANCES=all', async () => {
    const fake = await cloud();
    fake.put(customer(1));
    const { store } = openStore();
    start(store, fake.url, {}, undefined, { followBalances: 'all' });
    await until(() => fake.streams === 1, 'the stream');
    fake.put(customer(2));
    await until(() => store.customers.count() === 2, 'a change');
    expect(fake.followDays.every((days) => days === undefined)).toBe(true);
  });

  it('gives no balance while the cloud is out of reach', async () => {
    const { store } = openStore();
    const worker = start(store, 'http://127.0.0.1:9');
    await until(() => worker.status().last_error?.code === 'CLOUD_UNREACHABLE', 'offline');
    expect(await worker.lookup?.('AQP000001')).toBeNull();
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
    const worker = startSync({ store, env: {}, settings: Settings.parse({ offlineAfterMs: 1000 }), logger });
    expect(worker.status()).toMatchObject({ enabled: false, online: false, offline_limit_active: true });
    expect(worker.status().disabled_reason).toMatch(/CLOUD_URL/);
    expect(() =>
      startSync({
        store,
        env: { CLOUD_URL: 'http://x.test' },
        settings: Settings.parse({ offlineAfterMs: 1 }),
        logger,
      }),
    ).toThrow(/KIOSK_SECRET/);
  });
});
