import fastifyCookie from '@fastify/cookie';
import { resolve } from 'node:path';
import type { GatewayCore } from './gateway.js';
import { startFirmwareUpdates } from './firmware/firmware-updates.js';
import { attachKioskHardware } from './hardware/attach-hardware.js';
import type { LogSource } from './log-ring.js';
import { attachDailyBackups } from './store/attach-backups.js';
import type { KioskHardware } from './hardware/kiosk-hardware.js';
import { attachSync } from './sync/attach-sync.js';
import type { SyncWorker } from './sync/sync.js';
import { registerOpenApi, technicianApi } from './ui-api/technician-api.js';
import { provisionTechnicianFromEnv } from './ui-api/technician-config.js';
import { technicianGuard } from './ui-api/technician-guard.js';

export interface KioskExtensions {
  sync: SyncWorker;
  hardware: KioskHardware | null;
}

/**
 * Everything a field gateway runs beside the core, each configured from the
 * environment (balena device variables): cloud sync, kiosk hardware, and the
 * technicians' UI and API with dispenser firmware updates and, given the logger's ring, the
 * gateway's recent log. Pass as `startGateway`'s `setup`.
 */
export async function attachKioskExtensions(
  core: GatewayCore,
  env: NodeJS.ProcessEnv,
  logs?: LogSource,
): Promise<KioskExtensions> {
  // At the root so the hardware routes can sit behind the technician session cookie too.
  await core.http.register(fastifyCookie);
  // Before the hardware routes, so `/api/openapi.json` documents them with the technician API.
  await registerOpenApi(core.http);
  const sync = await attachSync(core, env);
  attachDailyBackups(core, env);
  const hardware = await attachKioskHardware(core, env, {
    isCloudReachable: () => sync.status().online,
    onRequest: technicianGuard(core.store.db),
  });
  const technician = await provisionTechnicianFromEnv(core.store.db, env);
  if (technician) core.logger.info({ username: technician }, 'technician account from the environment is ready');
  await core.http.register(technicianApi, {
    gateway: core,
    secureCookie: core.https,
    sync,
    ...(hardware ? { hardware } : {}),
    firmware: startFirmwareUpdates(core, env),
    uiDistDir: env.UI_DIST_DIR ?? resolve(import.meta.dirname, '../../ui/dist'),
    ...(logs ? { logs } : {}),
  });
  return { sync, hardware };
}
