import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTechnician, technicianApi } from '@tusafishe/gateway';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { backends } from './backends.js';
import { creditedCustomer } from './test-customers.js';
import { SyncedKiosks } from './synced-kiosks.js';

const PHONE = '+254711000601';
const PIN = '3579';
const TECHNICIAN = { username: 'achieng', password: 'unlock-test-password' };

/** Generous: a test waits on events, and a loaded machine delivers them late. */
const WAIT = { timeout: 60_000, interval: 20 };

/** A technician's unlock at one kiosk, through the cloud, at another: real cloud, gateways, HTTP and MQTT. */
describe.each(backends())('a technician unlock across kiosks on $name', (backend) => {
  let cloud: RunningCloud;
  const kiosks = new SyncedKiosks(() => cloud);
  const kiosk = (kioskId: string) =>
    kiosks.add(kioskId, {
      setUp: async (core, sync) => {
        await createTechnician(core.store.db, TECHNICIAN.username, TECHNICIAN.password);
        await core.http.register(technicianApi, { gateway: core, sync });
      },
    });

  beforeAll(async () => {
    cloud = await startCloud({ ...backend.fresh(), port: 0, logger: false });
  });
  afterAll(async () => {
    await kiosks.close();
    await cloud?.close();
    await backend.cleanup();
  });

  it('clears a lockout that reached every kiosk, at every kiosk', async () => {
    const customer = await creditedCustomer(cloud, { phone: PHONE, name: 'Baraka Otieno', pin: PIN }, 20_000);
    const [a, b] = [await kiosk('KIOSK-A'), await kiosk('KIOSK-B')];
    await expect
      .poll(() => [a, b].map(({ gateway }) => gateway.store.customers.findByPhone(PHONE)?.balance_ml), WAIT)
      .toEqual([20_000, 20_000]);

    for (let i = 0; i < 5; i++) await a.dispenser.authorise(a.dispenser.request(PHONE, 1000, '0000'));
    await expect
      .poll(() => b.gateway.store.customers.findByPhone(PHONE)?.locked_until ?? 0, {
        ...WAIT,
        message: 'kiosk B has the lockout from the cloud',
      })
      .toBeGreaterThan(Date.now());
    expect(await b.dispenser.authorise(b.dispenser.request(PHONE, 1000, PIN))).toMatchObject({
      approved: false,
      reason: 'LOCKED_OUT',
    });

    const url = `http://127.0.0.1:${a.gateway.httpPort}`;
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(TECHNICIAN),
    });
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const unlock = await fetch(`${url}/api/customers/${customer.account_id}/unlock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ reason: 'customer proved identity at the kiosk' }),
    });
    expect(unlock.status).toBe(200);

    const atA = await a.dispenser.authorise(a.dispenser.request(PHONE, 1000, PIN));
    expect(atA).toMatchObject({ approved: true });
    await a.dispenser.complete(a.dispenser.completion(atA as Extract<typeof atA, { approved: true }>, 1000));

    await expect
      .poll(() => b.gateway.store.customers.findByPhone(PHONE)?.locked_until, {
        ...WAIT,
        message: 'kiosk B has the cleared record',
      })
      .toBeNull();
    expect(await b.dispenser.authorise(b.dispenser.request(PHONE, 1000, PIN))).toMatchObject({ approved: true });

    const audited = await cloud.db.query<{
      type: string;
      kiosk_id: string;
      details: { reason: string; technician: string };
    }>("SELECT type, kiosk_id, details FROM ledger_events WHERE account_id = $1 AND type = 'pin_unlock'", [
      customer.account_id,
    ]);
    expect(audited).toEqual([
      {
        type: 'pin_unlock',
        kiosk_id: 'KIOSK-A',
        details: { reason: 'customer proved identity at the kiosk', technician: TECHNICIAN.username },
      },
    ]);
  });
});
