import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { customerRoutes } from './customer-routes.js';
import { firmwareRoutes, type FirmwareUpdates } from '../firmware/firmware-routes.js';
import { dispenserRoutes } from './dispenser-routes.js';
import type { HardwareApi } from '../hardware/api/hardware-routes.js';
import type { SyncSource, TechnicianGateway } from './kiosk-port.js';
import { kioskRoutes } from './kiosk-routes.js';
import { liveFeed } from './live-feed.js';
import type { LogSource } from '../log-ring.js';
import { logRoutes } from './log-routes.js';
import { sessionRoutes } from './session-routes.js';
import { answerError } from '../http/answer-error.js';

export interface TechnicianApiDeps {
  /** The composed gateway (`startGateway`'s `setup` hook receives it). */
  gateway: TechnicianGateway;
  /** The hardware module (KioskHardware); without it the UI says there is no hardware data. */
  hardware?: HardwareApi;
  sync?: SyncSource;
  /** Built UI (ui/dist), served at `/`; omitted: API only. */
  uiDistDir?: string;
  /** Secure cookie flag, for a gateway served over HTTPS. */
  secureCookie?: boolean;
  /** Dispenser firmware store and updates (`firmwareExtension`); without it no firmware routes. */
  firmware?: FirmwareUpdates;
  /** The gateway's recent log entries (the `LogRing` its logger writes to); without it no logs route. */
  logs?: LogSource;
}

/**
 * The OpenAPI document's collector, once per app: it lists the routes registered after it,
 * so a composition registers it before any route it documents (e.g. `/api/hardware`).
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  if (app.hasDecorator('swagger')) return;
  await app.register(fastifySwagger, {
    openapi: { info: { title: 'Tusafishe gateway technician API', version: '1.0.0' } },
    transform: jsonSchemaTransform,
  });
}

/**
 * The technicians' web UI and its `/api`: sign-in, kiosk overview, live feed, dispensers,
 * customers, charts, CSV export, logs, OpenAPI at `/api/openapi.json`.
 */
export const technicianApi: FastifyPluginAsync<TechnicianApiDeps> = async (app, deps) => {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The core may already have registered these shared plugins at the root.
  if (!app.hasDecorator('parseCookie')) await app.register(fastifyCookie);
  if (!app.hasDecorator('rateLimit')) await app.register(fastifyRateLimit, { max: 600, timeWindow: '1 minute' });
  if (!app.hasDecorator('websocketServer')) await app.register(fastifyWebsocket);
  await registerOpenApi(app);
  app.decorateRequest('technician', null);
  app.setErrorHandler(answerError);

  const { gateway } = deps;
  const { store } = gateway;
  const timezone = gateway.settings.timezone;
  await app.register(sessionRoutes, { db: store.db, secureCookie: deps.secureCookie ?? false });
  await app.register(kioskRoutes, {
    store,
    timezone,
    kioskId: gateway.kioskId,
    hardware: deps.hardware,
    sync: deps.sync,
  });
  await app.register(dispenserRoutes, { gateway });
  await app.register(customerRoutes, {
    store,
    balances: gateway.dispenseFlow,
    timezone,
    phoneRegion: gateway.settings.phoneRegion,
    kioskId: gateway.kioskId,
    sync: deps.sync,
  });
  await app.register(liveFeed, { db: store.db, events: gateway.events });
  if (deps.firmware) await app.register(firmwareRoutes, { ...deps.firmware, db: store.db });
  if (deps.logs) await app.register(logRoutes, { db: store.db, logs: deps.logs, timezone });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (deps.uiDistDir && existsSync(join(deps.uiDistDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: deps.uiDistDir, prefix: '/' });
  } else if (deps.uiDistDir) {
    app.log.warn(
      { ui_dist_dir: deps.uiDistDir },
      'technician UI not built (npm run build -w @tusafishe/ui): serving the API only',
    );
  }
};
