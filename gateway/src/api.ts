/**
 * Shapes of the technicians' HTTP API (JSON bodies and the live feed), for the kiosk UI.
 * The UI imports the inferred types only, so nothing of zod reaches the browser bundle.
 */
export * from './ui-api/api-schemas.js';
export * from './firmware/firmware-schemas.js';
