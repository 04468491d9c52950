import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CustomerRecord } from '@tusafishe/protocol';
import { zoneAtNoon } from '@tusafishe/protocol/testing';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { backends } from './backends.js';
import { creditedCustomer } from './test-customers.js';
import { SyncedKiosks } from './synced-kiosks.js';

const PHONE = '+254711000501';
const PIN = '2468';
/** The usage day of the cloud and both gateways: noon there now, so the test never runs across its midnight. */
const ZONE = zoneAtNoon();

/** Generous: a test waits on events, and a loaded machine delivers them late. */
const until = (what: string, check: () => boolean) =>
  vi.waitFor(() => expect(check(), what).toBe(true), { timeout: 60_000, interval: 20 });

/** The cloud, two real gateways syncing with it, and a dispenser at each, over real HTTP and MQTT. */
describe.each(backends())('a daily limit across kiosks on $name', (backend) => {
  let cloud: RunningCloud;
  const kiosks = new SyncedKiosks(() => cloud);
  const kiosk = (kioskId: string) => kiosks.add(kioskId, { settings: { timezone: ZONE } });

  beforeAll(async () => {
    cloud = await startCloud({ ...backend.fresh(), port: 0, logger: false, usageTimeZone: ZONE });
  });
  afterAll(async () => {
    await kiosks.close();
    await cloud?.close();
    await backend.cleanup();
  });

  it("refuses at kiosk B what kiosk A already gave today, once the cloud has A's dispense", async () => {
    await creditedCustomer(cloud, { phone: PHONE, name: 'Amina Wanjiru', pin: PIN, dailyLimitMl: 5000 }, 20_000);
    const [a, b] = [await kiosk('KIOSK-A'), await kiosk('KIOSK-B')];
    await until('both gateways have the customer', () =>
      [a, b].every(({ gateway }) => gateway.store.customers.findByPhone(PHONE)?.balance_ml === 20_000),
    );

    const approved = await a.dispenser.authorise(a.dispenser.request(PHONE, 3000, PIN));
    if (!approved.approved) throw new Error(`kiosk A refused: ${approved.reason}`);
    await a.dispenser.complete(a.dispenser.completion(approved, 3000));
    await until('kiosk A has pushed the 3 L', () => a.gateway.store.ledger.unacknowledged(1).length === 0);
    // B has never served the customer: it does not write their balance and usage as they change,
    // and asks the cloud at the keypad instead (ARCHITECTURE §7, _A kiosk's SD card_).
    const atB = (): CustomerRecord | undefined => b.gateway.store.customers.findByPhone(PHONE);
    expect(atB()).toMatchObject({ balance_ml: 20_000 });

    const refused = await b.dispenser.authorise(b.dispenser.request(PHONE, 3000, PIN));
    expect(refused).toMatchObject({ approved: false, reason: 'DAILY_LIMIT' });
    const rest = await b.dispenser.authorise(b.dispenser.request(PHONE, 2000, PIN));
    expect(rest).toMatchObject({ approved: true, approved_ml: 2000 });
    expect(atB()).toMatchObject({ balance_ml: 17_000, used_today_ml: 3000 });
  });
});
