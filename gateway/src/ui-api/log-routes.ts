import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from 'better-sqlite3';
import type { LogSource } from '../log-ring.js';
import { ErrorBody, LogsAnswer, LogsQuery } from './api-schemas.js';
import { technicianGuard } from './technician-guard.js';

export interface LogRoutesOptions {
  db: Database;
  logs: LogSource;
  timezone: string;
}

/** `GET /api/logs`: the gateway's recent log entries (already redacted), newest first, for a signed-in technician. */
export const logRoutes: FastifyPluginAsyncZod<LogRoutesOptions> = async (app, { db, logs, timezone }) => {
  app.addHook('onRequest', technicianGuard(db));

  app.get(
    '/api/logs',
    {
      schema: {
        summary: 'Recent gateway log entries at a level and above, optionally of one module, newest first',
        tags: ['kiosk'],
        querystring: LogsQuery,
        response: { 200: LogsAnswer, 401: ErrorBody },
      },
    },
    async (request) => ({
      timezone,
      capacity: logs.capacity,
      modules: logs.modules(),
      entries: logs.recent(request.query),
    }),
  );
};
