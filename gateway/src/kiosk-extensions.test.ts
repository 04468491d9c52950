import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayEvents } from './events.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { kioskExtensions } from './kiosk-extensions.js';
import { startFakeKioskCloud, type FakeKioskCloud } from './sync/fake-kiosk-cloud.js';

/** Listener counts by event name. */
function listeners(events: GatewayEvents): Record<string, number> {
  return Object.fromEntries(events.eventNames().map((name) => [String(name), events.listenerCount(name)]));
}

describe('the kiosk extensions as main.ts composes them', () => {
  let dir: string;
  let cloud: FakeKioskCloud;
  let gateway: RunningGateway;
  let coreOnly: Record<string, number>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusafishe-ext-'));
    cloud = await startFakeKioskCloud('K1', 'kiosk-secret-0123456789');
    gateway = await startGateway({
      dataDir: dir,
      kioskId: 'K1',
      host: '127.0.0.1',
      mqttPort: 0,
      httpPort: 0,
      logger: pino({ level: 'silent' }),
      setup: (core) => {
        coreOnly = listeners(core.events);
      },
      extensions: (core) =>
        kioskExtensions(core, { HW_MODE: 'off', CLOUD_URL: cloud.url, KIOSK_SECRET: 'kiosk-secret-0123456789' }),
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await cloud?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts every extension in order', () => {
    expect(gateway.extensions.list.map((extension) => extension.name)).toEqual([
      'sync',
      'backups',
      'firmware',
      'status-report',
      'technician-ui',
    ]);
  });

  it('leaves no listener of theirs on the event bus when stopped, and can start them again', async () => {
    const running = listeners(gateway.events);
    // Sync is woken by new dispenses; rollouts (one dispenser's, the fleet's) follow command
    // results and dispenser status; the status report counts authorisations.
    expect(running['dispense-recorded']).toBe((coreOnly['dispense-recorded'] ?? 0) + 1);
    expect(running['command-result']).toBe(2);
    expect(running['dispenser-status']).toBe(2);
    expect(running['authorisation']).toBe((coreOnly['authorisation'] ?? 0) + 1);

    await gateway.extensions.stop();
    expect(listeners(gateway.events)).toEqual(coreOnly);
    await gateway.extensions.stop(); // a second stop changes nothing
    expect(listeners(gateway.events)).toEqual(coreOnly);

    await gateway.extensions.start();
    expect(listeners(gateway.events)).toEqual(running);
    const health = await fetch(`http://127.0.0.1:${gateway.httpPort}/api/sync`);
    expect(health.status).toBe(401); // served, behind the technician sign-in
  });

  it('leaves the bus empty once the gateway has closed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tusafishe-ext-'));
    const other = await startGateway({
      dataDir,
      kioskId: 'K1',
      host: '127.0.0.1',
      mqttPort: 0,
      httpPort: 0,
      logger: pino({ level: 'silent' }),
      extensions: (core) => kioskExtensions(core, { HW_MODE: 'off', GATEWAY_BACKUP_INTERVAL_HOURS: '0' }),
    });
    expect(other.events.eventNames().length).toBeGreaterThan(0);
    await other.close();
    expect(other.events.eventNames()).toEqual([]);
    await rm(dataDir, { recursive: true, force: true });
  });
});
