/**
 * The cloud's public surface for other parts (fleet, bench): start a cloud and put
 * customers, kiosks and adjustments into it the way its own services do.
 */
export { startCloud, type CloudOptions, type RunningCloud } from './cloud.js';
export { createCustomer, findCustomer } from './customers/customers.js';
export { createKiosk } from './kiosks/kiosks.js';
export { recordAdjustment } from './admin/adjustments.js';
export { DEMO_OPERATORS, DEMO_OPERATOR_PASSWORD, seedDemo } from './demo/seed-demo.js';
export { balanceDrift, existingEventIds } from './ledger/ledger.js';
/** The cloud's environment variables (schema), e.g. to check a deployment documents each one. */
export { CloudEnv } from './config.js';
