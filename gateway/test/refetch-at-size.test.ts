import { describe, expect, it } from 'vitest';
import { customer, dispense, syncHarness, until } from './sync-harness.js';

const { cloud, openStore, start } = syncHarness();

// 20,000 customers, pulled twice: seconds of work, so outside the unit lane (vitest project `system`).
describe('sync worker at size', () => {
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
});
