/**
 * The gateway's input parsers and protocol endpoints, public so the fuzz harness
 * (`npm run fuzz`) drives the same code the gateway runs, not copies of it.
 */
export { resolveHardwareConfig } from './hardware/config.js';
export { HardwareError } from './hardware/hardware-error.js';
export { SensorPoller } from './hardware/modbus/sensor-poller.js';
export { AtModem } from './hardware/modem/at-modem.js';
export {
  parseMessageReference,
  parseOperator,
  parseRegistration,
  parseSignal,
  parseSimState,
} from './hardware/modem/at-responses.js';
export { createCloudClient, type PulledPage } from './sync/cloud-client.js';
export { SyncError } from './sync/sync-error.js';
export { SyncStore } from './sync/sync-store.js';
