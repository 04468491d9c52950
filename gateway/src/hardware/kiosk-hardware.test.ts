import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectValue, WAIT } from './test-support/expect-value.js';
import { applyMigrations, listMigrations } from '../store/database.js';
import type { AlertChange } from './alerts/alert-book.js';
import { startKioskHardware, type KioskHardware } from './kiosk-hardware.js';
import { socatAvailable } from './serial/pty-pair.js';

const hasSocat = socatAvailable();
if (!hasSocat)
  console.warn('socat not installed: skipping the simulated kiosk tests (sensors and modem need pty pairs)');

describe.skipIf(!hasSocat)('kiosk hardware, simulated over real protocols', () => {
  let dir: string;
  let db: Database.Database;
  let hw: KioskHardware;
  let app: FastifyInstance;
  const changes: AlertChange[] = [];
  const cloud = { reachable: true };
  /** The DEV_SMS_FD file: what `npm start` would print as the demo's phone. */
  let smsFile: string;
  let smsFd: number | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tusafishe-hw-'));
    db = new Database(join(dir, 'gateway.db'));
    smsFile = join(dir, 'dev-sms.jsonl');
    smsFd = openSync(smsFile, 'w');
    applyMigrations(
      db,
      listMigrations().filter((m) => m.version >= 100 && m.version <= 199),
    );
    hw = await startKioskHardware(
      {
        mode: 'simulated',
        gpio: { debounceMs: 5, uvFaultPin: 25 },
        // Generous: socat relays late on a loaded machine, and one late answer is a silent sensor (an interlock).
        modbus: { timeoutMs: 5000, retries: 0, pollIntervalMs: 20 },
        modem: { commandTimeoutMs: 5000, pollIntervalMs: 40 },
        rules: { evaluateIntervalMs: 20 },
        alerts: { technicianPhones: ['+254700000102'], smsAfterOfflineMs: 0 },
        simulation: { tickMs: 600_000, smsFd }, // the tests move the world themselves
        readings: { bucketMs: 0 }, // every answer stored: the series below checks single values
      },
      {
        db,
        logger: pino({ level: 'silent' }),
        onAlert: (c) => changes.push(c),
        isCloudReachable: () => cloud.reachable,
        kioskId: 'K1',
      },
    );
    app = Fastify();
    await hw.registerRoutes(app);
  });

  afterAll(async () => {
    await app?.close();
    await hw?.close();
    if (smsFd !== undefined) closeSync(smsFd);
    db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Each test restores the world it changed; what it sees is only what happened during it, so
  // the tests pass in any order (`--sequence.shuffle`).
  beforeEach(() => {
    changes.length = 0;
  });

  const sim = () => hw.simulation!;
  /** The SMS the simulated modem has been asked to send so far; `.slice(n)` is those sent since. */
  const texts = () => sim().modem!.sent;
  const raised = (key: string) => changes.find((c) => c.kind === 'raised' && c.alert.key === key);
  const cleared = (key: string) => changes.find((c) => c.kind === 'cleared' && c.alert.key === key);
  const interlockIs = (code: string | null) =>
    vi.waitFor(() => expectValue(hw.interlock() === code, `interlock ${code}`), WAIT);

  it('is healthy with nothing wrong: live readings, UV lamp on, no interlock, no alerts', () => {
    const snapshot = hw.snapshot();
    expect(snapshot).toMatchObject({
      mode: 'simulated',
      gpio: 'simulated',
      interlock: null,
      alerts: [],
      uvLamp: { on: true },
    });
    expect(snapshot.sensors.map((s) => [s.sensor, s.status, s.inRange])).toEqual([
      ['tank_level', 'ok', true],
      ['conductivity', 'ok', true],
      ['turbidity', 'ok', true],
      ['free_chlorine', 'ok', true],
    ]);
    expect(snapshot.modem).toMatchObject({ state: 'ok', registered: true, operator: 'Safaricom', rssiDbm: -73 });
    expect(changes).toEqual([]);
  });

  it('tank low → TANK_LOW, alert raised and the pump started; refilled → cleared; the pump stops only at the off mark', async () => {
    sim().pin('tank_level', 10);
    await interlockIs('TANK_LOW');
    await vi.waitFor(() => expectValue(raised('tank_low'), 'tank_low raised'), WAIT);
    expect(hw.snapshot().pump.on).toBe(true);
    sim().pin('tank_level', 60);
    await interlockIs(null);
    await vi.waitFor(() => expectValue(cleared('tank_low'), 'tank_low cleared'), WAIT);
    expect(hw.snapshot().pump.on).toBe(true); // inside the hysteresis band it keeps filling
    sim().pin('tank_level', 92);
    await vi.waitFor(() => expectValue(!hw.snapshot().pump.on, 'pump off above the off mark'), WAIT);
    sim().pin('tank_level', 60);
    await vi.waitFor(() => expectValue(hw.snapshot().tank.levelPct === 60, 'level back at 60'), WAIT);
    expect(hw.snapshot().pump.on).toBe(false);
  });

  it('UV lamp switched off or its ballast faulting → UV_FAULT and alert, cleared when it runs again', async () => {
    hw.setUvLamp(false);
    await interlockIs('UV_FAULT');
    await vi.waitFor(() => expectValue(raised('uv_fault'), 'uv_fault raised'), WAIT);
    hw.setUvLamp(true);
    await interlockIs(null);
    await vi.waitFor(() => expectValue(cleared('uv_fault'), 'uv_fault cleared'), WAIT);

    sim().setInput('uvFault', true);
    await interlockIs('UV_FAULT');
    sim().setInput('uvFault', false);
    await interlockIs(null);
  });

  it('quality out of range or a silent quality sensor → WATER_QUALITY and alerts, cleared when back', async () => {
    sim().pin('turbidity', 2.5);
    await interlockIs('WATER_QUALITY');
    await vi.waitFor(() => expectValue(raised('water_quality:turbidity'), 'turbidity alert'), WAIT);
    expect(raised('water_quality:turbidity')!.alert.message).toBe('turbidity 2.5 NTU outside 0–1 NTU');
    sim().pin('turbidity', 0.4);
    await interlockIs(null);
    await vi.waitFor(() => expectValue(cleared('water_quality:turbidity'), 'turbidity cleared'), WAIT);

    sim().sensors.silence('free_chlorine');
    await interlockIs('WATER_QUALITY');
    await vi.waitFor(() => expectValue(raised('sensor_silent:free_chlorine'), 'silent alert'), WAIT);
    expect(hw.snapshot().sensors.find((s) => s.sensor === 'free_chlorine')).toMatchObject({
      status: 'silent',
      value: null,
    });
    sim().sensors.silence('free_chlorine', false);
    await interlockIs(null);
    await vi.waitFor(() => expectValue(cleared('sensor_silent:free_chlorine'), 'silent cleared'), WAIT);
  });

  it('door opened and modem unregistered raise alerts; while the cloud is reachable nothing is texted', async () => {
    const textedBefore = texts().length;
    sim().setInput('doorOpen', true);
    sim().modem!.set({ registration: 2 });
    await vi.waitFor(
      () => expectValue(raised('door_open') && raised('modem_unregistered'), 'door and modem alerts'),
      WAIT,
    );
    expect(hw.interlock()).toBeNull();
    sim().setInput('doorOpen', false);
    sim().modem!.set({ registration: 1 });
    await vi.waitFor(
      () => expectValue(cleared('door_open') && cleared('modem_unregistered'), 'door and modem cleared'),
      WAIT,
    );
    expect(texts().slice(textedBefore)).toEqual([]);
  });

  it('with the cloud unreachable, a new alert reaches the technicians by SMS through the modem', async () => {
    cloud.reachable = false;
    const textedBefore = texts().length;
    sim().setInput('doorOpen', true);
    const sms = await vi.waitFor(() => expectValue(texts()[textedBefore], 'alert SMS'), WAIT);
    expect(sms).toMatchObject({
      to: '+254700000102',
      text: expect.stringMatching(/^Tusafishe K1 \(offline \d+ min\): Kiosk door open\.$/),
    });
    // A copy for the demo's phone, in the cloud's development SMS format.
    await expect
      .poll(() => readFileSync(smsFile, 'utf8'))
      .toBe(`${JSON.stringify({ phone: '+254700000102', message: sms.text })}\n`);
    sim().setInput('doorOpen', false);
    cloud.reachable = true;
    await vi.waitFor(() => expectValue(cleared('door_open'), 'door cleared'), WAIT);
  });

  it('keeps readings in SQLite and serves them, the snapshot and metrics to the technicians', async () => {
    // Levels inside the tank's band (no interlock), each waited for until read over Modbus.
    for (const level of [55, 65, 60]) {
      sim().pin('tank_level', level);
      await vi.waitFor(() => expectValue(hw.snapshot().tank.levelPct === level, `level read at ${level}`), WAIT);
    }
    const live = await app.inject({ method: 'GET', url: '/api/hardware' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({
      interlock: null,
      sensors: expect.arrayContaining([
        expect.objectContaining({ sensor: 'tank_level', in_range: expect.any(Boolean) }),
      ]),
      modem: { registered: true },
    });

    const series = await app.inject({ method: 'GET', url: '/api/hardware/readings?sensor=tank_level&since=0' });
    expect(series.statusCode).toBe(200);
    const values = (series.json().points as { value: number }[]).map((p) => p.value);
    expect(values).toEqual(expect.arrayContaining([55, 65, 60]));

    const bad = await app.inject({ method: 'GET', url: '/api/hardware/readings?sensor=nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_QUERY', message: expect.stringContaining('unknown sensor') });
    expect(
      (await app.inject({ method: 'GET', url: '/api/hardware/readings?sensor=turbidity&limit=0' })).statusCode,
    ).toBe(400);

    const registry = new Registry();
    hw.collectMetrics(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/tusafishe_hw_sensor_value\{sensor="tank_level",unit="%"\} 60/);
    expect(text).toMatch(/tusafishe_hw_modem_registered 1/);
    expect(text).toMatch(/tusafishe_hw_interlock\{code="TANK_LOW"\} 0/);
  });
});
