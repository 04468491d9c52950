import { dispenserTopic, DispenserCommand, DispenserConfig } from '@tusafishe/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import { Broker, type BrokerLimits, type GatewayTls } from './broker/broker.js';
import { dispenserAuthenticator } from './broker/authorizer.js';
import { DispenserLink } from './broker/dispenser-link.js';
import { DispenseFlow } from './dispense/dispense-flow.js';
import { TokenRedemptionFlow } from './dispense/token-redemption.js';
import { Interlocks } from './dispense/interlocks.js';
import { GatewayError } from './errors.js';
import { ExtensionController, type GatewayExtension } from './extension.js';
import { GatewayEvents } from './events.js';
import { registerDispenseVerification, type LegacyVerificationAccess } from './http/dispense-verification.js';
import { registerHealth } from './http/health.js';
import { createHttpServer } from './http/server.js';
import { KioskClock, type ClockSources } from './clock.js';
import { createLogger } from './logger.js';
import { isEmpty, readDemoCredentials, seedDemoData, type DemoCredentials } from './seed/demo-data.js';
import { resolveSettings, type Settings } from './settings.js';
import { Store } from './store/store.js';
import { PAGE_SIZE } from './store/database.js';
import { measureEventLoopDelay } from './event-loop-delay.js';

export interface GatewayOptions {
  dataDir: string;
  kioskId: string;
  /** Default 0.0.0.0. */
  host?: string;
  /** Interface for MQTT (the dispensers' network); default `host`. */
  mqttHost?: string;
  /** Interface for HTTP (the people's network: UI, legacy endpoint); default `host`. */
  httpHost?: string;
  /** The kiosk's certificate (PEM): HTTPS for HTTP, and MQTT over TLS on `mqttsPort`. */
  tls?: GatewayTls;
  /** Default 1883; 0 picks a free port. */
  mqttPort?: number;
  /** Default 8080; 0 picks a free port. */
  httpPort?: number;
  /** Seed the demo customers and dispensers when the database is empty (default off). */
  seedDemo?: boolean;
  logger?: Logger;
  /** Wall and monotonic clocks (tests inject a stepping wall clock). */
  clock?: ClockSources;
  settings?: Partial<Settings>;
  /** What a client may cost the broker before it logs in (defaults: `DEFAULT_BROKER_LIMITS`). */
  brokerLimits?: Partial<BrokerLimits>;
  /** Who may call the legacy `POST /dispense-verification`; omitted: it is not served. */
  legacyVerification?: LegacyVerificationAccess | undefined;
  /**
   * Runs once everything is composed and before HTTP listens: register routes on
   * `gateway.http`, authenticators on `gateway.broker.authorizer`, interlocks, listeners.
   */
  setup?: (gateway: GatewayCore) => void | Promise<void>;
  /**
   * Builds the gateway's extensions once `setup` has run (e.g. `kioskExtensions`); they are
   * started in order before HTTP listens and stopped in reverse when the gateway closes.
   */
  extensions?: (gateway: GatewayCore) => readonly GatewayExtension[] | Promise<readonly GatewayExtension[]>;
}

/** The composed gateway before it listens on HTTP. */
export interface GatewayCore {
  kioskId: string;
  dataDir: string;
  settings: Settings;
  logger: Logger;
  store: Store;
  /** Trusted time without an RTC: monotonic durations, persisted "not before". */
  clock: KioskClock;
  events: GatewayEvents;
  interlocks: Interlocks;
  broker: Broker;
  dispenseFlow: DispenseFlow;
  http: FastifyInstance;
  /** HTTP is served over TLS (cookies are then `Secure`). */
  https: boolean;
  metrics: Registry;
  /** Demo dispenser credentials when the demo data is (or was) seeded, else null. */
  demo: DemoCredentials | null;
  /** Changes a dispenser's config (e.g. calibration) and republishes it, retained. */
  setDispenserConfig(dispenserId: string, change: Partial<Omit<DispenserConfig, 'kiosk_id'>>): Promise<DispenserConfig>;
  /** Publishes a technician command (valve test, reboot, OTA) to one dispenser. */
  sendCommand(dispenserId: string, command: DispenserCommand): Promise<void>;
}

export interface RunningGateway extends GatewayCore {
  mqttPort: number;
  /** MQTT over TLS, when the gateway has a certificate; else null. */
  mqttsPort: number | null;
  httpPort: number;
  /** The running extensions: `list`, and `stop()`/`start()` (close stops them too). */
  extensions: ExtensionController;
  close(): Promise<void>;
}

/** Counts outcomes on `/metrics`; the returned function removes its listeners. */
function countOutcomes(events: GatewayEvents, metrics: Registry): () => void {
  const authorisations = new Counter({
    name: 'tusafishe_authorisations_total',
    help: 'Authorisation requests answered, by result',
    labelNames: ['result'],
    registers: [metrics],
  });
  const dispensed = new Counter({
    name: 'tusafishe_dispensed_ml_total',
    help: 'Water recorded as dispensed, mL',
    registers: [metrics],
  });
  const listeners = events.scope();
  listeners.on('authorisation', (o) => {
    if (!o.repeat) authorisations.inc({ result: o.approved ? 'approved' : (o.reason ?? 'denied') });
  });
  listeners.on('dispense-recorded', (d) => dispensed.inc(-d.event.amount_ml));
  return listeners.dispose;
}

