import * as z from 'zod';
import { isValidPhone, normalisePhone } from '@tusafishe/protocol/phone';
import { HardwareError } from './hardware-error.js';

/**
 * Kiosk hardware configuration. In the field every value is a balena device
 * variable (env var, table in README.md); defaults fit a Raspberry Pi with a
 * relay board, an RS-485 USB adapter and a SIM7670G USB modem.
 */

const Pin = z.int().min(0).max(1023);
const Ms = z.int().min(0);

export const SensorSpec = z
  .object({
    /** `tank_level` feeds the pump and TANK_LOW rules; `quality` feeds WATER_QUALITY. */
    kind: z.enum(['tank_level', 'quality']),
    /** Modbus slave (unit) address on the RS-485 bus. */
    address: z.int().min(1).max(247),
    register: z.int().min(0).max(65535),
    function: z.enum(['holding', 'input']).default('holding'),
    /** value = raw × scale + offset (raw is one 16-bit register). */
    scale: z.number().positive().default(1),
    offset: z.number().default(0),
    signed: z.boolean().default(false),
    unit: z.string().min(1).max(16),
    /** Inclusive range in which water is fit to sell; outside it → WATER_QUALITY. */
    okMin: z.number().optional(),
    okMax: z.number().optional(),
  })
  .refine((s) => s.okMin === undefined || s.okMax === undefined || s.okMin <= s.okMax, 'okMin must be ≤ okMax');
export type SensorSpec = z.infer<typeof SensorSpec>;

const SensorId = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'sensor ids are lower_snake_case');

const DEFAULT_SENSORS: Record<string, z.input<typeof SensorSpec>> = {
  tank_level: {
    kind: 'tank_level',
    address: 1,
    register: 0,
    function: 'holding',
    scale: 0.1,
    unit: '%',
    okMin: 0,
    okMax: 100,
  },
  conductivity: {
    kind: 'quality',
    address: 2,
    register: 0,
    function: 'input',
    scale: 1,
    unit: 'uS/cm',
    okMin: 0,
    okMax: 1500,
  },
  turbidity: {
    kind: 'quality',
    address: 3,
    register: 0,
    function: 'holding',
    scale: 0.01,
    unit: 'NTU',
    okMin: 0,
    okMax: 1,
  },
  free_chlorine: {
    kind: 'quality',
    address: 4,
    register: 0,
    function: 'holding',
    scale: 0.01,
    unit: 'mg/L',
    okMin: 0.2,
    okMax: 5,
  },
};

const E164Phone = z
  .string()
  .refine((p) => isValidPhone(p), 'must be a valid phone number')
  .transform((p) => normalisePhone(p));

