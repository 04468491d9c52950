import { describe, expect, it } from 'vitest';
import { hardwareConfigFromEnv, resolveHardwareConfig } from './config.js';

describe('hardware configuration', () => {
  it('has working defaults without any variable', () => {
    const config = hardwareConfigFromEnv({});
    expect(config).toMatchObject({
      mode: 'hardware',
      gpio: { pumpPin: 17, uvLampPin: 27, debounceMs: 50 },
      modbus: { transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, timeoutMs: 500, retries: 2 },
      modem: { path: '/dev/ttyUSB2', baudRate: 115200 },
      rules: { tankLowPct: 15, pumpOnBelowPct: 40, pumpOffAbovePct: 90, unknownQualityBlocks: true },
      alerts: { technicianPhones: [], smsAfterOfflineMs: 600_000 },
    });
    expect(Object.keys(config.sensors)).toEqual(['tank_level', 'conductivity', 'turbidity', 'free_chlorine']);
  });

  it('reads balena device variables, normalises phones and merges the sensor map per sensor', () => {
    const config = hardwareConfigFromEnv({
      HW_GPIO_BASE: '512',
      HW_GPIO_UV_FAULT: '25',
      HW_GPIO_RELAYS_ACTIVE_LOW: 'true',
      HW_MODBUS_TRANSPORT: 'tcp',
      HW_MODBUS_HOST: '10.0.0.5',
      HW_TECHNICIAN_PHONES: '0700 000 102, +254711000000',
      HW_SENSORS: JSON.stringify({
        turbidity: { address: 9, okMax: 5 },
        free_chlorine: null,
        ph: { kind: 'quality', address: 6, register: 2, scale: 0.01, unit: 'pH', okMin: 6.5, okMax: 8.5 },
      }),
      HW_MODEM_PATH: '',
    });
    expect(config.gpio).toMatchObject({ base: 512, uvFaultPin: 25, relaysActiveLow: true });
    expect(config.modbus).toMatchObject({ transport: 'tcp', host: '10.0.0.5' });
    expect(config.alerts.technicianPhones).toEqual(['+254700000102', '+254711000000']);
    expect(config.sensors.turbidity).toMatchObject({ address: 9, register: 0, scale: 0.01, okMax: 5 });
    expect(config.sensors.free_chlorine).toBeUndefined();
    expect(config.sensors.ph).toMatchObject({ function: 'holding', offset: 0, unit: 'pH' });
    expect(config.modem.path).toBe('/dev/ttyUSB2'); // empty = unset; a programmatic '' means "no modem"
  });

  it('refuses bad values with a clear error naming the field', () => {
    expect(() => hardwareConfigFromEnv({ HW_MODBUS_BAUD: 'fast' })).toThrow(/modbus\.baudRate/);
    expect(() => hardwareConfigFromEnv({ HW_TECHNICIAN_PHONES: '12' })).toThrow(/valid phone number/);
    expect(() => hardwareConfigFromEnv({ HW_SENSORS: '{not json' })).toThrow(/HW_SENSORS/);
    expect(() => hardwareConfigFromEnv({ HW_SENSORS: '{"ph":{"address":6}}' })).toThrow(/sensors\.ph/);
    expect(() => resolveHardwareConfig({ rules: { pumpOnBelowPct: 95 } })).toThrow(/pumpOnBelowPct must be below/);
    expect(() => hardwareConfigFromEnv({ HW_MODE: 'real' })).toThrow(/INVALID|mode/);
  });

  it('simulates only when asked, never in production', () => {
    expect(() => hardwareConfigFromEnv({ HW_MODE: 'auto' })).toThrow(/mode/);
    expect(hardwareConfigFromEnv({ HW_MODE: 'simulated' }).mode).toBe('simulated');
    expect(() => hardwareConfigFromEnv({ HW_MODE: 'simulated', NODE_ENV: 'production' })).toThrow(
      /HW_MODE=simulated is refused in production/,
    );
    expect(hardwareConfigFromEnv({ NODE_ENV: 'production' }).mode).toBe('hardware');
    expect(hardwareConfigFromEnv({ HW_UNKNOWN_QUALITY_BLOCKS: 'false' }).rules.unknownQualityBlocks).toBe(false);
  });

  it("copies the modem's SMS out (DEV_SMS_FD) only from the simulated modem", () => {
    expect(hardwareConfigFromEnv({ HW_MODE: 'simulated', DEV_SMS_FD: '3' }).simulation.smsFd).toBe(3);
    expect(() => hardwareConfigFromEnv({ DEV_SMS_FD: '3' })).toThrow(/DEV_SMS_FD .* HW_MODE=simulated only/);
    expect(() => hardwareConfigFromEnv({ HW_MODE: 'simulated', DEV_SMS_FD: '1' })).toThrow(/smsFd/);
  });
});
