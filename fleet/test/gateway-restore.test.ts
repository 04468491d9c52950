import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from '@tusafishe/cloud/testing';
import { balanceDrift, createCustomer, recordAdjustment } from '@tusafishe/cloud';
import { startFleet, type Fleet, type FleetKiosk } from '../src/fleet.js';
import { readGatewayBalances, readGatewayEventIds } from '../src/gateway-replica.js';
import { buyWater } from '../src/keypad-customer.js';

/**
 * A kiosk's SD card dies and its gateway comes back from an older backup: the real cloud, one real
 * gateway process, a simulated dispenser on its broker, and the operator's own commands
 * (`npm run backup`/`npm run restore`, run as the npm scripts run them).
 */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

function operator(action: 'backup' | 'restore', args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'scripts/backup.ts', action, ...args], {
    cwd: REPO_ROOT,
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'DATABASE_URL')),
  });
}

/** expect.poll options: generous, a loaded machine delivers events late. */
const waiting = (message: string) => ({ timeout: 60_000, interval: 200, message });

let dir: string;
let fleet: Fleet;
let kiosk: FleetKiosk;
let shopper: { accountId: string; keypadPhone: string; pin: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tusafishe-restore-'));
  fleet = await startFleet({
    dir,
    kioskIds: ['K1'],
    dispenserIds: ['D1'],
    gatewayEnv: { HW_MODE: 'off', GATEWAY_BACKUP_INTERVAL_HOURS: '0' },
    flowRateMlPerSecond: 4000,
    cloud: freshPglite(),
  });
  kiosk = fleet.kiosks[0]!;
  const customer = await createCustomer(fleet.cloud.db, {
    phone: '+254711000001',
    name: 'Restore Shopper',
    pin: '1234',
  });
  await recordAdjustment(fleet.cloud.db, {
    accountId: customer.account_id,
    amountMl: 50_000,
    reason: 'opening credit',
    operator: 'restore-test',
  });
  shopper = { accountId: customer.account_id, keypadPhone: '0711000001', pin: '1234' };
}, 180_000);

afterAll(async () => {
  await fleet?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cloudState() {
  const [row] = await fleet.cloud.db.query<{ balance_ml: number }>(
    'SELECT balance_ml FROM customers WHERE account_id = $1',
    [shopper.accountId],
  );
  const dispenses = await fleet.cloud.db.query<{ event_id: string; amount_ml: number }>(
    "SELECT event_id, amount_ml FROM ledger_events WHERE account_id = $1 AND type = 'dispense' ORDER BY 1",
    [shopper.accountId],
  );
  return { balance: Number(row!.balance_ml), dispenses };
}

async function buy(litres: number): Promise<void> {
  const outcome = await buyWater(kiosk.dispensers.get('D1')!, shopper, litres, 30_000);
  expect(outcome.kind).toBe('dispensed');
}

/** The dispenser reports a purchase after its screen says so: wait for the cloud to hold `count` dispenses. */
const cloudHolds = (count: number) =>
  expect
    .poll(async () => (await cloudState()).dispenses.length, waiting(`${count} dispenses in the cloud`))
    .toBe(count);

describe('a gateway restored from an older backup', () => {
  it('converges with the cloud: no acknowledged event lost, none counted twice', async () => {
    await expect
      .poll(
        () => readGatewayBalances(kiosk.gateway.dataDir, [shopper.accountId]).get(shopper.accountId),
        waiting('the shopper on the kiosk'),
      )
      .toBe(50_000);
    await buy(1);
    await cloudHolds(1);

    // Taken while the 4G link is down and one dispense waits to be pushed, with the gateway running.
    kiosk.proxy.cut();
    await buy(2);
    await expect
      .poll(() => readGatewayEventIds(kiosk.gateway.dataDir, 'dispense').length, waiting('the 2 L recorded'))
      .toBe(2);
    const backup = join(dir, 'K1-old.db');
    const { stdout } = await operator('backup', ['gateway', '--out', backup, '--data-dir', kiosk.gateway.dataDir]);
    expect(stdout).toContain('gateway backup');
    kiosk.proxy.restore();
    await cloudHolds(2);

    // After the backup: another dispense and a top-up the old file knows nothing of.
    await buy(3);
    await cloudHolds(3);
    await recordAdjustment(fleet.cloud.db, {
      accountId: shopper.accountId,
      amountMl: 5_000,
      reason: 'goodwill',
      operator: 'restore-test',
    });
    const before = await cloudState();
    expect(before.dispenses.map((e) => e.amount_ml).sort((a, b) => a - b)).toEqual([-3_000, -2_000, -1_000]);

    // A restore under a running gateway is refused.
    await expect(operator('restore', ['gateway', backup, '--data-dir', kiosk.gateway.dataDir])).rejects.toMatchObject({
      stderr: expect.stringContaining('stop the gateway first'),
    });

    await kiosk.gateway.stop();
    const restored = await operator('restore', ['gateway', backup, '--data-dir', kiosk.gateway.dataDir]);
    expect(restored.stdout).toContain('re-syncs');
    // The restored file predates the 3 L dispense: the kiosk no longer holds it.
    const cloudIds = before.dispenses.map((e) => e.event_id);
    expect(readGatewayEventIds(kiosk.gateway.dataDir, 'dispense')).toHaveLength(2);

    await kiosk.gateway.start();
    await expect
      .poll(async () => (await kiosk.syncStatus()).events_waiting, waiting('the restored backlog pushed'))
      .toBe(0);
    const balanceAt = () => readGatewayBalances(kiosk.gateway.dataDir, [shopper.accountId]).get(shopper.accountId);
    await expect.poll(balanceAt, waiting("the kiosk's balance equal to the cloud's")).toBe(before.balance);

    const after = await cloudState();
    expect(after).toEqual(before);
    expect(after.balance).toBe(50_000 + 5_000 - 6_000);
    expect(readGatewayEventIds(kiosk.gateway.dataDir, 'dispense').every((id) => cloudIds.includes(id))).toBe(true);
    expect(await balanceDrift(fleet.cloud.db)).toEqual([]);

    // And it carries on: the next litre counts once, on both sides.
    await buy(1);
    await cloudHolds(4);
    const next = await cloudState();
    expect(next.dispenses).toHaveLength(4);
    await expect.poll(balanceAt, waiting('the kiosk caught up after the next purchase')).toBe(next.balance);
  }, 300_000);
});
