/**
 * A Pi without a real-time clock: its wall clock steps back a year (a boot in the past) and
 * forward a day, while the gateway keeps dispensing over MQTT on a real SQLite file.
 */
import { rm } from 'node:fs/promises';
import type { AuthApproved, AuthResponse } from '@tusafishe/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestGateway, TestDispenser, type TestGateway } from './fixtures.js';

const DAY_MS = 86_400_000;
const OFFLINE_LIMIT_ML = 10_000;
let offset = 0;
const clock = { wall: () => Date.now() + offset };
const running: TestGateway[] = [];
afterAll(async () => {
  const dataDir = running[0]?.dataDir;
  for (const g of running) await g.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(dataDir?: string): Promise<TestGateway> {
  const gateway = await startTestGateway({
    clock,
    keepDataDir: true,
    settings: { offlineDailyLimitMl: OFFLINE_LIMIT_ML },
    ...(dataDir && { dataDir }),
  });
  running.push(gateway);
  return gateway;
}

async function authorise(gateway: TestGateway, ml: number, dispenserId = 'D1'): Promise<AuthResponse> {
  const dispenser = await TestDispenser.connect(gateway, dispenserId);
  try {
    return await dispenser.authorise(dispenser.request('0700000101', ml));
  } finally {
    await dispenser.close();
  }
}

describe('a wall clock that steps', () => {
  it('keeps the offline limit and the trusted day while behind, and trusted durations when ahead', {
    timeout: 120_000,
  }, async () => {
    const gateway = await start();
    gateway.clock.observeTrusted(Date.now()); // the cloud's Date header

    const dispenser = await TestDispenser.connect(gateway, 'D1');
    const first = (await dispenser.authorise(dispenser.request('0700000101', 8000))) as AuthApproved;
    expect(first.approved).toBe(true);
    await dispenser.complete(dispenser.completion(first, 8000));
    await dispenser.close();

    // Back a year: the clock cannot say how long the cloud has been away, nor which day it is.
    offset = -365 * DAY_MS;
    expect(gateway.clock.isBehind()).toBe(true);
    expect(await authorise(gateway, 5000)).toMatchObject({ approved: false, reason: 'OFFLINE_LIMIT' });

    // Forward a day: holds run on trusted time, not on the jumped wall clock.
    offset = DAY_MS;
    expect(gateway.clock.isBehind()).toBe(false);
    const ahead = (await authorise(gateway, 1000)) as AuthApproved;
    expect(ahead.approved).toBe(true);
    expect(ahead.hold_expires_at).toBeLessThan(Date.now() + 3_600_000);
    expect(gateway.store.ledger.eventsFor('TSF000101').at(-1)?.occurred_at).toBeLessThan(Date.now() + 60_000);

    // A restart with the clock a year back and no network: the persisted "not before" still holds.
    await gateway.close();
    running.splice(0, 1);
    offset = -365 * DAY_MS;
    const restarted = await start(gateway.dataDir);
    expect(restarted.clock.now()).toBeGreaterThan(Date.now() - 60_000);
    // D2: D1 still holds the 1 L approved above.
    expect(await authorise(restarted, 2000, 'D2')).toMatchObject({ approved: false, reason: 'OFFLINE_LIMIT' });
    running.unshift(restarted);
  });
});
