import type { onRequestHookHandler } from 'fastify';
import type { GatewayCore } from '../gateway.js';
import { alertLedgerEvent } from './alerts/alert-ledger-event.js';
import { hardwareConfigFromEnv } from './config.js';
import { startKioskHardware, type KioskHardware } from './kiosk-hardware.js';
import type { Condition } from './rules/kiosk-rules.js';
import type { StorageState } from '../store/storage-guard.js';

export interface AttachHardwareOptions {
  /** Whether the cloud answered recently (e.g. `() => sync.status().online`). */
  isCloudReachable(): boolean;
  /** Guard for `/api/hardware*`, e.g. the technician API's `technicianGuard(core.store.db)`. */
  onRequest?: onRequestHookHandler;
}

/**
 * Wires the kiosk hardware into a composed gateway (inside `startGateway`'s
 * `setup`): config from HW_* env vars, readings in the gateway's database,
 * alerts appended to the ledger as `alert_raised`/`alert_cleared` notices (the
 * sync path takes them to the cloud), the interlock consulted before every
 * dispense, `/api/hardware*` (behind `onRequest` when given), `tusafishe_hw_*` on
 * `/metrics`; stopped (pump and UV relays off) when HTTP closes, before the store.
 * Null when HW_MODE=off.
 */
export async function attachKioskHardware(
  core: GatewayCore,
  env: NodeJS.ProcessEnv,
  options: AttachHardwareOptions,
): Promise<KioskHardware | null> {
  const logger = core.logger.child({ module: 'hardware' });
  const config = hardwareConfigFromEnv(env);
  if (config.mode === 'off') {
    logger.warn('HW_MODE=off: no kiosk hardware (no tank, UV or water-quality interlocks)');
    return null;
  }
  const hardware = await startKioskHardware(config, {
    db: core.store.db,
    logger,
    kioskId: core.kioskId,
    isCloudReachable: options.isCloudReachable,
    onAlert: (change) => core.store.ledger.append(alertLedgerEvent(change, core.kioskId)),
    extraConditions: () => storageConditions(core.store.storage?.state ?? 'ok'),
  });
  const removeInterlock = core.interlocks.add(hardware.interlock);
  await hardware.registerRoutes(core.http, { onRequest: options.onRequest });
  hardware.collectMetrics(core.metrics);
  core.http.addHook('onClose', async () => {
    removeInterlock();
    await hardware.close();
  });
  return hardware;
}

/** The gateway's storage as an alert: critical, texted to technicians when the cloud is out of reach. */
function storageConditions(state: StorageState): Condition[] {
  if (state === 'ok') return [];
  const message =
    state === 'full'
      ? 'Gateway disk full: new dispenses refused while space is freed'
      : 'Gateway storage failed (fsync): dispenses refused until restart';
  return [{ key: `storage_${state}`, severity: 'critical', message, details: { state } }];
}
