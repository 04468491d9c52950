import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveHardwareConfig } from '../config.js';
import type { BinaryValue } from './gpio-line.js';
import { KioskIo } from './kiosk-io.js';
import { SimulatedGpioChip } from './simulated-gpio.js';

describe('simulated GPIO with the onoff interface', () => {
  // Debouncing is about time: fake timers tell "after the debounce" from "at once" exactly.
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('debounces a bouncing contact into one notification of the settled value', async () => {
    const chip = new SimulatedGpioChip();
    const door = chip.open(24, 'in', 'both', { debounceTimeout: 30 });
    const seen: BinaryValue[] = [];
    door.watch((error, value) => {
      expect(error).toBeNull();
      seen.push(value);
    });
    for (const level of [1, 0, 1, 0, 1] as const) door.drive(level);
    vi.advanceTimersByTime(29);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1]);
    expect(door.readSync()).toBe(1);
  });

  it('honours edge and activeLow like onoff, and refuses writes to inputs', async () => {
    const chip = new SimulatedGpioChip();
    const rising = chip.open(5, 'in', 'rising', {});
    const seen: BinaryValue[] = [];
    rising.watch((_e, v) => seen.push(v));
    rising.drive(1);
    vi.advanceTimersByTime(0);
    expect(seen).toEqual([1]);
    rising.drive(0);
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1]);
    expect(() => rising.writeSync(1)).toThrow(/EPERM/);

    const relay = chip.open(6, 'out', 'none', { activeLow: true });
    relay.writeSync(1);
    expect(relay.readSync()).toBe(1);
    expect(relay.physicalLevel()).toBe(0);
    relay.unexport();
    expect(() => relay.readSync()).toThrow(/unexported/);
  });

  it('KioskIo names the lines, reports input changes once and switches relays off on close', async () => {
    const config = resolveHardwareConfig({ gpio: { debounceMs: 5, uvFaultPin: 25, relaysActiveLow: true } }).gpio;
    const chip = new SimulatedGpioChip();
    const io = new KioskIo(chip, config);
    const changes: [string, boolean][] = [];
    io.on('input', (name, value) => changes.push([name, value]));

    chip.line(config.doorPin).drive(1);
    chip.line(config.uvFaultPin!).drive(1);
    vi.advanceTimersByTime(5);
    expect(changes).toHaveLength(2);
    expect(io.inputState()).toMatchObject({ doorOpen: true, uvFault: true, sourceLow: undefined });

    io.setPump(true);
    expect(io.outputState().pumpOn).toBe(true);
    expect(chip.line(config.pumpPin).physicalLevel()).toBe(0); // active-low relay energised
    io.close();
    expect(chip.line(config.pumpPin).physicalLevel()).toBe(1);
  });
});
