import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { freshPglite } from '@tusafishe/cloud/testing';
import { balanceDrift, createCustomer, findCustomer } from '@tusafishe/cloud';
import { issueKeypadToken, tokenEventId } from '@tusafishe/protocol/keypad-token';
import type { SimulatedDispenser } from '@tusafishe/dispenser-firmware/host';
import { startFleet, type Fleet } from '../src/fleet.js';
import { readGatewayBalances } from '../src/gateway-replica.js';
import { buyWater, redeemToken } from '../src/keypad-customer.js';

/**
 * Issue 15 end to end: two real gateway processes cut off from the real cloud; a top-up paid by
 * M-Pesa meanwhile reaches them only as the keypad token typed at their dispensers. Each credits it
 * at once; on reconnect the cloud has the credit once and the double spend is a negative balance.
 */
const PHONE_LOCAL = '0712000077';
let dir: string;
let fleet: Fleet;

/** vi.waitFor's options: generous, since a loaded machine delivers events late. */
const WAIT = { timeout: 30_000, interval: 200 };
const typeToken = (dispenser: SimulatedDispenser, token: string): Promise<string> =>
  redeemToken(dispenser, PHONE_LOCAL, token);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tusafishe-tokens-'));
  fleet = await startFleet({
    dir,
    kioskIds: ['K1', 'K2'],
    dispenserIds: ['D1'],
    gatewayEnv: { HW_MODE: 'off', OFFLINE_AFTER_S: '5', OFFLINE_DAILY_LIMIT_ML: '6000', LOG_LEVEL: 'warn' },
    flowRateMlPerSecond: 4000,
    cloud: { ...freshPglite(), simulators: {}, providers: { statusPollIntervalMs: 500 } },
  });
}, 180_000);

afterAll(async () => {
  await fleet?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('redeems a token at two offline kiosks: credit usable at once, counted once by the cloud, overdraft listed', async () => {
  const customer = await createCustomer(fleet.cloud.db, {
    phone: '+254712000077',
    name: 'Offline Tokens',
    pin: '2580',
  });
  const accountId = customer.account_id;
  for (const kiosk of fleet.kiosks)
    await expect
      .poll(() => readGatewayBalances(kiosk.gateway.dataDir, [accountId]).get(accountId), {
        ...WAIT,
        message: 'replica',
      })
      .toBe(0);
  for (const kiosk of fleet.kiosks) kiosk.proxy.cut();

  // KES 1.00 by M-Pesa while both kiosks are cut off: 4 L, and token 1.
  const { provider } = await fleet.cloud.payments.start(customer, 100);
  const wallet = fleet.cloud.simulators![provider.name];
  const pending = [...wallet.payments.values()].find((p) => p.status === 'PENDING' && p.msisdn === '254712000077')!;
  await wallet.decide(pending.reference, true);
  const paid = await vi.waitFor(async () => {
    const c = await findCustomer(fleet.cloud.db, accountId);
    expect(c?.balance_ml, 'the top-up').toBe(4000);
    return c!;
  }, WAIT);
  const token = issueKeypadToken(paid.token_key!, 1, 4000)!;

  const [k1, k2] = fleet.kiosks as [(typeof fleet.kiosks)[0], (typeof fleet.kiosks)[0]];
  const d1 = k1.dispensers.get('D1')!;
  const d2 = k2.dispensers.get('D1')!;
  expect(await typeToken(d1, token)).toMatch(/Credit added\s*\|Token: 4L\s*\|Balance 4L/);
  expect(await typeToken(d1, token)).toMatch(/Token already used/);
  expect(await buyWater(d1, { keypadPhone: PHONE_LOCAL, pin: '2580' }, 4)).toMatchObject({ kind: 'dispensed' });
  // The second kiosk has not heard of either: it credits the same token too (bounded by its offline limit).
  expect(await typeToken(d2, token)).toMatch(/Credit added/);
  expect(await buyWater(d2, { keypadPhone: PHONE_LOCAL, pin: '2580' }, 4)).toMatchObject({ kind: 'dispensed' });

  for (const kiosk of fleet.kiosks) kiosk.proxy.restore();
  for (const kiosk of fleet.kiosks)
    await expect
      .poll(async () => (await kiosk.syncStatus()).events_waiting, {
        ...WAIT,
        message: `${kiosk.id} pushed everything`,
      })
      .toBe(0);

  const topups = await fleet.cloud.db.query<{ event_id: string }>(
    "SELECT event_id::text AS event_id FROM ledger_events WHERE account_id = $1 AND type = 'topup'",
    [accountId],
  );
  expect(topups.map((t) => t.event_id)).toEqual([tokenEventId(accountId, 1)]);
  expect((await findCustomer(fleet.cloud.db, accountId))!.balance_ml).toBe(4000 - 8000);
  const negative = await fleet.cloud.db.query<{ account_id: string }>(
    'SELECT account_id FROM customers WHERE balance_ml < 0',
  );
  expect(negative.map((r) => r.account_id)).toContain(accountId);
  const redeemed = await fleet.cloud.db.query<{ redeemed_kiosks: string[] }>(
    'SELECT redeemed_kiosks FROM keypad_tokens WHERE account_id = $1',
    [accountId],
  );
  expect([...redeemed[0]!.redeemed_kiosks].sort()).toEqual(['K1', 'K2']);
  expect(await balanceDrift(fleet.cloud.db)).toEqual([]);
  // Each kiosk's replica agrees with the cloud, and the token is now "already added" there.
  for (const kiosk of fleet.kiosks)
    await expect
      .poll(() => readGatewayBalances(kiosk.gateway.dataDir, [accountId]).get(accountId), {
        ...WAIT,
        message: `${kiosk.id} agrees`,
      })
      .toBe(-4000);
  expect(await typeToken(d2, token)).toMatch(/Token already used|Already added/);
}, 240_000);
