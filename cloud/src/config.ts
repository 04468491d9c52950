import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import * as z from 'zod';
import { DEFAULT_TIME_ZONE, isTimeZone, TIME_ZONE_HINT } from '@tusafishe/protocol';
import type { CloudOptions } from './cloud.js';
import { MOMO_ENVIRONMENTS } from './payments/mtn-momo.js';
import { PROVIDER_NAMES } from './payments/provider.js';
import type { Tariff } from './payments/tariff.js';

const optional = z.string().min(1).optional();
const secret = z.string().min(16, 'use at least 16 characters').optional();
const currency = z.string().regex(/^[A-Z]{3}$/);
/** `KES:500:20000,TZS:…`: currency, price in minor units, millilitres. */
const TariffList = z
  .string()
  .regex(/^([A-Z]{3}:\d+:\d+)(,[A-Z]{3}:\d+:\d+)*$|^$/, 'CURRENCY:PRICE_MINOR:VOLUME_ML, comma separated')
  .transform((text): Tariff[] =>
    text
      .split(',')
      .filter(Boolean)
      .map((item) => {
        const [code = '', price, volume] = item.split(':');
        return { currency: code, priceMinor: Number(price), volumeMl: Number(volume) };
      }),
  )
  .refine((tariffs) => tariffs.every((t) => t.priceMinor > 0 && t.volumeMl > 0), 'price and volume must be positive');
const positiveInt = z.coerce.number().int().positive();
/** `a, b,c` → `['a', 'b', 'c']` (empty by default), each entry passing `valid`. */
const commaList = (valid: (entry: string) => boolean, message: string) =>
  z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((list) => list.every(valid), message);

