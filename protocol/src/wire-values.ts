/*
 * Values of the wire contract that need no schema library: the zod schemas (messages.ts)
 * and the dispenser's compact validators (dispenser-inbound.ts) both read them, so the
 * firmware bundle gets them without building any schema.
 */

export const SESSION_END_REASONS = [
  'target_reached',
  'cancelled',
  'no_flow',
  'gateway_lost',
  'power_loss',
  'error',
] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

/** Why the gateway refuses a completion: it holds no such session of this dispenser. */
export const SESSION_REFUSALS = ['UNKNOWN_SESSION', 'SESSION_MISMATCH'] as const;

/** How often a dispenser sends its `heartbeat`. */
export const HEARTBEAT_INTERVAL_MS = 120_000;

/**
 * An absolute http(s) URL, checked by pattern: `z.url()` calls the `URL` constructor, which
 * Moddable's XS runtime on the dispenser does not have (every OTA command would be dropped).
 */
export const HTTP_URL_PATTERN = /^https?:\/\/(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?(?:[/?#]\S*)?$/;
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
