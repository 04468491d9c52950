import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { GatewayTls } from './broker/broker.js';
import * as z from 'zod';
import { en } from 'zod/locales';
import { readConfig } from './config.js';
import { startGateway } from './gateway.js';
import { kioskExtensions } from './kiosk-extensions.js';
import { LogRing } from './log-ring.js';
import { setUpKioskNetworks } from './network/kiosk-network-setup.js';
import { restorePendingBackup } from './store/backup.js';
import { createLogger } from './logger.js';
import { DEMO_CREDENTIALS_FILE, type DemoCredentials } from './seed/demo-data.js';

z.config(en());

function printCredentials(demo: DemoCredentials, dataDir: string): void {
  // Printed, not logged: the log redacts passwords, and these are meant to be copied.
  const lines = demo.dispensers.map((d) => `  ${d.id}  username=${d.username}  password=${d.password}`);
  process.stdout.write(
    `Demo dispensers of kiosk ${demo.kiosk_id} (also in ${resolve(dataDir, DEMO_CREDENTIALS_FILE)}):\n${lines.join('\n')}\n` +
      'Demo customers: +254700000101 … +254700000105, PIN 1234, 20,000 mL each; +254700000106 inactive.\n',
  );
}

/** The kiosk certificate `npm run provision -- kiosk certificate` wrote. */
async function readKioskTls(dir: string, mqttsPort: number): Promise<GatewayTls> {
  const [cert, key] = await Promise.all([readFile(join(dir, 'kiosk.crt')), readFile(join(dir, 'kiosk.key'))]);
  return { cert, key, mqttsPort };
}

async function main(): Promise<void> {
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(process.env);
  } catch (error) {
    process.stderr.write(
      `invalid configuration: ${error instanceof z.ZodError ? z.prettifyError(error) : String(error)}\n`,
    );
    process.exit(2);
  }
  const logRing = new LogRing();
  const logger = createLogger({ level: config.logLevel }, logRing);
  // A stray rejection (a listener, a timer) is a bug to see in the log, not a reason to stop
  // serving dispenses: every write path awaits its own promises and refuses on its own failure.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  const restored = await restorePendingBackup(config.dataDir);
  if (restored) logger.warn({ file: restored }, 'gateway database restored from a backup; it re-syncs with the cloud');
  // The access points first, so the broker and HTTP can bind their addresses.
  const networks = config.networks
    ? await setUpKioskNetworks({
        ...config.networks,
        mqttHost: config.mqttHost,
        httpHost: config.httpHost,
        fallbackHost: config.host,
        logger: logger.child({ module: 'network' }),
      })
    : undefined;
  const gateway = await startGateway({
    dataDir: config.dataDir,
    kioskId: config.kioskId,
    host: config.host,
    mqttHost: networks?.mqttHost ?? config.mqttHost,
    httpHost: networks?.httpHost ?? config.httpHost,
    ...(config.tls ? { tls: await readKioskTls(config.tls.dir, config.tls.mqttsPort) } : {}),
    mqttPort: config.mqttPort,
    httpPort: config.httpPort,
    seedDemo: config.seedDemo,
    settings: config.settings,
    legacyVerification: config.legacyVerification,
    logger,
    extensions: (core) => kioskExtensions(core, process.env, logRing, networks?.conditions),
  });
  if (gateway.demo) printCredentials(gateway.demo, config.dataDir);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'gateway stopping');
    networks?.close();
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'gateway did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  createLogger().fatal({ err: error }, 'gateway failed to start');
  process.exit(1);
});