/** Every setting the cloud process reads from its environment. */
export const CloudEnv = z
  .object({
    // Production unless asked: `npm start` sets development explicitly.
    NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
    CLOUD_HOST: z.string().default('127.0.0.1'),
    CLOUD_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    PUBLIC_URL: z.url().optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    DATA_DIR: z.string().default('./data'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    WEBHOOK_SECRET: secret,
    AT_WEBHOOK_SECRET: secret,
    MTN_WEBHOOK_SECRET: secret,
    AIRTEL_WEBHOOK_SECRET: secret,
    MPESA_WEBHOOK_SECRET: secret,
    CONSOLE_CORRECTION_CAP_ML: positiveInt.default(20_000),
    CONSOLE_DIST_DIR: z
      .string()
      .min(1)
      .default(resolve(import.meta.dirname, '../../ui/console/dist')),
    USSD_CODE: z.string().default('*123#'),
    USAGE_TIMEZONE: z.string().refine(isTimeZone, TIME_ZONE_HINT).default(DEFAULT_TIME_ZONE),
    TARIFF_CURRENCY: currency.default('UGX'),
    TARIFF_PRICE_MINOR: positiveInt.default(50),
    TARIFF_VOLUME_ML: positiveInt.default(20_000),
    OTHER_TARIFFS: TariffList.default([{ currency: 'KES', priceMinor: 500, volumeMl: 20_000 }]),
    PURCHASE_MIN: positiveInt.default(100),
    PURCHASE_MAX: positiveInt.default(500_000),
    AT_USERNAME: optional,
    AT_API_KEY: optional,
    AT_SENDER_ID: optional,
    MTN_BASE_URL: z.url().optional(),
    MTN_SUBSCRIPTION_KEY: optional,
    MTN_API_USER: optional,
    MTN_API_KEY: optional,
    MTN_TARGET_ENVIRONMENT: z
      .string()
      .regex(/^[a-z]{3,40}$/)
      .optional(),
    MTN_CURRENCY: currency.optional(),
    AIRTEL_BASE_URL: z.url().optional(),
    AIRTEL_CLIENT_ID: optional,
    AIRTEL_CLIENT_SECRET: optional,
    AIRTEL_COUNTRY: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .default('UG'),
    AIRTEL_CURRENCY: currency.optional(),
    AIRTEL_CALLBACK_HASH_KEY: optional,
    MPESA_BASE_URL: z.url().optional(),
    MPESA_CONSUMER_KEY: optional,
    MPESA_CONSUMER_SECRET: optional,
    MPESA_SHORTCODE: z
      .string()
      .regex(/^\d{5,7}$/)
      .optional(),
    MPESA_PASSKEY: optional,
    PAYMENT_TIMEOUT_MS: positiveInt.default(15_000),
    PAYMENT_EXPIRE_AFTER_MS: positiveInt.default(3_600_000),
    PAYMENT_NOT_FOUND_ATTEMPTS: positiveInt.default(5),
    PAYMENT_NOT_FOUND_WINDOW_MS: z.coerce.number().int().min(0).default(600_000),
    PAYMENT_FALLBACK_PROVIDER: z.enum(PROVIDER_NAMES).optional(),
    PAYMENT_POLL_INTERVAL_MS: z.coerce.number().int().min(0).default(15_000),
    PAYMENT_SIMULATORS: z.enum(['on', 'off', 'auto']).default('auto'),
    MTN_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(3101),
    AIRTEL_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(3102),
    MPESA_SIMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(3103),
    MAX_LOCKOUT_MINUTES: positiveInt.default(60),
    MAX_DISPENSE_ML: positiveInt.default(110_000),
    KIOSK_DAILY_VOLUME_ALERT_ML: positiveInt.default(5_000_000),
    // How often changes are published to long-polling kiosks (the most it adds to a change's way).
    CHANGE_FEED_LINGER_MS: z.coerce.number().int().min(0).max(10_000).default(500),
    TRUST_PROXY: commaList((entry) => isIP(entry.split('/')[0]!) !== 0, 'comma-separated IPs or CIDRs'),
    AUTH_FAILURES_PER_15_MIN: positiveInt.default(20),
    PIN_MAX_FAILURES: positiveInt.default(5),
    PIN_LOCKOUT_MINUTES: positiveInt.default(15),
    RATE_LIMIT_PER_PHONE: positiveInt.default(60),
    RATE_LIMIT_PER_KIOSK: positiveInt.default(600),
    KIOSK_OFFLINE_AFTER_S: positiveInt.default(600),
    DISPENSER_OFFLINE_AFTER_S: positiveInt.default(600),
    NEGATIVE_BALANCE_ALERT_ML: z.coerce.number().int().min(0).default(20_000),
    PAYMENT_PENDING_ALERT_MINUTES: positiveInt.default(60),
    VOLUME_ANOMALY_FACTOR: z.coerce.number().min(1).default(3),
    VOLUME_ANOMALY_MIN_ML: z.coerce.number().int().min(0).default(500_000),
    ALERT_RULES_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
    ONCALL_PHONES: commaList((phone) => /^\+[1-9][0-9]{6,14}$/.test(phone), 'comma-separated E.164 numbers'),
    FIRMWARE_PUBLIC_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'a raw Ed25519 public key, base64')
      .optional(),
    DEMO_SEED: z.enum(['on', 'off']).default('off'),
    DEMO_KIOSK_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,32}$/)
      .default('K1'),
    DEMO_KIOSK_SECRET: z.string().min(8).default('dev-kiosk-secret'),
    // `npm start` reads the development SMS adapter's messages here (a pipe) and prints them.
    DEV_SMS_FD: z.coerce.number().int().min(3).optional(),
  })
  .superRefine((env, ctx) => {
    const groups: [string, (keyof typeof env)[]][] = [
      ["Africa's Talking", ['AT_USERNAME', 'AT_API_KEY']],
      ['MTN MoMo', ['MTN_BASE_URL', 'MTN_SUBSCRIPTION_KEY', 'MTN_API_USER', 'MTN_API_KEY', 'MTN_TARGET_ENVIRONMENT']],
      ['Airtel Money', ['AIRTEL_BASE_URL', 'AIRTEL_CLIENT_ID', 'AIRTEL_CLIENT_SECRET']],
      ['M-Pesa', ['MPESA_BASE_URL', 'MPESA_CONSUMER_KEY', 'MPESA_CONSUMER_SECRET', 'MPESA_SHORTCODE', 'MPESA_PASSKEY']],
    ];
    for (const [name, keys] of groups) {
      const set = keys.filter((key) => env[key] !== undefined);
      if (set.length > 0 && set.length < keys.length) {
        ctx.addIssue({
          code: 'custom',
          path: [keys.find((key) => env[key] === undefined)!],
          message: `${name} needs all of ${keys.join(', ')}`,
        });
      }
    }
    const environment = env.MTN_TARGET_ENVIRONMENT ? MOMO_ENVIRONMENTS[env.MTN_TARGET_ENVIRONMENT] : undefined;
    if (env.MTN_BASE_URL && !environment && !env.MTN_CURRENCY)
      ctx.addIssue({ code: 'custom', path: ['MTN_CURRENCY'], message: 'required for this MoMo target environment' });
    if (environment && env.MTN_CURRENCY && env.MTN_CURRENCY !== environment.currency)
      ctx.addIssue({
        code: 'custom',
        path: ['MTN_CURRENCY'],
        message: `MoMo ${env.MTN_TARGET_ENVIRONMENT} collects in ${environment.currency} only`,
      });
    if (env.NODE_ENV === 'production') {
      // Every webhook must be authenticated, each provider with its own secret or the shared one.
      const needs: [keyof typeof env, boolean][] = [
        ['AT_WEBHOOK_SECRET', true],
        ['MTN_WEBHOOK_SECRET', Boolean(env.MTN_BASE_URL)],
        ['AIRTEL_WEBHOOK_SECRET', Boolean(env.AIRTEL_BASE_URL && !env.AIRTEL_CALLBACK_HASH_KEY)],
        ['MPESA_WEBHOOK_SECRET', Boolean(env.MPESA_BASE_URL)],
      ];
      for (const [key, needed] of needs) {
        if (needed && !env[key] && !env.WEBHOOK_SECRET)
          ctx.addIssue({
            code: 'custom',
            path: [env.WEBHOOK_SECRET ? key : 'WEBHOOK_SECRET'],
            message: `required in production (or ${key}): webhooks must be authenticated`,
          });
      }
      if (env.MTN_TARGET_ENVIRONMENT === 'sandbox')
        ctx.addIssue({
          code: 'custom',
          path: ['MTN_TARGET_ENVIRONMENT'],
          message: 'the MoMo sandbox is not for production',
        });
      if (env.PAYMENT_SIMULATORS === 'on')
        ctx.addIssue({ code: 'custom', path: ['PAYMENT_SIMULATORS'], message: 'simulators cannot run in production' });
      if (env.DEMO_SEED === 'on')
        ctx.addIssue({ code: 'custom', path: ['DEMO_SEED'], message: 'demo data cannot be seeded in production' });
      // A message may carry a PIN-reset code or a keypad token.
      if (env.DEV_SMS_FD !== undefined)
        ctx.addIssue({ code: 'custom', path: ['DEV_SMS_FD'], message: 'SMS texts are never copied out in production' });
    }
    if (env.DEV_SMS_FD !== undefined && env.AT_USERNAME !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['DEV_SMS_FD'],
        message: "only the development SMS adapter copies its messages out, not Africa's Talking",
      });
  });
