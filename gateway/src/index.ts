/**
 * The gateway's public surface for other parts (cloud tests, fleet, bench, the UI's
 * end-to-end test): start a gateway, attach its extensions, read its store.
 */
export { startGateway, type GatewayCore, type GatewayOptions, type RunningGateway } from './gateway.js';
export type { GatewayExtension } from './extension.js';
export { kioskExtensions } from './kiosk-extensions.js';
export { SyncExtension } from './sync/sync-extension.js';
export { startSync } from './sync/sync.js';
export type { SyncStatus } from './sync/sync-status.js';
export { startKioskHardware, type KioskHardware } from './hardware/kiosk-hardware.js';
export { firmwareExtension } from './firmware/firmware-extension.js';
export type { FirmwareUpdates } from './firmware/firmware-routes.js';
export { technicianApi } from './ui-api/technician-api.js';
export { createTechnician } from './ui-api/technician-accounts.js';
export { LogRing } from './log-ring.js';
export { createLogger } from './logger.js';
export { resolveSettings } from './settings.js';
export { Store } from './store/store.js';
export { DATABASE_FILE } from './store/database.js';
export { DEMO_TECHNICIAN, DemoCredentials, seedDemoData } from './seed/demo-data.js';
