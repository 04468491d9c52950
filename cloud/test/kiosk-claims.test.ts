import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, type LedgerEvent } from '@tusafishe/protocol';
import { startCloud, type RunningCloud } from '../src/cloud.js';
import { findCustomer } from '../src/customers/customers.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { balanceDrift } from '../src/ledger/ledger.js';
import { backends } from './backends.js';
import { creditedCustomer } from './test-customers.js';
import { signInAs, type ConsoleSession } from './console-session.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';

let phoneSeq = 0;
const nextPhone = (): string => `+2547001${String(10000 + (phoneSeq += 1)).slice(-5)}`;
const HOUR = 3_600_000;

// Issue 10: a gateway is trusted with its own events, within bounds the cloud sets.
describe.each(backends())('what a gateway may claim, on $name', (backend) => {
  let cloud: RunningCloud;
  let kiosk: KioskCredential;
  let field: ConsoleSession;
  let support: ConsoleSession;

  beforeAll(async () => {
    cloud = await startCloud({
      ...backend.fresh(),
      port: 0,
      logger: false,
      kioskClaims: { maxLockoutMs: HOUR, maxDispenseMl: 110_000, dailyVolumeAlertMl: 300_000 },
    });
    kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-C' });
    [field, support] = await Promise.all([signInAs(cloud, 'field'), signInAs(cloud, 'customer_service', 'ops-1')]);
  });
  afterAll(async () => {
    await cloud?.close();
    await backend.cleanup();
  });

  const customer = async (creditMl = 0): Promise<string> =>
    (await creditedCustomer(cloud, { phone: nextPhone(), name: 'Claims Test', pin: '4321' }, creditMl)).account_id;

  const lockout = (account: string, lockedUntil: number): LedgerEvent => ({
    event_id: newId(),
    type: 'pin_lockout',
    account_id: account,
    amount_ml: 0,
    kiosk_id: 'KIOSK-C',
    occurred_at: Date.now(),
    details: { locked_until: lockedUntil },
  });

  it('caps a forged far-future lockout at the cloud now + the maximum lockout', async () => {
    const account = await customer();
    const before = Date.now();
    const { body } = await kioskClient(cloud.url, kiosk).push([lockout(account, Date.now() + 10 * 365 * 24 * HOUR)]);
    expect(body.rejected).toEqual([]);
    const lockedUntil = (await findCustomer(cloud.db, account))!.locked_until!;
    expect(lockedUntil).toBeGreaterThanOrEqual(before + HOUR);
    expect(lockedUntil).toBeLessThanOrEqual(Date.now() + HOUR);
  });

  it('refuses a dispense above the per-dispense maximum and keeps the rest of the batch', async () => {
    const account = await customer(200_000);
    const huge = dispenseEvent('KIOSK-C', account, 110_001);
    const fine = dispenseEvent('KIOSK-C', account, 20_000);
    const { body } = await kioskClient(cloud.url, kiosk).push([huge, fine]);
    expect(body.acked).toEqual([fine.event_id]);
    expect(body.rejected).toEqual([expect.objectContaining({ event_id: huge.event_id, code: 'AMOUNT_TOO_LARGE' })]);
    expect(body.balances[0]?.balance_ml).toBe(180_000);
    expect(await balanceDrift(cloud.db)).toEqual([]);
  });

  it("flags a kiosk whose day's volume passes the threshold, once, for operators", async () => {
    const flags = async () =>
      (
        (await field.json('GET', '/kiosk-volume-flags')) as {
          flags: { kiosk_id: string; volume_ml: number }[];
        }
      ).flags;
    expect(await flags()).toEqual([]);
    const account = await customer(1_000_000);
    const client = kioskClient(cloud.url, kiosk);
    // 20 L from the previous test, then 3 × 100 L: 320 L > 300 L.
    for (let i = 0; i < 3; i += 1) await client.push([dispenseEvent('KIOSK-C', account, 100_000)]);
    expect(await flags()).toEqual([expect.objectContaining({ kiosk_id: 'KIOSK-C', volume_ml: 320_000 })]);
    const last = [dispenseEvent('KIOSK-C', account, 10_000)];
    await client.push(last);
    expect(await flags()).toEqual([expect.objectContaining({ kiosk_id: 'KIOSK-C', volume_ml: 330_000 })]);
    // The same batch again counts nothing; a day's count begun mid-day (an upgraded cloud) starts from the ledger.
    await client.push(last);
    expect(await flags()).toEqual([expect.objectContaining({ kiosk_id: 'KIOSK-C', volume_ml: 330_000 })]);
    await cloud.db.query('DELETE FROM kiosk_daily_volume');
    await client.push([dispenseEvent('KIOSK-C', account, 5_000)]);
    expect(await flags()).toEqual([expect.objectContaining({ kiosk_id: 'KIOSK-C', volume_ml: 335_000 })]);
    const metrics = await (await fetch(`${cloud.url}/metrics`)).text();
    expect(metrics).toMatch(/^tusafishe_kiosk_volume_flags_total 1$/m);
  });

  it('lets an operator clear a cloud lockout, audited, and every gateway pulls the change', async () => {
    const account = await customer();
    const client = kioskClient(cloud.url, kiosk);
    const pushed = await client.push([lockout(account, Date.now() + 600_000)]);
    const version = pushed.body.balances[0]!.version;
    const refused = await fetch(`${cloud.url}/console/api/customers/${account}/unlock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'customer called' }),
    });
    expect(refused.status).toBe(401);
    expect((await field.request('POST', `/customers/${account}/unlock`, { reason: 'customer called' })).status).toBe(
      403,
    );
    const response = await support.request('POST', `/customers/${account}/unlock`, { reason: 'customer called' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ account_id: account, locked_until: null });
    const pulled = await client.pull({ cursor: String(version) });
    expect(pulled.body.customers.find((c) => c.account_id === account)?.locked_until).toBeNull();
    const audit = await cloud.db.query<{ actor: string; details: { reason: string } }>(
      "SELECT actor, details FROM audit_log WHERE action = 'customer.unlock' AND subject = $1",
      [account],
    );
    expect(audit).toEqual([{ actor: 'ops-1', details: { reason: 'customer called' } }]);
    const unknown = await support.request('POST', '/customers/TSNOBODY1/unlock', { reason: 'customer called' });
    expect(unknown.status).toBe(404);
  });
});
