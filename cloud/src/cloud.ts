import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import { setAnalyticsTimeZone } from './analytics/rollups.js';
import { consoleApi } from './console/console-api.js';
import { consoleApp } from './console/console-app.js';
import { limitAuthFailures, type AuthFailureLimits } from './http/auth-failures.js';
import { errorHandler } from './http/error-handler.js';
import { withCallbackToken, withWebhookSecret } from './http/webhook-secret.js';
import { ExclusiveJobs } from './jobs/exclusive-jobs.js';
import { ChangeFeed, type ChangeFeedOptions } from './kiosk-api/change-feed.js';
import { startFleetMonitoring, type FleetMonitoring } from './fleet/fleet-monitoring.js';
import type { FleetSettings } from './fleet/settings.js';
import { kioskApiRoutes } from './kiosk-api/routes.js';
import { KioskAuthenticator } from './kiosks/kiosks.js';
import { countNegativeBalances } from './ledger/ledger.js';
import { DEFAULT_TIME_ZONE } from '@tusafishe/protocol';
import { loggerOptions } from './logger.js';
import { CloudMetrics } from './metrics.js';
import { airtelMoneyProvider, type AirtelMoneyConfig } from './payments/airtel-money.js';
import { mpesaProvider, type MpesaConfig, type MpesaProvider } from './payments/mpesa.js';
import { MOMO_ENVIRONMENTS, mtnMomoProvider, type MtnMomoConfig } from './payments/mtn-momo.js';
import { DEFAULT_PAYMENT_TIMING, PaymentService, type PaymentTiming } from './payments/payments.js';
import type { PaymentProvider, ProviderName } from './payments/provider.js';
import type { PurchaseBounds } from './payments/purchase.js';
import { C2B_TOKEN_SUBJECT, paymentRoutes } from './payments/routes.js';
import {
  AIRTEL_SIMULATOR_CREDENTIALS,
  startAirtelMoneySimulator,
  type RunningAirtelSimulator,
} from './payments/simulators/airtel-money-simulator.js';
import {
  MPESA_SIMULATOR_CREDENTIALS,
  startMpesaSimulator,
  type RunningMpesaSimulator,
} from './payments/simulators/mpesa-simulator.js';
import { MTN_SIMULATOR_CREDENTIALS, startMtnMomoSimulator } from './payments/simulators/mtn-momo-simulator.js';
import type { RunningSimulator } from './payments/simulators/simulated-payments.js';
import type { Tariff } from './payments/tariff.js';
import { smsRoutes } from './sms/routes.js';
import {
  africasTalkingTransport,
  developmentTransport,
  SmsOutbox,
  type AfricasTalkingSmsConfig,
  type DevelopmentSmsTap,
  type SmsOutboxOptions,
  type SmsTransport,
} from './sms/sender.js';
import type { Db } from './store/db.js';
import { KIOSKS_CHANGED_CHANNEL } from './store/migrations.js';
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
  /** In memory: a PGlite data-directory image to start from instead of an empty cluster (tests). */
  pgliteImage?: string;
  host?: string;
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Base URL providers call back on (behind a proxy: the public https URL). Default: the listening URL. */
  publicUrl?: string;
  /** Shared secret every webhook must carry (`?token=` or `X-Webhook-Secret`); unset only in development. */
  webhookSecret?: string;
  /** One secret per provider (each defaults to `webhookSecret`), so one provider's logs open nothing at another. */
  webhookSecrets?: { africasTalking?: string; mtn?: string; airtel?: string; mpesa?: string };
  /** The operations console (`/console/`): its built web app, and `Secure` cookies behind HTTPS. */
  console?: {
    distDir?: string;
    secureCookie?: boolean;
    /** Largest reversal or adjustment customer_service may make, mL. Default 20 L. */
    correctionCapMl?: number;
  };
  /** Pino logger to use; `false` silences logging. Default: JSON logs at LOG_LEVEL or info. */
  logger?: FastifyBaseLogger | false;
  /** Default price of water (kiosks may have their own). Default UGX 50 per 20 L. */
  tariff?: Tariff;
  /** Prices in other currencies (a provider collects in its own). Default KES 5 per 20 L. */
  otherTariffs?: Tariff[];
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
    mpesa?: Omit<MpesaConfig, 'callbackUrl'>;
    /** For numbers whose network the cloud cannot tell. */
    fallback?: ProviderName;
    /** How often pending payments are checked with the provider. Default 15 s; 0 disables (tests call pollPendingPayments). */
    statusPollIntervalMs?: number;
    /** Pending this long → expired. Default 1 h. */
    expireAfterMs?: number;
    /** Status-check schedule (backoff, "not found" tries, lease); defaults in DEFAULT_PAYMENT_TIMING. */
    timing?: Partial<PaymentTiming>;
    /** How long one provider call may take (simulated providers too). Default 15 s. */
    timeoutMs?: number;
  };
  /** Start local MTN and Airtel simulators and use them as the providers (development, tests). */
  simulators?: {
    mtnPort?: number;
    airtelPort?: number;
    mpesaPort?: number;
    autoDecide?: 'approve' | 'decline';
    airtelCallbackHashKey?: string;
  };
  /** Africa's Talking credentials, or a transport (tests); default: the development outbox in the database. */
  sms?: ({ africasTalking: AfricasTalkingSmsConfig } | { transport: SmsTransport }) & { outbox?: SmsOutboxOptions };
  /** The kiosks' change feed: how many recent changes it keeps in memory, how often it looks without a notification. */
  changeFeed?: ChangeFeedOptions;
  /** Serve GET /dev/sms/outbox (development SMS adapter only). Default off. */
  devSmsOutbox?: boolean;
  /** The development SMS adapter (no `sms`) also hands each message it "sends" to this (`npm start` prints them). */
  devSmsTap?: DevelopmentSmsTap;
  /**
   * Addresses (IPs or CIDRs) of the reverse proxies in front of the cloud, whose
   * X-Forwarded-For is believed. Default none: the peer address is the client.
   */
  trustedProxies?: string[];
  /** Failed kiosk, admin and webhook authentications allowed per source address (each kind). Default 20 per 15 min. */
  authFailures?: AuthFailureLimits;
  /** Wrong old PINs on USSD lock the account like the keypad does (same `locked_until`). Default 5, 15 min. */
  pinLockout?: { maxFailures: number; lockoutMs: number };
  /** Kiosk monitoring, alert rules, on-call SMS, fleet firmware (defaults in DEFAULT_FLEET_SETTINGS). */
  fleet?: Partial<FleetSettings>;
  rateLimits?: {
    requestsPerPhonePerMinute?: number;
    /** The per-phone limit's window (default a minute); tests lengthen it so a slow machine never crosses its edge. */
    phoneWindowMs?: number;
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
  sms: SmsOutbox;
  /** Kiosk status and contact, alerts and their rules, the live feed, fleet firmware. */
  fleet: FleetMonitoring;
  /** Jobs run on one instance at a time across instances sharing the database (payment status checks, the SMS outbox sweep). */
  jobs: ExclusiveJobs;
  /** Present when started with `simulators`. */
  simulators: { mtn: RunningSimulator; airtel: RunningAirtelSimulator; mpesa: RunningMpesaSimulator } | undefined;
  close(): Promise<void>;
}

