import { describe, expect, it } from 'vitest';
import { resolveHardwareConfig } from '../config.js';
import type { KioskInputs } from '../gpio/kiosk-io.js';
import type { SensorReading } from '../modbus/sensor-reading.js';
import type { ModemStatus } from '../modem/modem-monitor.js';
import { decidePump, evaluateKiosk, type KioskObservation } from './kiosk-rules.js';

const config = resolveHardwareConfig({});
const rules = config.rules; // pump on below 40 %, off at 90 %, tank low below 15 %
const wet: KioskInputs = {
  tankLowFloat: true,
  tankHighFloat: false,
  doorOpen: false,
  uvFault: false,
  sourceLow: false,
};
const modemOk: ModemStatus = {
  state: 'ok',
  sim: 'READY',
  registration: 'home',
  registered: true,
  rssiDbm: -73,
  operator: 'Safaricom',
  checkedAt: 1,
};

function ok(sensor: string, value: number): SensorReading {
  return { sensor, status: 'ok', value, unit: config.sensors[sensor]!.unit, at: 1 };
}

function observe(
  overrides: {
    values?: Record<string, number>;
    silent?: string[];
    inputs?: Partial<KioskInputs>;
    uvLampOn?: boolean;
    modem?: Partial<ModemStatus>;
  } = {},
): KioskObservation {
  const values = { tank_level: 60, conductivity: 400, turbidity: 0.3, free_chlorine: 0.8, ...overrides.values };
  const readings = new Map<string, SensorReading>(Object.entries(values).map(([s, v]) => [s, ok(s, v)]));
  for (const sensor of overrides.silent ?? []) {
    readings.set(sensor, { sensor, status: 'silent', value: null, unit: '', at: 1, error: 'Timed out' });
  }
  return {
    sensors: config.sensors,
    readings,
    inputs: { ...wet, ...overrides.inputs },
    outputs: { pumpOn: false, uvLampOn: overrides.uvLampOn ?? true },
    modem: { ...modemOk, ...overrides.modem },
  };
}

const keys = (o: KioskObservation) => evaluateKiosk(o, rules).conditions.map((c) => c.key);

describe('feed pump hysteresis', () => {
  it('starts below the on mark, keeps running through the band, stops at the off mark, stays off back down to the on mark', () => {
    let running = false;
    const trace: boolean[] = [];
    for (const level of [60, 45, 39.9, 50, 80, 89.9, 90, 70, 41, 39]) {
      running = decidePump(running, level, wet, rules);
      trace.push(running);
    }
    expect(trace).toEqual([false, false, true, true, true, true, false, false, false, true]);
  });

  it('never runs with the source dry or the high float up; without a level it runs from low float to high float', () => {
    expect(decidePump(true, 10, { ...wet, sourceLow: true }, rules)).toBe(false);
    expect(decidePump(true, 10, { ...wet, tankHighFloat: true }, rules)).toBe(false);
    expect(decidePump(false, null, { ...wet, tankLowFloat: false }, rules)).toBe(true);
    expect(decidePump(true, null, wet, rules)).toBe(true);
    expect(decidePump(false, null, wet, rules)).toBe(false);
  });
});

