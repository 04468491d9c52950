import type { FastifyPluginAsync } from 'fastify';
import type { SyncStatus } from './sync-status.js';

export interface SyncRoutesOptions {
  sync: { status(): SyncStatus };
}

/** `GET /api/sync`: the kiosk's sync state for the technician UI and fleet checks. */
export const syncRoutes: FastifyPluginAsync<SyncRoutesOptions> = async (app, { sync }) => {
  app.get('/api/sync', async () => sync.status());
};
