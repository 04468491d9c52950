import { describe, expect, it, vi } from 'vitest';
import { expectValue, WAIT } from '../test-support/expect-value.js';
import { resolveHardwareConfig } from '../config.js';
import { KioskIo } from '../gpio/kiosk-io.js';
import { SimulatedGpioChip } from '../gpio/simulated-gpio.js';
import { ModbusSensorSimulator } from '../modbus/modbus-sensor-simulator.js';
import { inOkRange } from '../modbus/sensor-reading.js';
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
      await vi.waitFor(() => expectValue(kiosk.tankLevel() < start - 1, 'tank draining'), WAIT);
      io.setPump(true);
      await vi.waitFor(() => expectValue(io.inputState().tankHighFloat, 'tank full: high float up'), WAIT);
      io.setPump(false);
      kiosk.pin('tank_level', 5);
      await vi.waitFor(() => expectValue(!io.inputState().tankLowFloat, 'low float dry'), WAIT);
      await vi.waitFor(() => {
        turbidity.push(sensors.value('turbidity')!);
        expect(new Set(turbidity).size, 'turbidity wandering').toBeGreaterThan(3);
      }, WAIT);
      expect(turbidity.every((v) => inOkRange(v, config.sensors.turbidity!))).toBe(true);
    } finally {
      kiosk.stop();
      io.close();
    }
  });
});
