import * as z from 'zod';
import type { LegacyVerificationAccess } from './http/dispense-verification.js';
import {
  type ConnectionSettings,
  DISPENSER_NETWORK,
  kioskConnections,
  listenAddress,
  PUBLIC_NETWORK,
} from './network/kiosk-networks.js';
import { DEMO_TECHNICIAN } from './seed/demo-data.js';
import type { Settings } from './settings.js';

const port = z.coerce.number().int().min(0).max(65_535);
const optionalInt = z.coerce.number().int().min(0).optional();

/** Environment of the gateway process (balena device variables in the field). */
const GatewayEnv = z
  .object({
    DATA_DIR: z.string().min(1).default('./data'),
    KIOSK_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ or -, at most 32')
      .default('K1'),
    GATEWAY_HOST: z.string().min(1).default('0.0.0.0'),
    /** The dispensers' network address for MQTT (default: their access point's, else GATEWAY_HOST). */
    GATEWAY_MQTT_HOST: z.string().min(1).optional(),
    /** The people's network address for HTTP: UI and legacy endpoint (default: their access point's, else GATEWAY_HOST). */
    GATEWAY_HTTP_HOST: z.string().min(1).optional(),
    /** NetworkManager's bus; balena's `io.balena.features.dbus` mounts the host's at /host/run/dbus. */
    DBUS_SYSTEM_BUS_ADDRESS: z.string().min(1).default('unix:path=/var/run/dbus/system_bus_socket'),
    /** Directory with kiosk.crt and kiosk.key (`npm run provision -- kiosk certificate`): HTTPS and MQTT over TLS. */
    GATEWAY_TLS_DIR: z.string().min(1).optional(),
    GATEWAY_MQTTS_PORT: port.default(8883),
    GATEWAY_MQTT_PORT: port.default(1883),
    GATEWAY_HTTP_PORT: port.default(8080),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Opt-in: `npm start` turns it on; production refuses it. */
    SEED_DEMO: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    TECHNICIAN_PASSWORD: z.string().optional(),
    TIMEZONE: z.string().optional(),
    PHONE_REGION: z.string().optional(),
    PIN_MAX_FAILURES: optionalInt,
    PIN_LOCKOUT_MINUTES: optionalInt,
    OFFLINE_AFTER_MINUTES: optionalInt,
    /** Overrides OFFLINE_AFTER_MINUTES, for tests that cannot wait minutes. */
    OFFLINE_AFTER_S: optionalInt,
    OFFLINE_DAILY_LIMIT_ML: optionalInt,
    FOLLOW_BALANCES: z.enum(['own', 'all']).optional(),
    FOLLOW_CUSTOMERS_DAYS: optionalInt,
    CUSTOMER_LOOKUP_TIMEOUT_MS: optionalInt,
    HOLD_MIN_FLOW_ML_PER_S: optionalInt,
    HOLD_MARGIN_S: optionalInt,
    HTTP_RATE_LIMIT_PER_MINUTE: optionalInt,
    DEFAULT_PULSES_PER_LITRE: optionalInt,
    OVER_DELIVERY_TOLERANCE_ML: optionalInt,
    REFUSED_COMPLETIONS_PER_DISPENSER: optionalInt,
    /** Serve the legacy `POST /dispense-verification` to anyone (the demo; refused in production). */
    LEGACY_VERIFICATION_OPEN: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** Comma-separated client addresses allowed to call the legacy endpoint. */
    LEGACY_VERIFICATION_ALLOW: z
      .string()
      .optional()
      .transform((v) =>
        (v ?? '')
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean),
      ),
    /** A secret the legacy clients send as `Authorization: Bearer <secret>`. */
    LEGACY_VERIFICATION_SECRET: z.string().min(16, 'at least 16 characters').optional(),
    /** `production` (the gateway image sets it) refuses everything demo-only. */
    NODE_ENV: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (env.SEED_DEMO)
      ctx.addIssue({ code: 'custom', path: ['SEED_DEMO'], message: 'demo data cannot be seeded in production' });
    if (env.TECHNICIAN_PASSWORD === DEMO_TECHNICIAN.password)
      ctx.addIssue({
        code: 'custom',
        path: ['TECHNICIAN_PASSWORD'],
        message: 'the demo technician password cannot be used in production',
      });
  });
