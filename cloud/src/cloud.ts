import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import { adminRoutes } from './admin/routes.js';
import { ChangeFeed } from './kiosk-api/change-feed.js';
import { kioskApiRoutes } from './kiosk-api/routes.js';
import { KioskAuthenticator } from './kiosks/kiosks.js';
import { countNegativeBalances } from './ledger/ledger.js';
import { loggerOptions } from './logger.js';
import { CloudMetrics } from './metrics.js';
import { openPgliteDb, openPostgresDb, type Db } from './store/db.js';
import { migrate } from './store/migrations.js';

export interface CloudOptions {
  /** PostgreSQL server; when absent the cloud runs on embedded PGlite. */
  databaseUrl?: string;
  /** Schema on the server (tests give each file its own); default: the role's search_path. */
  databaseSchema?: string;
  /** PGlite data lives in `<dataDir>/cloud-pg`; with neither this nor databaseUrl the database is in memory. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Bearer token for /admin routes; unset disables them. */
  adminToken?: string;
  /** Pino logger to use; `false` silences logging. Default: JSON logs at info. */
  logger?: FastifyBaseLogger | false;
  rateLimits?: { requestsPerKioskPerMinute?: number };
}

export interface RunningCloud {
  port: number;
  url: string;
  db: Db;
  app: FastifyInstance;
  close(): Promise<void>;
}

async function openDb(options: CloudOptions): Promise<Db> {
  if (options.databaseUrl) {
    return openPostgresDb({ connectionString: options.databaseUrl, ...(options.databaseSchema ? { schema: options.databaseSchema } : {}) });
  }
  if (!options.dataDir) return openPgliteDb();
  const dir = join(options.dataDir, 'cloud-pg');
  await mkdir(dir, { recursive: true });
  return openPgliteDb(dir);
}

function makeLogger(option: CloudOptions['logger']): FastifyBaseLogger {
  if (option === false) return pino({ level: 'silent' });
  return option ?? pino(loggerOptions(process.env['LOG_LEVEL'] ?? 'info'));
}

/** Starts the cloud: database (migrated), HTTP API, background jobs. Startable many times in one process. */
export async function startCloud(options: CloudOptions = {}): Promise<RunningCloud> {
  const db = await openDb(options);
  await migrate(db);
  const feed = await ChangeFeed.open(db);
  const metrics = new CloudMetrics(() => countNegativeBalances(db));

  const app = Fastify({ loggerInstance: makeLogger(options.logger), trustProxy: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(formbody);
  await app.register(rateLimit, { global: false, hook: 'preHandler' });
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
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  await kioskApiRoutes(app, {
    db,
    feed,
    authenticator: new KioskAuthenticator(db),
    metrics,
    requestsPerKioskPerMinute: options.rateLimits?.requestsPerKioskPerMinute ?? 600,
  });
  await adminRoutes(app, { db, adminToken: options.adminToken });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 3000 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 3000);
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  return {
    port,
    url,
    db,
    app,
    async close() {
      await feed.close();
      await app.close();
      await db.close();
    },
  };
}
