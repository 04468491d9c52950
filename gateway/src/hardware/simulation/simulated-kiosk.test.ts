import { describe, expect, it } from 'vitest';
import { resolveHardwareConfig } from '../config.js';
import { KioskIo } from '../gpio/kiosk-io.js';
import { SimulatedGpioChip } from '../gpio/simulated-gpio.js';
import { ModbusSensorSimulator } from '../modbus/modbus-sensor-simulator.js';
import { inOkRange } from '../modbus/sensor-reading.js';
import { waitUntil } from '../test-support/wait-until.js';
import { SimulatedKiosk } from './simulated-kiosk.js';

describe('simulated kiosk physics', () => {
  it('drains the tank, refills it while the pump relay is on, moves the floats, keeps quality wandering inside range', async () => {
    const config = resolveHardwareConfig({
      gpio: { debounceMs: 1, relaysActiveLow: true },
      simulation: { tickMs: 10, speed: 100 },
    });
    const chip = new SimulatedGpioChip();
    const sensors = new ModbusSensorSimulator(config.sensors);
    const kiosk = new SimulatedKiosk(config, chip, sensors, undefined);
    const io = new KioskIo(chip, config.gpio);
    expect(io.inputState()).toMatchObject({ tankLowFloat: true, tankHighFloat: false }); // preset before the lines opened
    const turbidity: number[] = [];
    kiosk.start();
    try {
      const start = kiosk.tankLevel();
      await waitUntil(() => kiosk.tankLevel() < start - 1, 5000, 'tank draining');
      io.setPump(true);
      await waitUntil(() => io.inputState().tankHighFloat, 10_000, 'tank full: high float up');
      io.setPump(false);
      kiosk.pin('tank_level', 5);
      await waitUntil(() => !io.inputState().tankLowFloat, 2000, 'low float dry');
      await waitUntil(
        () => {
          turbidity.push(sensors.value('turbidity')!);
          return new Set(turbidity).size > 3 && turbidity;
        },
        5000,
        'turbidity wandering',
      );
      expect(turbidity.every((v) => inOkRange(v, config.sensors.turbidity!))).toBe(true);
    } finally {
      kiosk.stop();
      io.close();
    }
  });
});