export const HardwareConfig = z
  .object({
    /**
     * `hardware`: the real drivers; a GPIO line, sensor or modem that cannot be reached is a
     * hardware fault (alert, interlocks fail safe), never replaced by a simulator.
     * `simulated`: every device is a simulator (only when asked: `npm start`, tests; refused in production).
     * `off`: a gateway without kiosk hardware (no interlocks, no readings), e.g. in fleet tests.
     */
    mode: z.enum(['hardware', 'simulated', 'off']).default('hardware'),
    /** Usable tank volume, to show litres beside the level; unknown when absent. */
    tankCapacityLitres: z.number().positive().max(1_000_000).optional(),
    gpio: z
      .object({
        /**
         * sysfs number of header pin 0; found from the GPIO controller's label when absent (512 on a
         * Pi 3/4 and 571 on a Pi 5 with kernels ≥ 6.6, 0 before).
         */
        base: Pin.optional(),
        debounceMs: Ms.max(5000).default(50),
        pumpPin: Pin.default(17),
        uvLampPin: Pin.default(27),
        tankLowFloatPin: Pin.default(22),
        tankHighFloatPin: Pin.default(23),
        doorPin: Pin.default(24),
        /** Ballast fault/feedback contact; absent when the lamp has none. */
        uvFaultPin: Pin.optional(),
        /** Feed-source dry switch (borehole/mains); absent when not fitted. */
        sourceLowPin: Pin.optional(),
        /** Most opto-isolated relay boards switch on a low level. */
        relaysActiveLow: z.boolean().default(false),
        inputsActiveLow: z.boolean().default(false),
      })
      .prefault({}),
    modbus: z
      .object({
        transport: z.enum(['rtu', 'tcp']).default('rtu'),
        path: z.string().min(1).default('/dev/ttyUSB0'),
        baudRate: z.int().positive().default(9600),
        parity: z.enum(['none', 'even', 'odd']).default('none'),
        host: z.string().min(1).default('127.0.0.1'),
        port: z.int().min(1).max(65535).default(502),
        timeoutMs: z.int().min(10).max(10_000).default(500),
        retries: z.int().min(0).max(5).default(2),
        pollIntervalMs: z.int().min(20).default(5000),
      })
      .prefault({}),
    sensors: z.record(SensorId, SensorSpec).default(() => defaultSensors()),
    modem: z
      .object({
        /** Empty string: no modem fitted. */
        path: z.string().default('/dev/ttyUSB2'),
        baudRate: z.int().positive().default(115200),
        pollIntervalMs: z.int().min(20).default(30_000),
        commandTimeoutMs: z.int().min(10).default(5000),
        smsTimeoutMs: z.int().min(10).default(60_000),
      })
      .prefault({}),
    rules: z
      .object({
        /** Below this tank level no dispense is approved (TANK_LOW). */
        tankLowPct: z.number().min(0).max(100).default(15),
        /** The feed pump starts below this level and runs until pumpOffAbovePct. */
        pumpOnBelowPct: z.number().min(0).max(100).default(40),
        pumpOffAbovePct: z.number().min(0).max(100).default(90),
        evaluateIntervalMs: z.int().min(10).default(1000),
        /** A quality sensor silent or not read yet blocks dispensing (WATER_QUALITY); false: only out-of-range readings do. */
        unknownQualityBlocks: z.boolean().default(true),
      })
      .prefault({})
      .refine((r) => r.pumpOnBelowPct < r.pumpOffAbovePct, 'pumpOnBelowPct must be below pumpOffAbovePct'),
    alerts: z
      .object({
        technicianPhones: z.array(E164Phone).max(10).default([]),
        /** SMS only once the cloud has been unreachable this long (alerts reach it otherwise). */
        smsAfterOfflineMs: Ms.default(10 * 60_000),
        smsMaxPerHour: z.int().min(1).max(120).default(6),
        /** The same alert (by key) is not texted again within this time, however often it flaps. */
        smsRepeatAfterMs: Ms.default(6 * 3600_000),
      })
      .prefault({}),
    readings: z
      .object({
        retentionMs: z
          .int()
          .min(60_000)
          .default(7 * 24 * 3600_000),
        maxRows: z.int().min(100).default(500_000),
        /** One row per sensor per this many ms (average, min, max); 0 stores every answer. */
        bucketMs: z.int().min(0).max(3_600_000).default(60_000),
        /** Finished buckets are written together once the oldest is this old (0: each as it closes). */
        flushMs: z
          .int()
          .min(0)
          .max(3_600_000)
          .default(15 * 60_000),
      })
      .prefault({}),
    simulation: z
      .object({
        /** Physics step of the simulated tank and sensors. */
        tickMs: z.int().min(10).default(1000),
        /** Simulated seconds per real second (a demo or a test wants the tank to move faster). */
        speed: z.number().positive().max(10_000).default(1),
        /**
         * DEV_SMS_FD: every SMS the simulated modem is given goes on this descriptor as a JSON line
         * (`@tusafishe/protocol/dev-sms`), for `npm start` to print as the demo's phone.
         */
        smsFd: z.int().min(3).optional(),
      })
      .prefault({}),
  })
  .refine((c) => Object.values(c.sensors).filter((s) => s.kind === 'tank_level').length <= 1, {
    message: 'at most one tank_level sensor',
    path: ['sensors'],
  });
export type HardwareConfig = z.infer<typeof HardwareConfig>;
export type HardwareConfigInput = z.input<typeof HardwareConfig>;

function defaultSensors(): Record<string, SensorSpec> {
  return Object.fromEntries(Object.entries(DEFAULT_SENSORS).map(([id, spec]) => [id, SensorSpec.parse(spec)]));
}

