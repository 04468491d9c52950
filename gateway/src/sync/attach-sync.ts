import type { GatewayCore } from '../gateway.js';
import { startSync, type SyncWorker } from './sync.js';

/**
 * Wires sync into a composed gateway (use as, or inside, `startGateway`'s `setup`):
 * starts the worker from the env (the technician API serves its `GET /api/sync`), adds `tusafishe_sync_*` to the
 * gateway's `/metrics` registry, and stops the worker when HTTP closes (before the store).
 */
export async function attachSync(core: GatewayCore, env: NodeJS.ProcessEnv): Promise<SyncWorker> {
  const sync = startSync({
    store: core.store,
    env: { ...env, KIOSK_ID: core.kioskId },
    settings: core.settings,
    logger: core.logger.child({ module: 'sync' }),
    events: core.events,
    registry: core.metrics,
    clock: core.clock,
  });
  core.http.addHook('onClose', () => sync.close());
  return sync;
}