const DEFAULT_TARIFF: Tariff = { currency: 'UGX', priceMinor: 50, volumeMl: 20_000 };
const DEFAULT_OTHER_TARIFFS: Tariff[] = [{ currency: 'KES', priceMinor: 500, volumeMl: 20_000 }];

function makeLogger(option: CloudOptions['logger']): FastifyBaseLogger {
  if (option === false) return pino({ level: 'silent' });
  return option ?? pino(loggerOptions(process.env['LOG_LEVEL'] ?? 'info'));
}

/** Starts the cloud: database (migrated), HTTP API, background jobs. Startable many times in one process. */
export async function startCloud(options: CloudOptions = {}): Promise<RunningCloud> {
  const log = makeLogger(options.logger);
  const db = await openCloudDatabase(options);
  await setAnalyticsTimeZone(db, options.usageTimeZone ?? DEFAULT_TIME_ZONE);
  const metrics = new CloudMetrics(() => countNegativeBalances(db));
  const feed = await ChangeFeed.open(db, metrics, log, options.changeFeed);
  const authenticator = new KioskAuthenticator(db);
  const unlistenKiosks = await db.listen(KIOSKS_CHANGED_CHANNEL, () => authenticator.forget());
  const jobs = new ExclusiveJobs(db, metrics, log);
  const tariff = options.tariff ?? DEFAULT_TARIFF;
  const limits: PurchaseBounds = {
    minMajor: options.purchase?.minMajor ?? 100,
    maxMajor: options.purchase?.maxMajor ?? 500_000,
  };
  const ussdCode = options.ussdCode ?? '*123#';
  const rate = {
    requestsPerPhonePerMinute: 60,
    phoneWindowMs: 60_000,
    requestsPerKioskPerMinute: 600,
    callbacksPerMinute: 600,
    requestsPerAddressPerMinute: 1200,
    ...options.rateLimits,
  };
  const transport = !options.sms
    ? developmentTransport(options.devSmsTap)
    : 'transport' in options.sms
      ? options.sms.transport
      : africasTalkingTransport(options.sms.africasTalking);
  const sms = new SmsOutbox(db, transport, log, options.sms?.outbox);
  const secrets = {
    africasTalking: options.webhookSecrets?.africasTalking ?? options.webhookSecret,
    mtn: options.webhookSecrets?.mtn ?? options.webhookSecret,
    airtel: options.webhookSecrets?.airtel ?? options.webhookSecret,
    mpesa: options.webhookSecrets?.mpesa ?? options.webhookSecret,
  };
  const tariffs = [
    tariff,
    ...(options.otherTariffs ?? DEFAULT_OTHER_TARIFFS).filter((t) => t.currency !== tariff.currency),
  ];
  // Filled once the port (and so the callback URL) is known.
  const providers: Partial<Record<ProviderName, PaymentProvider>> = {};
  const payments = new PaymentService({
    db,
    providers,
    ...(options.providers?.fallback ? { fallbackProvider: options.providers.fallback } : {}),
    tariffs,
    sms,
    metrics,
    log,
    timing: {
      ...DEFAULT_PAYMENT_TIMING,
      ...(options.providers?.expireAfterMs !== undefined ? { expireAfterMs: options.providers.expireAfterMs } : {}),
      ...options.providers?.timing,
    },
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

  // The OpenAPI document of every route registered after this (zod schemas), at /openapi.json.
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Tusafishe cloud API', version: '1.0.0' },
      components: {
        securitySchemes: { console_session: { type: 'apiKey', in: 'cookie', name: 'tusafishe_console' } },
      },
    },
    transform: jsonSchemaTransform,
  });

  app.get('/health', async () => {
    await db.query('SELECT 1');
    return { status: 'ok', database: db.kind };
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  const fleet = await startFleetMonitoring({
    db,
    log,
    sms,
    settings: options.fleet ?? {},
    usageTimeZone: options.usageTimeZone ?? DEFAULT_TIME_ZONE,
    jobs,
  });
  await fleet.registerKioskRoutes(app, authenticator);
  await kioskApiRoutes(app, {
    db,
    feed,
    authenticator,
    contacts: fleet.contacts,
    onMerged: fleet.onMerged,
    metrics,
    requestsPerKioskPerMinute: rate.requestsPerKioskPerMinute,
    claims: {
      usageTimeZone: options.usageTimeZone ?? DEFAULT_TIME_ZONE,
      maxLockoutMs: options.kioskClaims?.maxLockoutMs ?? 3_600_000,
      maxDispenseMl: options.kioskClaims?.maxDispenseMl ?? 110_000,
      dailyVolumeAlertMl: options.kioskClaims?.dailyVolumeAlertMl ?? 5_000_000,
    },
  });
  await ussdRoutes(app, {
    db,
    payments,
    limits,
    metrics,
    webhookSecret: secrets.africasTalking,
    phoneLimit: { max: rate.requestsPerPhonePerMinute, timeWindow: rate.phoneWindowMs },
    pinLockout: options.pinLockout ?? { maxFailures: 5, lockoutMs: 15 * 60_000 },
  });
  await smsRoutes(app, {
    db,
    sender: sms,
    payments,
    limits,
    metrics,
    webhookSecret: secrets.africasTalking,
    phoneLimit: { max: rate.requestsPerPhonePerMinute, timeWindow: rate.phoneWindowMs },
    ussdCode,
    exposeOutbox: options.devSmsOutbox === true && !options.sms,
  });
  const mpesaShortcode =
    options.providers?.mpesa?.shortcode ?? (options.simulators ? MPESA_SIMULATOR_CREDENTIALS.shortcode : undefined);
  await paymentRoutes(app, {
    db,
    payments,
    secrets,
    airtelCallbackHashKey: options.providers?.airtel?.callbackHashKey ?? options.simulators?.airtelCallbackHashKey,
    mpesaShortcode,
    callbacksPerMinute: rate.callbacksPerMinute,
  });
  await app.register(consoleApi, {
    prefix: '/console/api',
    db,
    payments,
    sms,
    usageTimeZone: options.usageTimeZone ?? DEFAULT_TIME_ZONE,
    secureCookie: options.console?.secureCookie ?? false,
    fleet,
    ussdCode,
    correctionCapMl: options.console?.correctionCapMl ?? 20_000,
  });
  await app.register(consoleApp, { distDir: options.console?.distDir });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 3000 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 3000);
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const publicUrl = (options.publicUrl ?? url).replace(/\/$/, '');

  let simulators: RunningCloud['simulators'];
  let mtnConfig = options.providers?.mtn;
  let airtelConfig = options.providers?.airtel;
  let mpesaConfig = options.providers?.mpesa;
  if (options.simulators) {
    const decide = options.simulators.autoDecide ? { autoDecide: options.simulators.autoDecide } : {};
    // The MoMo environment that collects in the default currency (mtnuganda for UGX), else the sandbox (EUR).
    const environment =
      Object.entries(MOMO_ENVIRONMENTS).find(([, env]) => env.currency === tariff.currency)?.[0] ?? 'sandbox';
    const mtn = await startMtnMomoSimulator({
      host: '127.0.0.1',
      port: options.simulators.mtnPort ?? 0,
      targetEnvironment: environment,
      ...decide,
    });
    const hashKey = options.simulators.airtelCallbackHashKey;
    const airtel = await startAirtelMoneySimulator({
      host: '127.0.0.1',
      port: options.simulators.airtelPort ?? 0,
      ...decide,
      ...(hashKey ? { callbackHashKey: hashKey } : {}),
    });
    airtel.setCallbackUrl(
      withWebhookSecret(`${publicUrl}/payments/airtel/callback`, hashKey ? undefined : secrets.airtel),
    );
    const mpesa = await startMpesaSimulator({ host: '127.0.0.1', port: options.simulators.mpesaPort ?? 0, ...decide });
    simulators = { mtn, airtel, mpesa };
    mtnConfig ??= {
      baseUrl: mtn.url,
      targetEnvironment: environment,
      currency: MOMO_ENVIRONMENTS[environment]!.currency,
      ...MTN_SIMULATOR_CREDENTIALS,
    };
    airtelConfig ??= {
      baseUrl: airtel.url,
      country: 'UG',
      currency: 'UGX',
      ...AIRTEL_SIMULATOR_CREDENTIALS,
      ...(hashKey ? { callbackHashKey: hashKey } : {}),
    };
    mpesaConfig ??= { baseUrl: mpesa.url, ...MPESA_SIMULATOR_CREDENTIALS };
  }
  const timeout = options.providers?.timeoutMs !== undefined ? { timeoutMs: options.providers.timeoutMs } : {};
  if (mtnConfig)
    providers.mtn = mtnMomoProvider({
      ...timeout,
      ...mtnConfig,
      callbackUrl: (paymentId) =>
        withCallbackToken(`${publicUrl}/payments/mtn/callback/${paymentId}`, secrets.mtn, paymentId),
    });
  if (airtelConfig) providers.airtel = airtelMoneyProvider({ ...timeout, ...airtelConfig });
  let mpesa: MpesaProvider | undefined;
  if (mpesaConfig) {
    mpesa = mpesaProvider({
      ...timeout,
      ...mpesaConfig,
      callbackUrl: (paymentId) =>
        withCallbackToken(`${publicUrl}/payments/daraja/stk/${paymentId}`, secrets.mpesa, paymentId),
    });
    providers.mpesa = mpesa;
    const c2bUrl = (kind: string): string =>
      withCallbackToken(`${publicUrl}/payments/daraja/c2b/${kind}`, secrets.mpesa, C2B_TOKEN_SUBJECT);
    await mpesa
      .registerC2bUrls({ validationUrl: c2bUrl('validation'), confirmationUrl: c2bUrl('confirmation') })
      .catch((error: unknown) => log.warn({ err: error }, 'M-Pesa C2B URLs not registered (already registered?)'));
  }
  const pollMs = options.providers?.statusPollIntervalMs ?? 15_000;
  // MoMo sends its callback once and may never send it: the status check is what finally
  // settles a payment whose callback was lost.
  if (pollMs > 0) jobs.schedule('payment-status', pollMs, () => payments.pollPending());
  sms.start(jobs);
  sms.nudge();

  return {
    port,
    url,
    db,
    app,
    payments,
    sms,
    fleet,
    jobs,
    simulators,
    async close() {
      await jobs.stop();
      await fleet.close();
      await sms.stop();
      await feed.close();
      await unlistenKiosks();
      await app.close();
      await Promise.all([simulators?.mtn.close(), simulators?.airtel.close(), simulators?.mpesa.close()]);
      await db.close();
    },
  };
}
