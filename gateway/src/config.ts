import * as z from 'zod';
import type { Settings } from './settings.js';

const port = z.coerce.number().int().min(0).max(65_535);
const optionalInt = z.coerce.number().int().min(0).optional();

/** Environment of the gateway process (balena device variables in the field). */
export const GatewayEnv = z.object({
  DATA_DIR: z.string().min(1).default('./data'),
  KIOSK_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ or -, at most 32')
    .default('K1'),
  GATEWAY_HOST: z.string().min(1).default('0.0.0.0'),
  GATEWAY_MQTT_PORT: port.default(1883),
  GATEWAY_HTTP_PORT: port.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  TIMEZONE: z.string().optional(),
  PHONE_REGION: z.string().optional(),
  PIN_MAX_FAILURES: optionalInt,
  PIN_LOCKOUT_MINUTES: optionalInt,
  OFFLINE_AFTER_MINUTES: optionalInt,
  /** Overrides OFFLINE_AFTER_MINUTES, for tests that cannot wait minutes. */
  OFFLINE_AFTER_S: optionalInt,
  OFFLINE_DAILY_LIMIT_ML: optionalInt,
  HOLD_MIN_FLOW_ML_PER_S: optionalInt,
  HOLD_MARGIN_S: optionalInt,
  HTTP_RATE_LIMIT_PER_MINUTE: optionalInt,
  DEFAULT_PULSES_PER_LITRE: optionalInt,
});
export type GatewayEnv = z.infer<typeof GatewayEnv>;

export interface GatewayConfig {
  dataDir: string;
  kioskId: string;
  host: string;
  mqttPort: number;
  httpPort: number;
  logLevel: GatewayEnv['LOG_LEVEL'];
  seedDemo: boolean;
  settings: Partial<Settings>;
}

const minutes = (value: number | undefined) => (value === undefined ? undefined : value * 60_000);
const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);

/** Reads and validates the environment; throws a ZodError naming each bad variable. */
export function readConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const e = GatewayEnv.parse(env);
  const settings = Object.fromEntries(
    Object.entries({
      timezone: e.TIMEZONE,
      phoneRegion: e.PHONE_REGION,
      pinMaxFailures: e.PIN_MAX_FAILURES,
      pinLockoutMs: minutes(e.PIN_LOCKOUT_MINUTES),
      offlineAfterMs: seconds(e.OFFLINE_AFTER_S) ?? minutes(e.OFFLINE_AFTER_MINUTES),
      offlineDailyLimitMl: e.OFFLINE_DAILY_LIMIT_ML,
      holdMinFlowMlPerS: e.HOLD_MIN_FLOW_ML_PER_S,
      holdMarginMs: seconds(e.HOLD_MARGIN_S),
      httpRateLimitPerMinute: e.HTTP_RATE_LIMIT_PER_MINUTE,
      defaultPulsesPerLitre: e.DEFAULT_PULSES_PER_LITRE,
    }).filter(([, value]) => value !== undefined),
  ) as Partial<Settings>;
  return {
    dataDir: e.DATA_DIR,
    kioskId: e.KIOSK_ID,
    host: e.GATEWAY_HOST,
    mqttPort: e.GATEWAY_MQTT_PORT,
    httpPort: e.GATEWAY_HTTP_PORT,
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO,
    settings,
  };
}
