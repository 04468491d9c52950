import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCustomer, findCustomer, recordAdjustment } from '@tusafishe/cloud';
import { dial, freshPglite, lastSmsCode, signInAs, type ConsoleSession } from '@tusafishe/cloud/testing';
import type { SimulatedDispenser } from '@tusafishe/dispenser-firmware/host';
import { startFleet, type Fleet } from '../src/fleet.js';
import { readGatewayBalances, readGatewayCustomer } from '../src/gateway-replica.js';
import { buyWater } from '../src/keypad-customer.js';

/** Waits generously: a gateway process, its long poll and a dispenser on a loaded machine. */
const EVENTUALLY = { timeout: 90_000, interval: 250 };
const KEYPAD_TIMEOUT_MS = 60_000;
const CREDIT_ML = 20_000;

/**
 * Issue 12 §4 end to end: the console's customer-service actions reach a real gateway process
 * through sync and change what happens at its dispenser's keypad.
 */
describe('console customer service at a kiosk', () => {
  let dir: string;
  let fleet: Fleet;
  let support: ConsoleSession;
  let dispenser: SimulatedDispenser;
  const gatewayDir = () => fleet.kiosks[0]!.gateway.dataDir;
  const gatewayBalance = (accountId: string) => readGatewayBalances(gatewayDir(), [accountId]).get(accountId);

  /** A customer with a PIN and credit, once the kiosk's replica has both. */
  async function customerAtKiosk(phone: string, pin: string): Promise<string> {
    const { account_id: accountId } = await createCustomer(fleet.cloud.db, { phone, name: 'Console E2E', pin });
    await recordAdjustment(fleet.cloud.db, { accountId, amountMl: CREDIT_ML, reason: 'opening', operator: 'test' });
    await vi.waitFor(() => expect(gatewayBalance(accountId)).toBe(CREDIT_ML), EVENTUALLY);
    return accountId;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'console-customer-service-'));
    fleet = await startFleet({
      dir,
      kioskIds: ['K1'],
      dispenserIds: ['D1'],
      flowRateMlPerSecond: 4000,
      gatewayEnv: { HW_MODE: 'off', GATEWAY_BACKUP_INTERVAL_HOURS: '0', LOG_LEVEL: 'warn' },
      cloud: freshPglite(),
    });
    dispenser = fleet.kiosks[0]!.dispensers.get('D1')!;
    support = await signInAs(fleet.cloud, 'customer_service', 'support');
  }, 240_000);
  afterAll(async () => {
    await fleet?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('resets a PIN by SMS code and USSD; the new PIN draws water at the keypad, the old one is refused', async () => {
    const phone = '+254712300001';
    const accountId = await customerAtKiosk(phone, '2580');

    expect((await support.request('POST', `/customers/${accountId}/pin-reset`)).status).toBe(202);
    // The customer reads the code from their SMS and types it on USSD (menu 3) instead of the old PIN.
    const code = await lastSmsCode(fleet.cloud, phone);
    const screens = await dial(fleet.cloud.url, phone, ['3', code, '4826', '4826'], '63902');
    expect(screens.at(-1)).toMatch(/^END Your PIN is set/);

    // The kiosk pulls the new PIN hash through sync.
    const { pin_hash: newHash } = (await findCustomer(fleet.cloud.db, accountId))!;
    await vi.waitFor(() => expect(readGatewayCustomer(gatewayDir(), accountId)?.pin_hash).toBe(newHash), EVENTUALLY);

    const keypad = { keypadPhone: '0712300001' };
    expect(await buyWater(dispenser, { ...keypad, pin: '4826' }, 1, KEYPAD_TIMEOUT_MS)).toMatchObject({
      kind: 'dispensed',
    });
    expect(await buyWater(dispenser, { ...keypad, pin: '2580' }, 1, KEYPAD_TIMEOUT_MS)).toEqual({
      kind: 'denied',
      reason: expect.stringMatching(/wrong pin/i),
    });
  });

  it('reverses a disputed dispense once, and the balance at the kiosk rises by exactly its amount', async () => {
    const accountId = await customerAtKiosk('+254712300002', '1357');
    expect(await buyWater(dispenser, { keypadPhone: '0712300002', pin: '1357' }, 2, KEYPAD_TIMEOUT_MS)).toMatchObject({
      kind: 'dispensed',
    });

    // The dispense reaches the cloud, and the kiosk's balance agrees with the cloud's after it.
    const dispense = await vi.waitFor(async () => {
      const [row] = await fleet.cloud.db.query<{ event_id: string; amount_ml: number }>(
        `SELECT event_id::text AS event_id, amount_ml FROM ledger_events WHERE account_id = $1 AND type = 'dispense'`,
        [accountId],
      );
      if (!row) throw new Error('the dispense has not reached the cloud yet');
      return row;
    }, EVENTUALLY);
    expect(dispense.amount_ml).toBeLessThan(0);
    const afterDispense = CREDIT_ML + dispense.amount_ml;
    await vi.waitFor(async () => {
      expect((await findCustomer(fleet.cloud.db, accountId))?.balance_ml).toBe(afterDispense);
      expect(gatewayBalance(accountId)).toBe(afterDispense);
    }, EVENTUALLY);

    const reversal = await support.json<{ amount_ml: number; balance_ml: number }>(
      'POST',
      `/customers/${accountId}/reversals`,
      { event_id: dispense.event_id, reason: 'customer says no water came out' },
    );
    expect(reversal).toMatchObject({ amount_ml: -dispense.amount_ml, balance_ml: CREDIT_ML });
    await vi.waitFor(() => expect(gatewayBalance(accountId)).toBe(afterDispense + reversal.amount_ml), EVENTUALLY);

    const again = await support.request('POST', `/customers/${accountId}/reversals`, {
      event_id: dispense.event_id,
      reason: 'asked twice',
    });
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([409, 'ALREADY_REVERSED']);
    // Once only, at the kiosk too: the reversal the kiosk pulled is the one the cloud has.
    expect((await findCustomer(fleet.cloud.db, accountId))?.balance_ml).toBe(CREDIT_ML);
    expect(gatewayBalance(accountId)).toBe(CREDIT_ML);
  });
});