type GatewayEnv = z.infer<typeof GatewayEnv>;

export interface GatewayConfig {
  dataDir: string;
  kioskId: string;
  host: string;
  mqttHost: string;
  httpHost: string;
  /** The kiosk's WiFi access points and 4G link, when NET_DISPENSER_SSID configures them; else undefined. */
  networks: { connections: ConnectionSettings[]; busAddress: string } | undefined;
  /** The kiosk certificate's directory and the MQTT over TLS port, when TLS is on. */
  tls: { dir: string; mqttsPort: number } | undefined;
  mqttPort: number;
  httpPort: number;
  logLevel: GatewayEnv['LOG_LEVEL'];
  seedDemo: boolean;
  settings: Partial<Settings>;
  /** Who may call `POST /dispense-verification`; undefined: nobody (not served). */
  legacyVerification: LegacyVerificationAccess | undefined;
}

const minutes = (value: number | undefined) => (value === undefined ? undefined : value * 60_000);
const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);

function legacyAccess(e: GatewayEnv): LegacyVerificationAccess | undefined {
  if (e.LEGACY_VERIFICATION_OPEN && e.NODE_ENV === 'production') {
    throw new z.ZodError([
      {
        code: 'custom',
        path: ['LEGACY_VERIFICATION_OPEN'],
        message: 'refused in production: set LEGACY_VERIFICATION_ALLOW or LEGACY_VERIFICATION_SECRET',
        input: 'true',
      },
    ]);
  }
  if (e.LEGACY_VERIFICATION_OPEN) return { open: true };
  if (e.LEGACY_VERIFICATION_ALLOW.length === 0 && !e.LEGACY_VERIFICATION_SECRET) return undefined;
  return {
    allow: e.LEGACY_VERIFICATION_ALLOW,
    ...(e.LEGACY_VERIFICATION_SECRET ? { secret: e.LEGACY_VERIFICATION_SECRET } : {}),
  };
}

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
      followBalances: e.FOLLOW_BALANCES,
      followCustomersMs: e.FOLLOW_CUSTOMERS_DAYS === undefined ? undefined : e.FOLLOW_CUSTOMERS_DAYS * 86_400_000,
      customerLookupTimeoutMs: e.CUSTOMER_LOOKUP_TIMEOUT_MS,
      holdMinFlowMlPerS: e.HOLD_MIN_FLOW_ML_PER_S,
      holdMarginMs: seconds(e.HOLD_MARGIN_S),
      httpRateLimitPerMinute: e.HTTP_RATE_LIMIT_PER_MINUTE,
      defaultPulsesPerLitre: e.DEFAULT_PULSES_PER_LITRE,
      overDeliveryToleranceMl: e.OVER_DELIVERY_TOLERANCE_ML,
      refusedCompletionsPerDispenser: e.REFUSED_COMPLETIONS_PER_DISPENSER,
    }).filter(([, value]) => value !== undefined),
  ) as Partial<Settings>;
  // Only a kiosk whose device variables name the dispensers' WiFi manages networks: never a dev machine.
  const connections = env['NET_DISPENSER_SSID'] ? kioskConnections(env) : undefined;
  const address = (id: string) => {
    const connection = connections?.find((c) => c['connection']?.['id'] === id);
    return connection ? listenAddress(connection) : undefined;
  };
  return {
    legacyVerification: legacyAccess(e),
    dataDir: e.DATA_DIR,
    kioskId: e.KIOSK_ID,
    host: e.GATEWAY_HOST,
    mqttHost: e.GATEWAY_MQTT_HOST ?? address(DISPENSER_NETWORK) ?? e.GATEWAY_HOST,
    httpHost: e.GATEWAY_HTTP_HOST ?? address(PUBLIC_NETWORK) ?? e.GATEWAY_HOST,
    networks: connections ? { connections, busAddress: e.DBUS_SYSTEM_BUS_ADDRESS } : undefined,
    tls: e.GATEWAY_TLS_DIR ? { dir: e.GATEWAY_TLS_DIR, mqttsPort: e.GATEWAY_MQTTS_PORT } : undefined,
    mqttPort: e.GATEWAY_MQTT_PORT,
    httpPort: e.GATEWAY_HTTP_PORT,
    logLevel: e.LOG_LEVEL,
    seedDemo: e.SEED_DEMO,
    settings,
  };
}
