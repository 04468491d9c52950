import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SyncExtension } from '@tusafishe/gateway';
import { startTestGateway, TestDispenser, type TestGateway } from '@tusafishe/gateway/testing';
import { zoneAtNoon } from '@tusafishe/protocol/testing';
import { recordAdjustment } from '../src/admin/adjustments.js';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { createCustomer } from '../src/customers/customers.js';
import { createKiosk } from '../src/kiosks/kiosks.js';
import { backends } from './backends.js';

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
  const gateways: TestGateway[] = [];
  const dispensers: TestDispenser[] = [];

  async function kiosk(kioskId: string): Promise<{ gateway: TestGateway; dispenser: TestDispenser }> {
    const { secret } = await createKiosk(cloud.db, { kioskId });
    const gateway = await startTestGateway({
      kioskId,
      settings: { timezone: ZONE },
      extensions: (core) => [new SyncExtension(core, { CLOUD_URL: cloud.url, KIOSK_SECRET: secret })],
    });
    gateways.push(gateway);
    const dispenser = await TestDispenser.connect(gateway, 'D1');
    dispensers.push(dispenser);
    return { gateway, dispenser };
  }

  beforeAll(async () => {
    cloud = await startCloud({ ...backend.fresh(), port: 0, logger: false, usageTimeZone: ZONE });
  });
  afterAll(async () => {
    await Promise.all(dispensers.map((dispenser) => dispenser.close()));
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await cloud?.close();
    await backend.cleanup();
  });

  it('refuses at kiosk B what kiosk A already gave today, once B has pulled', async () => {
    const customer = await createCustomer(cloud.db, {
      phone: PHONE,
      name: 'Amina Wanjiru',
      pin: PIN,
      dailyLimitMl: 5000,
    });
    await recordAdjustment(cloud.db, {
      accountId: customer.account_id,
      amountMl: 20_000,
      reason: 'test credit',
      operator: 'test',
    });
    const [a, b] = [await kiosk('KIOSK-A'), await kiosk('KIOSK-B')];
    await until('both gateways have the customer', () =>
      [a, b].every(({ gateway }) => gateway.store.customers.findByPhone(PHONE)?.balance_ml === 20_000),
    );

    const approved = await a.dispenser.authorise(a.dispenser.request(PHONE, 3000, PIN));
    if (!approved.approved) throw new Error(`kiosk A refused: ${approved.reason}`);
    await a.dispenser.complete(a.dispenser.completion(approved, 3000));
    await until(
      'kiosk B has pulled the 3 L drawn at A',
      () => b.gateway.store.customers.findByPhone(PHONE)?.used_today_ml === 3000,
    );

    const refused = await b.dispenser.authorise(b.dispenser.request(PHONE, 3000, PIN));
    expect(refused).toMatchObject({ approved: false, reason: 'DAILY_LIMIT' });
    const rest = await b.dispenser.authorise(b.dispenser.request(PHONE, 2000, PIN));
    expect(rest).toMatchObject({ approved: true, approved_ml: 2000 });
  });
});