/** Forgets authorisation decisions older than the retention, so guessing cannot fill the disk. */
function pruneDecisions(store: Store, retentionMs: number, logger: Logger): () => void {
  const prune = () => {
    const removed = store.holds.pruneDecisions(Date.now() - retentionMs);
    if (removed > 0) logger.debug({ removed }, 'old authorisation decisions pruned');
  };
  prune();
  const timer = setInterval(prune, Math.min(retentionMs, 60 * 60_000));
  timer.unref();
  return () => clearInterval(timer);
}

/** Starts one gateway: store, broker, dispense flow and HTTP, composed. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger();
  const settings = resolveSettings(options.settings);
  const host = options.host ?? '0.0.0.0';
  const mqttHost = options.mqttHost ?? host;
  const httpHost = options.httpHost ?? host;
  const { kioskId, dataDir } = options;
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const store = Store.open(dataDir);
    closers.push(() => store.close());
    const pageSize = store.db.pragma('page_size', { simple: true });
    if (pageSize !== PAGE_SIZE) {
      logger.warn({ page_size: pageSize }, 'database not rebuilt with 1 KB pages (file busy or disk full): next start');
    }
    store.storage?.on('change', (state, detail) =>
      logger[state === 'ok' ? 'info' : 'error']({ storage: state, detail }, `storage ${state}`),
    );
    // Demo data only when asked (a production config refuses to ask): never seeded or shown otherwise.
    let demo = options.seedDemo ? await readDemoCredentials(dataDir) : null;
    if (options.seedDemo && isEmpty(store)) {
      demo = await seedDemoData(store, kioskId, dataDir, settings.defaultPulsesPerLitre);
      logger.info({ customers: store.customers.count() }, 'demo data seeded');
    }

    const events = new GatewayEvents((error, event) => logger.error({ err: error, event }, 'event listener failed'));
    const interlocks = new Interlocks();
    const metrics = new Registry();
    closers.push(countOutcomes(events, metrics));
    closers.push(measureEventLoopDelay(metrics));
    const broker = await Broker.start({
      host: mqttHost,
      ...(options.tls ? { tls: options.tls } : {}),
      port: options.mqttPort ?? 1883,
      logger,
      ...(options.brokerLimits ? { limits: options.brokerLimits } : {}),
    });
    const clock = new KioskClock(store.kioskState, options.clock);
    const dispenseFlow = new DispenseFlow({ store, settings, kioskId, interlocks, events, logger, clock });
    const tokens = new TokenRedemptionFlow({
      store,
      settings,
      kioskId,
      events,
      logger,
      now: () => clock.now(),
      // A customer whose balance this kiosk does not follow may hold a stale token counter.
      refresh: (customer) => dispenseFlow.knowBalance(customer),
    });
    const link = new DispenserLink({ broker, store, dispenseFlow, tokens, events, logger });
    // Closing: stop the broker first, then let answers in progress finish before the store closes.
    closers.push(() => link.idle());
    closers.push(() => broker.close());
    broker.authorizer.add(dispenserAuthenticator(store, (secret, hash) => broker.logins.verify(secret, hash)));
    await link.start();

    const http = await createHttpServer({
      logger,
      broker,
      rateLimitPerMinute: settings.httpRateLimitPerMinute,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    // Closers run in reverse: extensions stop once HTTP has closed, before the broker and the store.
    const extensions = new ExtensionController(logger);
    closers.push(() => extensions.stop());
    closers.push(() => http.close());
    registerHealth(http, { kioskId, store, broker });
    if (options.legacyVerification) {
      registerDispenseVerification(http, {
        dispenseFlow,
        kioskId,
        access: options.legacyVerification,
        failureBudget: { max: settings.verificationFailuresPerWindow, windowMs: settings.verificationFailureWindowMs },
      });
    }
    closers.push(pruneDecisions(store, settings.decisionRetentionMs, logger));
    http.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

    const core: GatewayCore = {
      kioskId,
      dataDir,
      settings,
      logger,
      store,
      clock,
      events,
      interlocks,
      broker,
      dispenseFlow,
      http,
      https: options.tls !== undefined,
      metrics,
      demo,
      async setDispenserConfig(dispenserId, change) {
        const current = store.dispensers.get(dispenserId);
        if (!current) throw new GatewayError('UNKNOWN_DISPENSER', dispenserId);
        const config = DispenserConfig.parse({ ...current.config, ...change, kiosk_id: kioskId });
        store.dispensers.setConfig(dispenserId, config);
        await link.publishConfig(dispenserId, config);
        logger.info({ dispenser_id: dispenserId, config }, 'dispenser config changed');
        return config;
      },
      async sendCommand(dispenserId, command) {
        if (!store.dispensers.get(dispenserId)) throw new GatewayError('UNKNOWN_DISPENSER', dispenserId);
        await broker.publish(dispenserTopic(dispenserId, 'command'), JSON.stringify(DispenserCommand.parse(command)));
      },
    };
    await options.setup?.(core);
    extensions.add(...((await options.extensions?.(core)) ?? []));
    await extensions.start();
    await http.listen({ host: httpHost, port: options.httpPort ?? 8080 });
    const address = http.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : 0;
    logger.info(
      { kiosk_id: kioskId, mqtt_port: broker.port, mqtts_port: broker.tlsPort, http_port: httpPort, data_dir: dataDir },
      'gateway listening',
    );
    return { ...core, mqttPort: broker.port, mqttsPort: broker.tlsPort, httpPort, extensions, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
