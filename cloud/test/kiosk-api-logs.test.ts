import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCloud } from '../src/cloud.js';
import { createKiosk, type KioskCredential } from '../src/kiosks/kiosks.js';
import { loggerOptions } from '../src/logger.js';
import { backends, startTestCloud, stopTestCloud } from './backends.js';
import { dispenseEvent, kioskClient } from './kiosk-client.js';
import { creditedCustomer } from './test-customers.js';

// The routes are the same on both backends: the embedded one is enough.
const [embedded] = backends();

describe('the kiosk API in the logs, at the info level', () => {
  let cloud: RunningCloud;
  let kiosk: KioskCredential;
  const lines: string[] = [];

  beforeAll(async () => {
    cloud = await startTestCloud(embedded!, {
      logger: pino(loggerOptions('info'), { write: (line: string) => void lines.push(line) }),
    });
    kiosk = await createKiosk(cloud.db, { kioskId: 'KIOSK-LOGS' });
  });
  afterAll(() => stopTestCloud(cloud, embedded!));

  it('writes no line for the pulls, pushes and status reports every kiosk sends all day, but still warns', async () => {
    const client = kioskClient(cloud.url, kiosk);
    const customer = await creditedCustomer(cloud, { phone: '+254700000977', name: 'Log Test', pin: '4826' }, 5_000);
    lines.length = 0;
    expect((await client.pull()).status).toBe(200);
    expect((await client.push([dispenseEvent(kiosk.kioskId, customer.account_id, 1_000)])).body.rejected).toEqual([]);
    const report = {
      at: Date.now(),
      gateway_version: '1.0.0',
      events_waiting: 0,
      dispensers: [],
      tank_level_pct: null,
      water_quality: 'unknown' as const,
      auth_counts: [],
    };
    expect((await client.status(report)).status).toBe(200);
    // Lines about a request carry its id; anything the cloud logs meanwhile on its own is not these routes'.
    expect(lines.filter((line) => line.includes('"reqId"'))).toEqual([]);

    // What an operator must see still reaches the log: a rejected event is a warning.
    const refused = await client.push([dispenseEvent(kiosk.kioskId, 'NOSUCHACCOUNT', 1_000)]);
    expect(refused.body.rejected).toHaveLength(1);
    expect(lines.some((line) => line.includes('kiosk events rejected'))).toBe(true);
  });
});