export type CloudEnv = z.infer<typeof CloudEnv>;

/**
 * Docker/Compose secrets: `NAME_FILE=/run/secrets/…` stands for `NAME` with the file's content
 * (trailing newline dropped), for every setting; `NAME` and `NAME_FILE` together are refused.
 */
export function readSecretFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const resolved = { ...env };
  for (const key of Object.keys(CloudEnv.shape)) {
    const file = env[`${key}_FILE`];
    if (!file) continue;
    if (env[key] !== undefined) throw new Error(`set ${key} or ${key}_FILE, not both`);
    resolved[key] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  }
  return resolved;
}

/** Turns the validated environment into startCloud options. */
export function cloudOptionsFromEnv(env: CloudEnv): CloudOptions {
  const mtn =
    env.MTN_BASE_URL && env.MTN_SUBSCRIPTION_KEY && env.MTN_API_USER && env.MTN_API_KEY
      ? {
          baseUrl: env.MTN_BASE_URL,
          subscriptionKey: env.MTN_SUBSCRIPTION_KEY,
          apiUser: env.MTN_API_USER,
          apiKey: env.MTN_API_KEY,
          targetEnvironment: env.MTN_TARGET_ENVIRONMENT!,
          currency: env.MTN_CURRENCY ?? MOMO_ENVIRONMENTS[env.MTN_TARGET_ENVIRONMENT!]!.currency,
        }
      : undefined;
  const airtel =
    env.AIRTEL_BASE_URL && env.AIRTEL_CLIENT_ID && env.AIRTEL_CLIENT_SECRET
      ? {
          baseUrl: env.AIRTEL_BASE_URL,
          clientId: env.AIRTEL_CLIENT_ID,
          clientSecret: env.AIRTEL_CLIENT_SECRET,
          country: env.AIRTEL_COUNTRY,
          currency: env.AIRTEL_CURRENCY ?? env.TARIFF_CURRENCY,
          ...(env.AIRTEL_CALLBACK_HASH_KEY ? { callbackHashKey: env.AIRTEL_CALLBACK_HASH_KEY } : {}),
        }
      : undefined;
  const mpesa =
    env.MPESA_BASE_URL &&
    env.MPESA_CONSUMER_KEY &&
    env.MPESA_CONSUMER_SECRET &&
    env.MPESA_SHORTCODE &&
    env.MPESA_PASSKEY
      ? {
          baseUrl: env.MPESA_BASE_URL,
          consumerKey: env.MPESA_CONSUMER_KEY,
          consumerSecret: env.MPESA_CONSUMER_SECRET,
          shortcode: env.MPESA_SHORTCODE,
          passkey: env.MPESA_PASSKEY,
        }
      : undefined;
  const simulate =
    env.PAYMENT_SIMULATORS === 'on' ||
    (env.PAYMENT_SIMULATORS === 'auto' && env.NODE_ENV !== 'production' && !mtn && !airtel && !mpesa);
  const webhookSecrets = {
    ...(env.AT_WEBHOOK_SECRET ? { africasTalking: env.AT_WEBHOOK_SECRET } : {}),
    ...(env.MTN_WEBHOOK_SECRET ? { mtn: env.MTN_WEBHOOK_SECRET } : {}),
    ...(env.AIRTEL_WEBHOOK_SECRET ? { airtel: env.AIRTEL_WEBHOOK_SECRET } : {}),
    ...(env.MPESA_WEBHOOK_SECRET ? { mpesa: env.MPESA_WEBHOOK_SECRET } : {}),
  };
  return {
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : { dataDir: env.DATA_DIR }),
    host: env.CLOUD_HOST,
    port: env.CLOUD_PORT,
    ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
    ...(env.WEBHOOK_SECRET ? { webhookSecret: env.WEBHOOK_SECRET } : {}),
    webhookSecrets,
    // Behind HTTPS (PUBLIC_URL https://…) the console's session cookie is `Secure`.
    console: {
      distDir: env.CONSOLE_DIST_DIR,
      secureCookie: env.PUBLIC_URL?.startsWith('https://') ?? false,
      correctionCapMl: env.CONSOLE_CORRECTION_CAP_ML,
    },
    tariff: { currency: env.TARIFF_CURRENCY, priceMinor: env.TARIFF_PRICE_MINOR, volumeMl: env.TARIFF_VOLUME_ML },
    otherTariffs: env.OTHER_TARIFFS,
    purchase: { minMajor: env.PURCHASE_MIN, maxMajor: env.PURCHASE_MAX },
    ussdCode: env.USSD_CODE,
    usageTimeZone: env.USAGE_TIMEZONE,
    kioskClaims: {
      maxLockoutMs: env.MAX_LOCKOUT_MINUTES * 60_000,
      maxDispenseMl: env.MAX_DISPENSE_ML,
      dailyVolumeAlertMl: env.KIOSK_DAILY_VOLUME_ALERT_ML,
    },
    providers: {
      ...(mtn ? { mtn } : {}),
      ...(airtel ? { airtel } : {}),
      ...(mpesa ? { mpesa } : {}),
      ...(env.PAYMENT_FALLBACK_PROVIDER ? { fallback: env.PAYMENT_FALLBACK_PROVIDER } : {}),
      statusPollIntervalMs: env.PAYMENT_POLL_INTERVAL_MS,
      timeoutMs: env.PAYMENT_TIMEOUT_MS,
      timing: {
        expireAfterMs: env.PAYMENT_EXPIRE_AFTER_MS,
        notFoundAttempts: env.PAYMENT_NOT_FOUND_ATTEMPTS,
        notFoundWindowMs: env.PAYMENT_NOT_FOUND_WINDOW_MS,
      },
    },
    ...(simulate
      ? {
          simulators: {
            mtnPort: env.MTN_SIMULATOR_PORT,
            airtelPort: env.AIRTEL_SIMULATOR_PORT,
            mpesaPort: env.MPESA_SIMULATOR_PORT,
          },
        }
      : {}),
    ...(env.AT_USERNAME && env.AT_API_KEY
      ? {
          sms: {
            africasTalking: {
              username: env.AT_USERNAME,
              apiKey: env.AT_API_KEY,
              ...(env.AT_SENDER_ID ? { from: env.AT_SENDER_ID } : {}),
            },
          },
        }
      : {}),
    devSmsOutbox: env.NODE_ENV === 'development',
    ...(env.TRUST_PROXY.length > 0 ? { trustedProxies: env.TRUST_PROXY } : {}),
    authFailures: { max: env.AUTH_FAILURES_PER_15_MIN, windowMs: 15 * 60_000 },
    pinLockout: { maxFailures: env.PIN_MAX_FAILURES, lockoutMs: env.PIN_LOCKOUT_MINUTES * 60_000 },
    changeFeed: { lingerMs: env.CHANGE_FEED_LINGER_MS },
    rateLimits: {
      requestsPerPhonePerMinute: env.RATE_LIMIT_PER_PHONE,
      requestsPerKioskPerMinute: env.RATE_LIMIT_PER_KIOSK,
    },
    fleet: {
      kioskOfflineAfterMs: env.KIOSK_OFFLINE_AFTER_S * 1000,
      dispenserOfflineAfterMs: env.DISPENSER_OFFLINE_AFTER_S * 1000,
      negativeBalanceAlertMl: env.NEGATIVE_BALANCE_ALERT_ML,
      paymentPendingAlertMs: env.PAYMENT_PENDING_ALERT_MINUTES * 60_000,
      volumeAnomalyFactor: env.VOLUME_ANOMALY_FACTOR,
      volumeAnomalyMinMl: env.VOLUME_ANOMALY_MIN_ML,
      rulesIntervalMs: env.ALERT_RULES_INTERVAL_MS,
      onCallPhones: env.ONCALL_PHONES,
      ...(env.FIRMWARE_PUBLIC_KEY ? { firmwarePublicKey: env.FIRMWARE_PUBLIC_KEY } : {}),
    },
  };
}
