import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import { adminRoutes } from './admin/routes.js';
import { limitAuthFailures, type AuthFailureLimits } from './http/auth-failures.js';
import { errorHandler } from './http/error-handler.js';
import { withWebhookSecret } from './http/webhook-secret.js';
import { ChangeFeed } from './kiosk-api/change-feed.js';
import { kioskApiRoutes } from './kiosk-api/routes.js';
import { KioskAuthenticator } from './kiosks/kiosks.js';
import { countNegativeBalances } from './ledger/ledger.js';
import { DEFAULT_TIME_ZONE } from '@tusafishe/protocol';
import { loggerOptions } from './logger.js';
import { CloudMetrics } from './metrics.js';
import { airtelMoneyProvider, type AirtelMoneyConfig } from './payments/airtel-money.js';
import { mtnMomoProvider, type MtnMomoConfig } from './payments/mtn-momo.js';
import { PaymentService } from './payments/payments.js';
import type { PaymentProvider, ProviderName } from './payments/provider.js';
import type { PurchaseLimits } from './payments/purchase.js';
import { paymentRoutes } from './payments/routes.js';
import {
  AIRTEL_SIMULATOR_CREDENTIALS,
  startAirtelMoneySimulator,
} from './payments/simulators/airtel-money-simulator.js';
import { MTN_SIMULATOR_CREDENTIALS, startMtnMomoSimulator } from './payments/simulators/mtn-momo-simulator.js';
import type { RunningSimulator } from './payments/simulators/simulated-payments.js';
import { startStatusPolling } from './payments/status-poller.js';
import type { Tariff } from './payments/tariff.js';
import { smsRoutes } from './sms/routes.js';
import {
  africasTalkingSmsSender,
  databaseSmsSender,
  type AfricasTalkingSmsConfig,
  type SmsSender,
} from './sms/sender.js';
import type { Db } from './store/db.js';
import { openCloudDatabase } from './store/open-database.js';
import { ussdRoutes } from './ussd/routes.js';

export interface CloudOptions {
  /** PostgreSQL server; when absent the cloud runs on embedded PGlite. */
  databaseUrl?: string;
  /** Schema on the server (tests give each file its own); default: the role's search_path. */
  databaseSchema?: string;
  /** Connections to the server. Default 10. */
  databasePoolSize?: number;
  /** PGlite data lives in `<dataDir>/cloud-pg`; with neither this nor databaseUrl the database is in memory. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Base URL providers call back on (behind a proxy: the public https URL). Default: the listening URL. */
  publicUrl?: string;
  /** Shared secret every webhook must carry (`?token=` or `X-Webhook-Secret`); unset only in development. */
  webhookSecret?: string;
  /** Bearer token for /admin routes; unset disables them. */
  adminToken?: string;
  /** Pino logger to use; `false` silences logging. Default: JSON logs at LOG_LEVEL or info. */
  logger?: FastifyBaseLogger | false;
  /** Default price of water (kiosks may have their own). Default UGX 50 per 20 L. */
  tariff?: Tariff;
  /** Smallest and largest purchase in whole currency units. Default 100–500,000. */
  purchase?: { minMajor: number; maxMajor: number };
  /** Shown in messages. Default *123#. */
  ussdCode?: string;
  /** IANA time zone of the fleet's day for daily usage; every kiosk of the fleet shares it. Default Africa/Nairobi. */
  usageTimeZone?: string;
  /** Bounds on what a gateway may claim (issue 10). */
  kioskClaims?: {
    /** Longest PIN lockout a gateway may set, from the cloud's now. Default 1 h. */
    maxLockoutMs?: number;
    /** Largest single dispense. Default 110 L (the protocol's 100 L request plus overrun). */
    maxDispenseMl?: number;
    /** A kiosk dispensing more in one usage day is flagged. Default 5,000 L. */
    dailyVolumeAlertMl?: number;
  };
  providers?: {
    mtn?: Omit<MtnMomoConfig, 'callbackUrl'>;
    airtel?: AirtelMoneyConfig;
    /** For numbers whose network the cloud cannot tell. */
    fallback?: ProviderName;
    /** How often pending payments are checked with the provider. Default 15 s; 0 disables (tests call pollPendingPayments). */
    statusPollIntervalMs?: number;
    /** Pending this long → expired. Default 1 h. */
    expireAfterMs?: number;
  };
  /** Start local MTN and Airtel simulators and use them as the providers (development, tests). */
  simulators?: {
    mtnPort?: number;
    airtelPort?: number;
    autoDecide?: 'approve' | 'decline';
    airtelCallbackHashKey?: string;
  };
  /** Africa's Talking credentials, or a ready sender; default: the development outbox in the database. */
  sms?: { africasTalking: AfricasTalkingSmsConfig } | { sender: SmsSender };
  /** Serve GET /dev/sms/outbox (development SMS adapter only). Default off. */
  devSmsOutbox?: boolean;
  /**
   * Addresses (IPs or CIDRs) of the reverse proxies in front of the cloud, whose
   * X-Forwarded-For is believed. Default none: the peer address is the client.
   */
  trustedProxies?: string[];
  /** Failed kiosk, admin and webhook authentications allowed per source address (each kind). Default 20 per 15 min. */
  authFailures?: AuthFailureLimits;
  /** Wrong old PINs on USSD lock the account like the keypad does (same `locked_until`). Default 5, 15 min. */
  pinLockout?: { maxFailures: number; lockoutMs: number };
  rateLimits?: {
    requestsPerPhonePerMinute?: number;
    requestsPerKioskPerMinute?: number;
    callbacksPerMinute?: number;
    requestsPerAddressPerMinute?: number;
  };
}

