import type { GatewayExtension } from '../extension.js';
import type { GatewayCore } from '../gateway.js';
import { technicianApi, type TechnicianApiDeps } from './technician-api.js';
import { provisionTechnicianFromEnv } from './technician-config.js';

/**
 * The technicians' UI and `/api` as a gateway extension: the routes are registered when built;
 * `start()` makes sure the account in TECHNICIAN_USERNAME/TECHNICIAN_PASSWORD exists. Its live
 * feed's bus listeners belong to the WebSocket connections, which end when HTTP closes.
 */
export async function technicianExtension(
  core: GatewayCore,
  env: NodeJS.ProcessEnv,
  deps: Omit<TechnicianApiDeps, 'gateway' | 'secureCookie'>,
): Promise<GatewayExtension> {
  await core.http.register(technicianApi, { ...deps, gateway: core, secureCookie: core.https });
  return {
    name: 'technician-ui',
    async start() {
      const technician = await provisionTechnicianFromEnv(core.store.db, env);
      if (technician) core.logger.info({ username: technician }, 'technician account from the environment is ready');
    },
    async stop() {},
  };
}