describe('dispense interlocks', () => {
  it('approves when the tank, the UV lamp and every quality reading are fine', () => {
    expect(evaluateKiosk(observe(), rules)).toMatchObject({ denial: null, conditions: [] });
  });

  it('TANK_LOW below the low mark or with the low float dry', () => {
    expect(evaluateKiosk(observe({ values: { tank_level: 14.9 } }), rules).denial).toBe('TANK_LOW');
    expect(evaluateKiosk(observe({ inputs: { tankLowFloat: false } }), rules).denial).toBe('TANK_LOW');
    expect(keys(observe({ values: { tank_level: 3 } }))).toEqual(['tank_low']);
    expect(evaluateKiosk(observe({ values: { tank_level: 15 } }), rules).denial).toBeNull();
  });

  it('UV_FAULT with the lamp off or a ballast fault', () => {
    expect(evaluateKiosk(observe({ uvLampOn: false }), rules).denial).toBe('UV_FAULT');
    expect(evaluateKiosk(observe({ inputs: { uvFault: true } }), rules).denial).toBe('UV_FAULT');
    expect(keys(observe({ inputs: { uvFault: true } }))).toEqual(['uv_fault']);
  });

  it('WATER_QUALITY for a reading outside its range, a silent or an unread quality sensor', () => {
    const turbid = evaluateKiosk(observe({ values: { turbidity: 1.8 } }), rules);
    expect(turbid.denial).toBe('WATER_QUALITY');
    expect(turbid.conditions[0]).toMatchObject({
      key: 'water_quality:turbidity',
      message: 'turbidity 1.8 NTU outside 0–1 NTU',
    });
    expect(evaluateKiosk(observe({ values: { free_chlorine: 0.1 } }), rules).denial).toBe('WATER_QUALITY');
    const silent = observe({ silent: ['conductivity'] });
    expect(evaluateKiosk(silent, rules).denial).toBe('WATER_QUALITY');
    expect(keys(silent)).toEqual(['sensor_silent:conductivity']);
    const unread = observe();
    (unread.readings as Map<string, SensorReading>).delete('turbidity');
    expect(evaluateKiosk(unread, rules).denial).toBe('WATER_QUALITY');
  });

  it('reports the most fundamental reason first: tank, then UV, then quality', () => {
    const all = observe({ values: { tank_level: 5, turbidity: 3 }, uvLampOn: false });
    expect(evaluateKiosk(all, rules).denial).toBe('TANK_LOW');
    expect(keys(all)).toEqual(['tank_low', 'uv_fault', 'water_quality:turbidity']);
  });

  it('a silent level sensor alerts but does not block while the low float is wet', () => {
    const o = observe({ silent: ['tank_level'] });
    expect(evaluateKiosk(o, rules).denial).toBeNull();
    expect(keys(o)).toEqual(['sensor_silent:tank_level']);
  });

  it('door, dry source and an unregistered modem are alerts, not interlocks', () => {
    const o = observe({
      inputs: { doorOpen: true, sourceLow: true },
      modem: { registered: false, registration: 'searching' },
    });
    expect(evaluateKiosk(o, rules).denial).toBeNull();
    expect(keys(o)).toEqual(['door_open', 'source_low', 'modem_unregistered']);
    expect(keys(observe({ modem: { state: 'not_fitted', registered: false } }))).toEqual([]);
  });
});

describe('unknown readings', () => {
  it('a silent quality sensor blocks dispensing by default, and only alerts when the kiosk says unknown may pass', () => {
    const silent = observe({ silent: ['free_chlorine'] });
    expect(evaluateKiosk(silent, rules).denial).toBe('WATER_QUALITY');
    const lenient = { ...rules, unknownQualityBlocks: false };
    expect(evaluateKiosk(silent, lenient).denial).toBeNull();
    expect(evaluateKiosk(silent, lenient).conditions.map((c) => c.key)).toContain('sensor_silent:free_chlorine');
    // Out of range still blocks whatever the setting.
    expect(evaluateKiosk(observe({ values: { free_chlorine: 0.05 } }), lenient).denial).toBe('WATER_QUALITY');
  });

  it('a faulty GPIO line is a critical hardware-fault alert', () => {
    const observation = {
      ...observe({ inputs: { sourceLow: true } }),
      gpioFaults: [{ line: 'sourceLow' as const, pin: 5, error: 'EIO' }],
    };
    const outcome = evaluateKiosk(observation, rules);
    expect(outcome.conditions).toContainEqual(
      expect.objectContaining({ key: 'gpio_fault:sourceLow', severity: 'critical' }),
    );
    expect(outcome.conditions.map((c) => c.key)).not.toContain('source_low');
    expect(outcome.pumpOn).toBe(false);
  });
});
