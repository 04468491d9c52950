/**
 * A gateway process with cloud sync: gateway/src/main.ts's composition plus `attachSync`.
 * The fleet suite spawns this until main.ts wires sync itself (one `setup` line, see
 * gateway/src/sync/README.md); then the suite spawns main.ts and this file goes.
 */
import * as z from 'zod';
import { en } from 'zod/locales';
import { readConfig } from '../../gateway/src/config.js';
import { startGateway } from '../../gateway/src/gateway.js';
import { createLogger } from '../../gateway/src/logger.js';
import { attachSync } from '../../gateway/src/sync/attach-sync.js';

z.config(en());
const config = readConfig(process.env);
const logger = createLogger({ level: config.logLevel });
await startGateway({
  dataDir: config.dataDir,
  kioskId: config.kioskId,
  host: config.host,
  mqttPort: config.mqttPort,
  httpPort: config.httpPort,
  seedDemo: config.seedDemo,
  settings: config.settings,
  logger,
  setup: async (core) => void (await attachSync(core, process.env)),
});
