/**
 * The wire contract, safe for every runtime (device, browser, Node). Node-only pieces
 * live in subpaths: `@tusafishe/protocol/secret-hash`, `@tusafishe/protocol/phone`; the
 * dispenser's schema-free validators in `@tusafishe/protocol/dispenser`.
 */
export * from './topics.js';
export * from './denial-reasons.js';
export * from './errors.js';
export * from './ids.js';
export * from './schema-parts.js';
export * from './wire-values.js';
export * from './keypad-token-format.js';
export * from './messages.js';
export * from './firmware-signature.js';
export * from './dispenser-reports.js';
export * from './codec.js';
export * from './ledger-event.js';
export * from './customer.js';
export * from './sync.js';
export * from './kiosk-status.js';
export * from './demo-customers.js';
export * from './time-zone.js';