/** Defaults filled in; a bad value → HardwareError naming the field, nothing started. */
export function resolveHardwareConfig(input: HardwareConfigInput = {}): HardwareConfig {
  const parsed = HardwareConfig.safeParse(input);
  if (!parsed.success) {
    throw new HardwareError('INVALID_HARDWARE_CONFIG', `invalid hardware config: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

type EnvParse = (raw: string) => unknown;
const asNumber: EnvParse = (raw) => Number(raw);
const asBool: EnvParse = (raw) => ['1', 'true', 'yes', 'on'].includes(raw.trim().toLowerCase());
const asString: EnvParse = (raw) => raw;
const asList: EnvParse = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Env var → config path. Exported so the README table and the code cannot drift apart. */
const HARDWARE_ENV: ReadonlyArray<readonly [name: string, path: string, parse: EnvParse]> = [
  ['HW_MODE', 'mode', asString],
  ['HW_TANK_CAPACITY_L', 'tankCapacityLitres', asNumber],
  ['HW_GPIO_BASE', 'gpio.base', asNumber],
  ['HW_GPIO_DEBOUNCE_MS', 'gpio.debounceMs', asNumber],
  ['HW_GPIO_PUMP', 'gpio.pumpPin', asNumber],
  ['HW_GPIO_UV_LAMP', 'gpio.uvLampPin', asNumber],
  ['HW_GPIO_TANK_LOW_FLOAT', 'gpio.tankLowFloatPin', asNumber],
  ['HW_GPIO_TANK_HIGH_FLOAT', 'gpio.tankHighFloatPin', asNumber],
  ['HW_GPIO_DOOR', 'gpio.doorPin', asNumber],
  ['HW_GPIO_UV_FAULT', 'gpio.uvFaultPin', asNumber],
  ['HW_GPIO_SOURCE_LOW', 'gpio.sourceLowPin', asNumber],
  ['HW_GPIO_RELAYS_ACTIVE_LOW', 'gpio.relaysActiveLow', asBool],
  ['HW_GPIO_INPUTS_ACTIVE_LOW', 'gpio.inputsActiveLow', asBool],
  ['HW_MODBUS_TRANSPORT', 'modbus.transport', asString],
  ['HW_MODBUS_PATH', 'modbus.path', asString],
  ['HW_MODBUS_BAUD', 'modbus.baudRate', asNumber],
  ['HW_MODBUS_PARITY', 'modbus.parity', asString],
  ['HW_MODBUS_HOST', 'modbus.host', asString],
  ['HW_MODBUS_PORT', 'modbus.port', asNumber],
  ['HW_MODBUS_TIMEOUT_MS', 'modbus.timeoutMs', asNumber],
  ['HW_MODBUS_RETRIES', 'modbus.retries', asNumber],
  ['HW_MODBUS_POLL_MS', 'modbus.pollIntervalMs', asNumber],
  ['HW_SENSORS', 'sensors', (raw) => JSON.parse(raw) as unknown],
  ['HW_MODEM_PATH', 'modem.path', asString],
  ['HW_MODEM_BAUD', 'modem.baudRate', asNumber],
  ['HW_MODEM_POLL_MS', 'modem.pollIntervalMs', asNumber],
  ['HW_MODEM_TIMEOUT_MS', 'modem.commandTimeoutMs', asNumber],
  ['HW_TANK_LOW_PCT', 'rules.tankLowPct', asNumber],
  ['HW_PUMP_ON_BELOW_PCT', 'rules.pumpOnBelowPct', asNumber],
  ['HW_PUMP_OFF_ABOVE_PCT', 'rules.pumpOffAbovePct', asNumber],
  ['HW_UNKNOWN_QUALITY_BLOCKS', 'rules.unknownQualityBlocks', asBool],
  ['HW_TECHNICIAN_PHONES', 'alerts.technicianPhones', asList],
  ['HW_SMS_AFTER_OFFLINE_MS', 'alerts.smsAfterOfflineMs', asNumber],
  ['HW_SMS_MAX_PER_HOUR', 'alerts.smsMaxPerHour', asNumber],
  ['HW_SIM_TICK_MS', 'simulation.tickMs', asNumber],
  ['HW_SIM_SPEED', 'simulation.speed', asNumber],
  ['HW_READINGS_RETENTION_MS', 'readings.retentionMs', asNumber],
  ['HW_READINGS_MAX_ROWS', 'readings.maxRows', asNumber],
  ['HW_READINGS_BUCKET_MS', 'readings.bucketMs', asNumber],
  ['HW_READINGS_FLUSH_MS', 'readings.flushMs', asNumber],
  ['DEV_SMS_FD', 'simulation.smsFd', asNumber],
];

/**
 * Reads HW_* variables (unset or empty = default; simulation refused when NODE_ENV=production). HW_SENSORS is JSON merged per
 * sensor over the defaults: `{"turbidity":{"address":5}}` changes one field,
 * `{"free_chlorine":null}` removes a sensor, a new id must be complete.
 */
export function hardwareConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HardwareConfig {
  const input: Record<string, unknown> = {};
  for (const [name, path, parse] of HARDWARE_ENV) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    let value: unknown;
    try {
      value = parse(raw);
    } catch (error) {
      throw new HardwareError('INVALID_HARDWARE_CONFIG', `${name}: ${(error as Error).message}`);
    }
    setPath(input, path, path === 'sensors' ? mergeSensors(value, name) : value);
  }
  const config = resolveHardwareConfig(input);
  if (config.mode === 'simulated' && env.NODE_ENV === 'production') {
    throw new HardwareError('INVALID_HARDWARE_CONFIG', 'HW_MODE=simulated is refused in production');
  }
  if (config.simulation.smsFd !== undefined && config.mode !== 'simulated') {
    throw new HardwareError(
      'INVALID_HARDWARE_CONFIG',
      "DEV_SMS_FD copies the simulated modem's SMS: HW_MODE=simulated only",
    );
  }
  return config;
}

function mergeSensors(overrides: unknown, name: string): Record<string, unknown> {
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
    throw new HardwareError('INVALID_HARDWARE_CONFIG', `${name} must be a JSON object keyed by sensor id`);
  }
  const merged: Record<string, unknown> = { ...DEFAULT_SENSORS };
  for (const [id, override] of Object.entries(overrides)) {
    if (override === null) delete merged[id];
    else merged[id] = { ...(DEFAULT_SENSORS[id] ?? {}), ...(override as object) };
  }
  return merged;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node = (node[key] ??= {}) as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}
