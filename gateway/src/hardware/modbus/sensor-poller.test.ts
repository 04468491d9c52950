import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveHardwareConfig } from '../config.js';
import { openPtyPair, socatAvailable, type PtyPair } from '../serial/pty-pair.js';
import { ModbusSensorSimulator } from './modbus-sensor-simulator.js';
import { SensorPoller } from './sensor-poller.js';

const logger = pino({ level: 'silent' });
const hasSocat = socatAvailable();
if (!hasSocat) console.warn('socat not installed: skipping Modbus RTU over a pty pair');

// A generous answer timeout and no retry: a loaded machine may take over a second to relay an
// answer through socat, which a 1 s timeout reported as a silent sensor; a silenced one costs one wait.
const config = resolveHardwareConfig({ modbus: { timeoutMs: 5000, retries: 0, pollIntervalMs: 20 } });
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function bySensor(readings: Awaited<ReturnType<SensorPoller['pollOnce']>>) {
  return Object.fromEntries(readings.map((r) => [r.sensor, r]));
}

function simulator(): ModbusSensorSimulator {
  const sim = new ModbusSensorSimulator(config.sensors);
  sim.set('tank_level', 52.3);
  sim.set('conductivity', 412);
  sim.set('turbidity', 0.37);
  sim.set('free_chlorine', 0.8);
  closers.push(() => sim.close());
  return sim;
}

describe.skipIf(!hasSocat)('Modbus RTU sensors over a pseudo-terminal pair', () => {
  it('reads every sensor at its address, register, function and scale; a sensor that stops answering is silent', async () => {
    const pty: PtyPair = await openPtyPair();
    closers.push(() => pty.close());
    const sim = simulator();
    await sim.serveRtu(pty.a, 9600);
    const poller = new SensorPoller({ ...config.modbus, path: pty.b }, config.sensors, logger);
    closers.push(() => poller.close());

    const first = bySensor(await poller.pollOnce());
    expect(first.tank_level).toMatchObject({ status: 'ok', value: 52.3, unit: '%' });
    expect(first.conductivity).toMatchObject({ status: 'ok', value: 412, unit: 'uS/cm' }); // input register
    expect(first.turbidity).toMatchObject({ status: 'ok', value: 0.37, unit: 'NTU' });
    expect(first.free_chlorine).toMatchObject({ status: 'ok', value: 0.8, unit: 'mg/L' });

    sim.silence('turbidity');
    sim.set('free_chlorine', 1.25);
    const second = bySensor(await poller.pollOnce());
    expect(second.turbidity).toMatchObject({ status: 'silent', value: null });
    expect(second.turbidity?.status === 'silent' && second.turbidity.error).toMatch(/timed out/i);
    expect(second.free_chlorine).toMatchObject({ status: 'ok', value: 1.25 }); // the bus still works after a timeout

    sim.silence('turbidity', false);
    expect(bySensor(await poller.pollOnce()).turbidity).toMatchObject({ status: 'ok', value: 0.37 });
  });

  it('reports every sensor silent when the serial port does not exist, without throwing', async () => {
    const poller = new SensorPoller({ ...config.modbus, path: '/dev/does-not-exist' }, config.sensors, logger);
    closers.push(() => poller.close());
    const readings = await poller.pollOnce();
    expect(readings.map((r) => r.status)).toEqual(['silent', 'silent', 'silent', 'silent']);
    expect(readings[0]?.status === 'silent' && readings[0].error).toMatch(/cannot open Modbus rtu/);
  });
});

describe('Modbus TCP sensors on loopback', () => {
  it('polls sensors behind a Modbus TCP gateway, on an interval', async () => {
    const sim = simulator();
    const port = await sim.serveTcp('127.0.0.1', 0);
    const poller = new SensorPoller(
      { ...config.modbus, transport: 'tcp', host: '127.0.0.1', port },
      config.sensors,
      logger,
    );
    closers.push(() => poller.close());
    const seen: number[] = [];
    poller.on('reading', (r) => {
      if (r.sensor === 'tank_level' && r.status === 'ok') seen.push(r.value);
    });
    await poller.start();
    sim.set('tank_level', 60);
    await new Promise<void>((resolve) =>
      poller.on('reading', (r) => r.sensor === 'tank_level' && r.value === 60 && resolve()),
    );
    expect(seen[0]).toBe(52.3);
    expect(seen.at(-1)).toBe(60);
  });
});

describe('a failing reading listener', () => {
  it('is logged and polling goes on (no unhandled rejection stops the gateway)', async () => {
    const poller = new SensorPoller({ ...config.modbus, path: '/dev/does-not-exist' }, config.sensors, logger);
    closers.push(() => poller.close());
    poller.on('reading', () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    });
    let cycles = 0;
    poller.on('cycle', () => cycles++);
    void poller.start();
    await vi.waitFor(() => expect(cycles).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
  });
});
