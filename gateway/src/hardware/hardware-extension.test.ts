import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectValue, WAIT } from './test-support/expect-value.js';
import { startGateway, type RunningGateway } from '../gateway.js';
import { GatewayError } from '../errors.js';
import { HardwareExtension } from './hardware-extension.js';
import { socatAvailable } from './serial/pty-pair.js';
import { registerOpenApi } from '../ui-api/technician-api.js';

const hasSocat = socatAvailable();
if (!hasSocat) console.warn('socat not installed: skipping the gateway wiring test of the simulated hardware');

describe.skipIf(!hasSocat)('kiosk hardware attached to a running gateway', () => {
  let dir: string;
  let gateway: RunningGateway;
  let hardware: HardwareExtension | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusafishe-hw-gw-'));
    gateway = await startGateway({
      dataDir: dir,
      kioskId: 'K7',
      host: '127.0.0.1',
      mqttPort: 0,
      httpPort: 0,
      logger: pino({ level: 'silent' }),
      extensions: async (core) => {
        // As kioskExtensions does: the OpenAPI collector first, so it sees the hardware routes.
        await registerOpenApi(core.http);
        hardware = await HardwareExtension.create(
          core,
          // 5 s: a late answer over socat on a loaded machine would read as a silent sensor and an interlock.
          { HW_MODE: 'simulated', HW_MODBUS_POLL_MS: '20', HW_MODBUS_TIMEOUT_MS: '5000', HW_MODBUS_RETRIES: '0' },
          {
            isCloudReachable: () => true,
            // Stands in for the technician API's session guard.
            onRequest: async (request) => {
              if (request.headers['x-technician'] !== 'yes') throw new GatewayError('NOT_SIGNED_IN');
            },
          },
        );
        return hardware ? [hardware] : [];
      },
    });
  });
  afterAll(async () => {
    await gateway?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Each test leaves the tank full again, and looks only at notices written during it, so the
  // tests pass in any order (`--sequence.shuffle`).
  const interlockReleased = () =>
    vi.waitFor(() => expectValue(gateway.interlocks.check({ dispenserId: null }) === null, 'interlock released'), WAIT);
  /**
   * Fills the tank and waits for its alert to clear too, which may come after the interlock's
   * release: a tank_low alert still open when the next test empties the tank is never raised anew.
   */
  const refilled = async () => {
    hardware!.hardware.simulation!.pin('tank_level', 70);
    await interlockReleased();
    await vi.waitFor(
      () => expectValue(!hardware!.snapshot().alerts.some((alert) => alert.key === 'tank_low'), 'tank_low cleared'),
      WAIT,
    );
  };

  it('denies dispenses through the gateway interlocks and writes alerts to the ledger as notices', async () => {
    await refilled();
    const earlier = new Set(gateway.store.ledger.unacknowledged(1000).map((e) => e.event_id));
    hardware!.hardware.simulation!.pin('tank_level', 5);
    await vi.waitFor(
      () => expectValue(gateway.interlocks.check({ dispenserId: 'D1' }) === 'TANK_LOW', 'TANK_LOW interlock'),
      WAIT,
    );
    const notice = await vi.waitFor(
      () =>
        expectValue(
          gateway.store.ledger
            .unacknowledged(100)
            .find((e) => e.type === 'alert_raised' && e.details?.alert === 'tank_low' && !earlier.has(e.event_id)),
          'alert_raised in the ledger',
        ),
      WAIT,
    );
    expect(notice).toMatchObject({ amount_ml: 0, kiosk_id: 'K7' });
    hardware!.hardware.simulation!.pin('tank_level', 70);
    await interlockReleased();
    await vi.waitFor(
      () =>
        expectValue(
          gateway.store.ledger
            .unacknowledged(100)
            .find((e) => e.type === 'alert_cleared' && e.source_id === notice.source_id),
          'alert_cleared in the ledger',
        ),
      WAIT,
    );
  });

  it('serves /api/hardware behind the guard it is given, and hardware gauges on /metrics', async () => {
    const url = `http://127.0.0.1:${gateway.httpPort}/api/hardware`;
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'NOT_SIGNED_IN' });
    // A sensor poll that missed its timeout on a loaded machine holds the quality interlock until
    // the next poll answers: wait for the kiosk's steady state rather than read it once.
    await vi.waitFor(async () => {
      const served = await fetch(url, { headers: { 'x-technician': 'yes' } });
      expect(served.status).toBe(200);
      expect(await served.json()).toMatchObject({
        mode: 'simulated',
        interlock: null,
        tank: { level_percent: expect.any(Number), low_float_wet: expect.any(Boolean) },
        uv_lamp: { on: true },
        modem: { registered: true, signal_dbm: expect.any(Number) },
      });
    }, WAIT);
    const readings = await fetch(`${url}/readings?sensor=tank_level&since=0&bucket_ms=60000`, {
      headers: { 'x-technician': 'yes' },
    });
    expect(await readings.json()).toMatchObject({ sensor: 'tank_level', since: 0, bucket_ms: 60_000 });
    const badQuery = await fetch(`${url}/readings?sensor=tank_level&bucketMs=60000`, {
      headers: { 'x-technician': 'yes' },
    });
    expect(badQuery.status).toBe(400);
    const spec = gateway.http.swagger() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/hardware', '/api/hardware/readings']));
    // A poll may miss its 1 s Modbus timeout on a loaded machine (no retries here): the next one answers.
    const metrics = () => fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`).then((r) => r.text());
    await expect.poll(metrics, WAIT).toMatch(/tusafishe_hw_sensor_up\{sensor="turbidity"\} 1/);
  });

  it('is stopped with the other extensions (its interlock removed) and can be started again', async () => {
    const tankLow = () =>
      vi.waitFor(() => expectValue(gateway.interlocks.check({ dispenserId: 'D1' }) === 'TANK_LOW', 'TANK_LOW'), WAIT);
    hardware!.hardware.simulation!.pin('tank_level', 5);
    await tankLow();
    await gateway.extensions.stop();
    expect(gateway.interlocks.check({ dispenserId: 'D1' })).toBeNull();
    await gateway.extensions.start();
    const served = await fetch(`http://127.0.0.1:${gateway.httpPort}/api/hardware`, {
      headers: { 'x-technician': 'yes' },
    });
    expect(await served.json()).toMatchObject({ mode: 'simulated', uv_lamp: { on: true } });
    hardware!.hardware.simulation!.pin('tank_level', 5);
    await tankLow();
    await refilled();
  });
});
