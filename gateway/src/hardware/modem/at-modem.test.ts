import { pino } from 'pino';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveHardwareConfig } from '../config.js';
import { HardwareError } from '../hardware-error.js';
import { openPtyPair, socatAvailable, type PtyPair } from '../serial/pty-pair.js';
import { AtModem } from './at-modem.js';
import { ModemMonitor } from './modem-monitor.js';
import { Sim7670Simulator } from './sim7670-simulator.js';

const hasSocat = socatAvailable();
if (!hasSocat) console.warn('socat not installed: skipping the modem tests on a pseudo-terminal');
const logger = pino({ level: 'silent' });

describe.skipIf(!hasSocat)('AT modem driver against a SIM7670G responder on a pty', () => {
  let pty: PtyPair;
  let sim: Sim7670Simulator;
  let port: SerialPort;
  let modem: AtModem;

  beforeEach(async () => {
    pty = await openPtyPair();
    sim = await Sim7670Simulator.open(pty.a);
    port = new SerialPort({ path: pty.b, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    modem = new AtModem(port);
  });
  afterEach(async () => {
    modem.close();
    await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
    await sim.close();
    await pty.close();
  });

  // Generous: socat relays late on a loaded machine; the silent-modem test passes its own short one.
  const ask = (command: string, expect?: string, timeoutMs = 10_000) => modem.command(command, { expect, timeoutMs });

  it('ignores the echo and garbage lines, and keeps an unsolicited +CMTI out of the answer', async () => {
    const urcs: string[] = [];
    const garbage: string[] = [];
    modem.on('urc', (line) => urcs.push(line));
    modem.on('garbage', (line) => garbage.push(line));

    sim.injectGarbage('\x00\xff#@!', 'random boot chatter');
    sim.injectUrcDuringNextAnswer('+CMTI: "SM",3');
    expect(await ask('AT+CSQ', '+CSQ:')).toEqual(['+CSQ: 20,99']); // echo is still on here
    expect(urcs).toEqual(['+CMTI: "SM",3']);
    expect(garbage).toEqual(expect.arrayContaining(['random boot chatter']));

    sim.sendUrc('RING');
    await ask('ATE0');
    expect(urcs).toContain('RING');
  });

  it('rejects with the modem error on ERROR and +CME ERROR, and keeps serving commands afterwards', async () => {
    await expect(ask('AT+BOGUS')).rejects.toMatchObject({ code: 'MODEM_ERROR', details: { result: 'ERROR' } });
    sim.set({ simInserted: false });
    await expect(ask('AT+CPIN?', '+CPIN:')).rejects.toMatchObject({
      code: 'MODEM_ERROR',
      details: { kind: 'CME', code: '10' },
    });
    sim.set({ simInserted: true });
    expect(await ask('AT+CPIN?', '+CPIN:')).toEqual(['+CPIN: READY']);
  });

  it('runs one command at a time: concurrent callers each get their own answer', async () => {
    const answers = await Promise.all([ask('AT+CSQ', '+CSQ:'), ask('AT+CREG?', '+CREG:'), ask('AT+COPS?', '+COPS:')]);
    expect(answers).toEqual([['+CSQ: 20,99'], ['+CREG: 0,1'], ['+COPS: 0,0,"Safaricom",7']]);
  });

  it('times out on a silent modem, then works again once it answers', async () => {
    sim.set({ silent: true });
    const error = await ask('AT+CSQ', '+CSQ:', 150).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HardwareError);
    expect(error).toMatchObject({ code: 'MODEM_TIMEOUT' });
    sim.set({ silent: false });
    expect(await ask('AT+CSQ', '+CSQ:')).toEqual(['+CSQ: 20,99']);
  });

  it('sends an SMS in text mode through the > prompt and returns the message reference', async () => {
    await expect(modem.sendSms('+254700000102', 'hello', 10_000)).rejects.toMatchObject({
      details: { kind: 'CMS', code: '302' },
    });
    await ask('AT+CMGF=1');
    const reference = await modem.sendSms('+254700000102', 'Kiosk K1: tank low (12%) – refill', 10_000);
    expect(reference).toBe(1);
    expect(sim.sent).toEqual([{ to: '+254700000102', text: 'Kiosk K1: tank low (12%)  refill', reference: 1 }]);
  });
});

describe.skipIf(!hasSocat)('modem monitor', () => {
  it('reports signal, registration, operator and SIM; an unplugged modem is absent, never a crash', async () => {
    const pty = await openPtyPair();
    const sim = await Sim7670Simulator.open(pty.a);
    // 2 s a command, not 300 ms: socat relays late on a loaded machine; the silent step waits it once.
    const config = resolveHardwareConfig({ modem: { path: pty.b, commandTimeoutMs: 2000, pollIntervalMs: 50 } }).modem;
    const monitor = new ModemMonitor(config, logger);
    try {
      expect(await monitor.poll()).toMatchObject({
        state: 'ok',
        sim: 'READY',
        registration: 'home',
        registered: true,
        rssiDbm: -73,
        operator: 'Safaricom',
      });
      sim.set({ registration: 2, rssi: 5 });
      expect(await monitor.poll()).toMatchObject({
        registration: 'searching',
        registered: false,
        rssiDbm: -103,
        operator: null,
      });
      sim.set({ simInserted: false });
      expect(await monitor.poll()).toMatchObject({ sim: 'NOT INSERTED', registered: false });
      sim.set({ silent: true });
      expect(await monitor.poll()).toMatchObject({ state: 'unresponsive', registered: false });
      sim.set({ silent: false, simInserted: true, registration: 5 });
      expect(await monitor.poll()).toMatchObject({ state: 'ok', registration: 'roaming', registered: true });
      expect(await monitor.sendSms('+254700000102', 'test')).toBe(1);
    } finally {
      await monitor.close();
      await sim.close();
      await pty.close();
    }
    const absent = new ModemMonitor({ ...config, path: '/dev/does-not-exist' }, logger);
    expect(await absent.poll()).toMatchObject({ state: 'absent', registered: false });
    await absent.close();
  });
});
