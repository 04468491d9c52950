import fastifyCookie from '@fastify/cookie';
import { resolve } from 'node:path';
import type { GatewayExtension } from './extension.js';
import { firmwareExtension } from './firmware/firmware-extension.js';
import type { GatewayCore } from './gateway.js';
import { HardwareExtension } from './hardware/hardware-extension.js';
import type { Condition } from './hardware/rules/kiosk-rules.js';
import type { LogSource } from './log-ring.js';
import { backupExtension } from './store/backup-extension.js';
import { StatusReportExtension } from './sync/status-report-extension.js';
import { SyncExtension } from './sync/sync-extension.js';
import { registerOpenApi } from './ui-api/technician-api.js';
import { technicianExtension } from './ui-api/technician-extension.js';
import { technicianGuard } from './ui-api/technician-guard.js';

/**
 * Everything a field gateway runs beside the core, each configured from the environment
 * (balena device variables), in start order: cloud sync, daily backups, kiosk hardware,
 * dispenser firmware updates, and the technicians' UI and API with, given the logger's ring,
 * the gateway's recent log. Pass as `startGateway`'s `extensions`:
 * `extensions: (core) => kioskExtensions(core, process.env, logRing)`. `conditions` (e.g. the
 * kiosk networks') are alerted with the hardware's.
 */
export async function kioskExtensions(
  core: GatewayCore,
  env: NodeJS.ProcessEnv,
  logs?: LogSource,
  conditions?: () => Condition[],
): Promise<GatewayExtension[]> {
  // At the root so the hardware routes can sit behind the technician session cookie too.
  await core.http.register(fastifyCookie);
  // Before the hardware routes, so `/api/openapi.json` documents them with the technician API.
  await registerOpenApi(core.http);
  const sync = new SyncExtension(core, env);
  const backups = backupExtension(core, env);
  const hardware = await HardwareExtension.create(core, env, {
    isCloudReachable: () => sync.status().online,
    onRequest: technicianGuard(core.store.db),
    ...(conditions ? { extraConditions: conditions } : {}),
  });
  const firmware = firmwareExtension(core, env);
  const reports = new StatusReportExtension(core, env, { sync, hardware, firmware });
  const technicians = await technicianExtension(core, env, {
    sync,
    ...(hardware ? { hardware } : {}),
    firmware,
    uiDistDir: env.UI_DIST_DIR ?? resolve(import.meta.dirname, '../../ui/dist'),
    ...(logs ? { logs } : {}),
  });
  return [sync, ...(backups ? [backups] : []), ...(hardware ? [hardware] : []), firmware, reports, technicians];
}