export interface RunningCloud {
  port: number;
  url: string;
  db: Db;
  app: FastifyInstance;
  payments: PaymentService;
  /** Present when started with `simulators`. */
  simulators: { mtn: RunningSimulator; airtel: RunningSimulator } | undefined;
  close(): Promise<void>;
}

const DEFAULT_TARIFF: Tariff = { currency: 'UGX', priceMinor: 50, volumeMl: 20_000 };

function makeLogger(option: CloudOptions['logger']): FastifyBaseLogger {
  if (option === false) return pino({ level: 'silent' });
  return option ?? pino(loggerOptions(process.env['LOG_LEVEL'] ?? 'info'));
}

/** Starts the cloud: database (migrated), HTTP API, background jobs. Startable many times in one process. */
export async function startCloud(options: CloudOptions = {}): Promise<RunningCloud> {
  const log = makeLogger(options.logger);
  const db = await openCloudDatabase(options);
  const feed = await ChangeFeed.open(db);
  const metrics = new CloudMetrics(() => countNegativeBalances(db));
  const tariff = options.tariff ?? DEFAULT_TARIFF;
  const limits: PurchaseLimits = {
    currency: tariff.currency,
    minMajor: options.purchase?.minMajor ?? 100,
    maxMajor: options.purchase?.maxMajor ?? 500_000,
  };
  const ussdCode = options.ussdCode ?? '*123#';
  const rate = {
    requestsPerPhonePerMinute: 60,
    requestsPerKioskPerMinute: 600,
    callbacksPerMinute: 600,
    requestsPerAddressPerMinute: 1200,
    ...options.rateLimits,
  };
  const sms =
    options.sms && 'sender' in options.sms
      ? options.sms.sender
      : options.sms
        ? africasTalkingSmsSender(options.sms.africasTalking, log)
        : databaseSmsSender(db);
  // Filled once the port (and so the callback URL) is known.
  const providers: Partial<Record<ProviderName, PaymentProvider>> = {};
  const payments = new PaymentService({
    db,
    providers,
    ...(options.providers?.fallback ? { fallbackProvider: options.providers.fallback } : {}),
    defaultTariff: tariff,
    sms,
    metrics,
    log,
    expireAfterMs: options.providers?.expireAfterMs ?? 3_600_000,
  });

  // On close, cut every connection: a gateway's keep-alive socket that turns idle after its
  // long-poll was answered would otherwise hold the server open for the keep-alive timeout.
  // Gateways retry, and every kiosk call is idempotent.
  const trustProxy = options.trustedProxies?.length ? options.trustedProxies : false;
  const app = Fastify({ loggerInstance: log, trustProxy, forceCloseConnections: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  limitAuthFailures(app, options.authFailures ?? { max: 20, windowMs: 15 * 60_000 });
  await app.register(formbody);
  // Every route is limited: by source address unless the route keys it by phone or kiosk.
  await app.register(rateLimit, {
    global: true,
    max: rate.requestsPerAddressPerMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get('/health', async () => {
    await db.query('SELECT 1');
    return { status: 'ok', database: db.kind };
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  const webhookSecret = options.webhookSecret;
  await kioskApiRoutes(app, {
    db,
    feed,
    authenticator: new KioskAuthenticator(db),
    metrics,
    requestsPerKioskPerMinute: rate.requestsPerKioskPerMinute,
    claims: {
      usageTimeZone: options.usageTimeZone ?? DEFAULT_TIME_ZONE,
      maxLockoutMs: options.kioskClaims?.maxLockoutMs ?? 3_600_000,
      maxDispenseMl: options.kioskClaims?.maxDispenseMl ?? 110_000,
    },
    dailyVolumeAlertMl: options.kioskClaims?.dailyVolumeAlertMl ?? 5_000_000,
  });
  await ussdRoutes(app, {
    db,
    payments,
    limits,
    metrics,
    webhookSecret,
    requestsPerPhonePerMinute: rate.requestsPerPhonePerMinute,
    pinLockout: options.pinLockout ?? { maxFailures: 5, lockoutMs: 15 * 60_000 },
  });
  await smsRoutes(app, {
    db,
    sender: sms,
    payments,
    limits,
    metrics,
    webhookSecret,
    requestsPerPhonePerMinute: rate.requestsPerPhonePerMinute,
    ussdCode,
    exposeOutbox: options.devSmsOutbox === true && !options.sms,
  });
  await paymentRoutes(app, {
    payments,
    webhookSecret,
    airtelCallbackHashKey: options.providers?.airtel?.callbackHashKey ?? options.simulators?.airtelCallbackHashKey,
    callbacksPerMinute: rate.callbacksPerMinute,
  });
  await adminRoutes(app, { db, adminToken: options.adminToken });

  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 3000 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 3000);
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const publicUrl = (options.publicUrl ?? url).replace(/\/$/, '');

  let simulators: RunningCloud['simulators'];
  let mtnConfig = options.providers?.mtn;
  let airtelConfig = options.providers?.airtel;
  if (options.simulators) {
    const decide = options.simulators.autoDecide ? { autoDecide: options.simulators.autoDecide } : {};
    const mtn = await startMtnMomoSimulator({ host: '127.0.0.1', port: options.simulators.mtnPort ?? 0, ...decide });
    const hashKey = options.simulators.airtelCallbackHashKey;
    const airtel = await startAirtelMoneySimulator({
      host: '127.0.0.1',
      port: options.simulators.airtelPort ?? 0,
      ...decide,
      ...(hashKey ? { callbackHashKey: hashKey } : {}),
    });
    airtel.setCallbackUrl(withWebhookSecret(`${publicUrl}/payments/airtel/callback`, webhookSecret));
    simulators = { mtn, airtel };
    mtnConfig ??= { baseUrl: mtn.url, targetEnvironment: 'sandbox', ...MTN_SIMULATOR_CREDENTIALS };
    airtelConfig ??= {
      baseUrl: airtel.url,
      country: 'UG',
      currency: tariff.currency,
      ...AIRTEL_SIMULATOR_CREDENTIALS,
      ...(hashKey ? { callbackHashKey: hashKey } : {}),
    };
  }
  if (mtnConfig)
    providers.mtn = mtnMomoProvider({
      ...mtnConfig,
      callbackUrl: withWebhookSecret(`${publicUrl}/payments/mtn/callback`, webhookSecret),
    });
  if (airtelConfig) providers.airtel = airtelMoneyProvider(airtelConfig);
  const pollMs = options.providers?.statusPollIntervalMs ?? 15_000;
  const stopPolling = pollMs > 0 ? startStatusPolling(payments, pollMs, log) : () => undefined;

  return {
    port,
    url,
    db,
    app,
    payments,
    simulators,
    async close() {
      stopPolling();
      await feed.close();
      await app.close();
      await Promise.all([simulators?.mtn.close(), simulators?.airtel.close()]);
      await db.close();
    },
  };
}
