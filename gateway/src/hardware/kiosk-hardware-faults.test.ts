import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertChange } from './alerts/alert-book.js';
import { KioskIo } from './gpio/kiosk-io.js';
import { SimulatedGpioChip } from './gpio/simulated-gpio.js';
import { resolveHardwareConfig } from './config.js';
import { startKioskHardware, type KioskHardware } from './kiosk-hardware.js';
import { WAIT } from './test-support/expect-value.js';

let hw: KioskHardware | undefined;
afterEach(() => hw?.close());

describe('kiosk hardware that cannot be reached (HW_MODE=hardware, no GPIO, no RS-485 port)', () => {
  it('simulates nothing: every line and sensor is a fault, alerted, and no water is sold', async () => {
    const changes: AlertChange[] = [];
    hw = await startKioskHardware(
      {
        mode: 'hardware',
        gpio: { base: 1000 }, // pins that exist nowhere, should this machine have GPIO
        modbus: { path: '/dev/does-not-exist', timeoutMs: 50, retries: 0, pollIntervalMs: 20 },
        modem: { path: '' },
        rules: { evaluateIntervalMs: 20 },
      },
      { logger: pino({ level: 'silent' }), onAlert: (c) => changes.push(c), isCloudReachable: () => true },
    );
    expect(hw.mode).toBe('hardware');
    expect(hw.simulation).toBeUndefined();
    const snapshot = hw.snapshot();
    expect(snapshot.gpio).not.toBe('simulated');
    // Unknown floats and lamp read fail-safe: no dispense, pump and UV off.
    expect(hw.interlock()).toBe('TANK_LOW');
    expect(snapshot).toMatchObject({ pump: { on: false }, uvLamp: { on: false } });
    const alerts = hw.activeAlerts().map((a) => a.key);
    for (const line of ['pumpOn', 'uvLampOn', 'tankLowFloat', 'tankHighFloat', 'doorOpen'])
      expect(alerts).toContain(`gpio_fault:${line}`);
    expect(hw.activeAlerts().find((a) => a.key === 'gpio_fault:pumpOn')?.severity).toBe('critical');
    await vi.waitFor(() => expect(hw!.activeAlerts().map((a) => a.key)).toContain('sensor_silent:free_chlorine'), WAIT);
    expect(changes.filter((c) => c.kind === 'raised').map((c) => c.alert.key)).toContain('gpio_fault:tankLowFloat');
  });
});

describe("the gateway's own conditions (a full disk)", () => {
  it("are raised and cleared as alerts like the kiosk hardware's own (the same ledger and SMS path)", async () => {
    const changes: AlertChange[] = [];
    let full = true;
    hw = await startKioskHardware(
      {
        mode: 'hardware',
        gpio: { base: 1000 },
        modbus: { path: '/dev/does-not-exist', timeoutMs: 50, retries: 0, pollIntervalMs: 20 },
        modem: { path: '' },
        rules: { evaluateIntervalMs: 20 },
      },
      {
        logger: pino({ level: 'silent' }),
        onAlert: (c) => changes.push(c),
        isCloudReachable: () => false,
        extraConditions: () =>
          full ? [{ key: 'storage_full', severity: 'critical', message: 'Gateway disk full', details: {} }] : [],
      },
    );
    await vi.waitFor(() => expect(hw!.activeAlerts().map((a) => a.key)).toContain('storage_full'), WAIT);
    full = false;
    await vi.waitFor(
      () => expect(changes.filter((c) => c.kind === 'cleared').map((c) => c.alert.key)).toContain('storage_full'),
      WAIT,
    );
  });
});

describe('a GPIO line that fails while running', () => {
  it('becomes a fault read at its fail-safe value instead of throwing', () => {
    const config = resolveHardwareConfig({ gpio: { uvFaultPin: 25 } }).gpio;
    const chip = new SimulatedGpioChip();
    const io = new KioskIo(chip, config);
    const lamp = chip.line(config.uvLampPin);
    lamp.writeSync = () => {
      throw new Error('EIO: i/o error, write');
    };
    expect(() => io.setUvLamp(true)).not.toThrow();
    expect(io.outputState().uvLampOn).toBe(false);
    expect(io.faults()).toEqual([{ line: 'uvLampOn', pin: 27, error: 'EIO: i/o error, write' }]);
    io.close();
  });
});
