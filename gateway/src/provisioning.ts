/**
 * What provisioning may do to a gateway before it ships: open its store, resolve its
 * settings, configure dispensers and manage technician accounts. Nothing else of the
 * gateway's internals is reachable from provisioning.
 */
export { startGateway, type RunningGateway } from './gateway.js';
export { createLogger } from './logger.js';
export { resolveSettings } from './settings.js';
export { Store } from './store/store.js';
export { defaultDispenserConfig } from './store/dispensers.js';
export {
  authenticateTechnician,
  createTechnician,
  MIN_PASSWORD_LENGTH,
  removeTechnician,
  setTechnicianPassword,
} from './ui-api/technician-accounts.js';
export { GatewayError } from './errors.js';
