import * as z from 'zod/mini';
import { DENIAL_CODES } from './denial-reasons.js';
import { FirmwareCounter } from './firmware-signature.js';
import { DispenseMillilitres, EpochMs, Id, KioskId, Millilitres } from './schema-parts.js';

export const AuthApproved = z.object({
  request_id: Id,
  approved: z.literal(true),
  session_id: Id,
  approved_ml: DispenseMillilitres,
  /** Credit left once this dispense is held, for the LCD. */
  balance_ml: z.int(),
  /** The gateway releases the hold after this instant unless the session reports. */
  hold_expires_at: EpochMs,
});
export const AuthDenied = z.object({
  request_id: Id,
  approved: z.literal(false),
  reason: z.enum(DENIAL_CODES),
  /** LCD text for the reason (≤ 20 characters). */
  message: z.string().check(z.maxLength(20)),
  /** Set for WRONG_PIN: attempts left before lockout. */
  attempts_left: z.optional(z.int()),
});
/** Gateway → dispenser. */
export const AuthResponse = z.discriminatedUnion('approved', [AuthApproved, AuthDenied]);
export type AuthApproved = z.infer<typeof AuthApproved>;
export type AuthDenied = z.infer<typeof AuthDenied>;
export type AuthResponse = z.infer<typeof AuthResponse>;

export const SESSION_END_REASONS = [
  'target_reached',
  'cancelled',
  'no_flow',
  'gateway_lost',
  'power_loss',
  'error',
] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

/** Dispenser → gateway once the valve is closed; repeated until acknowledged. */
export const SessionComplete = z.object({
  session_id: Id,
  request_id: Id,
  delivered_ml: Millilitres,
  pulses: z.int().check(z.minimum(0)),
  end_reason: z.enum(SESSION_END_REASONS),
  ended_at: EpochMs,
});
export type SessionComplete = z.infer<typeof SessionComplete>;

/** Gateway → dispenser: the completion is durable in the ledger; the dispenser may forget it. */
export const SessionAck = z.object({
  session_id: Id,
  event_id: Id,
  recorded_ml: Millilitres,
  balance_ml: z.int(),
});
export type SessionAck = z.infer<typeof SessionAck>;

/** Why the gateway refuses a completion: it holds no such session of this dispenser. */
export const SESSION_REFUSALS = ['UNKNOWN_SESSION', 'SESSION_MISMATCH'] as const;
/**
 * Gateway → dispenser, on `session/ack`: the completion will never be recorded, so the
 * dispenser stops sending it but keeps it; the gateway keeps a copy for the technician.
 */
export const SessionRefused = z.object({
  session_id: Id,
  refused: z.enum(SESSION_REFUSALS),
});
export type SessionRefused = z.infer<typeof SessionRefused>;
/** Everything the gateway answers a completion with. */
export const SessionAnswer = z.union([SessionAck, SessionRefused]);
export type SessionAnswer = z.infer<typeof SessionAnswer>;

/** How often a dispenser sends its `heartbeat`. */
export const HEARTBEAT_INTERVAL_MS = 120_000;

/** Gateway → dispenser, retained: per-dispenser settings. */
export const DispenserConfig = z.object({
  kiosk_id: KioskId,
  pulses_per_litre: z.int().check(z.minimum(1), z.maximum(100_000)),
  presets_ml: z.array(DispenseMillilitres).check(z.minLength(1), z.maxLength(4)),
  max_ml: DispenseMillilitres,
  no_flow_timeout_ms: z.int().check(z.minimum(1000), z.maximum(120_000)),
  enabled: z.boolean(),
});
export type DispenserConfig = z.infer<typeof DispenserConfig>;

/**
 * An absolute http(s) URL, checked by pattern: `z.url()` calls the `URL` constructor, which
 * Moddable's XS runtime on the dispenser does not have (every OTA command would be dropped).
 */
const HttpUrl = z
  .string()
  .check(z.maxLength(512), z.regex(/^https?:\/\/(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?(?:[/?#]\S*)?$/));

/** Gateway → dispenser: a technician's action. */
export const DispenserCommand = z.discriminatedUnion('type', [
  z.object({
    command_id: Id,
    type: z.literal('valve_test'),
    duration_ms: z.int().check(z.minimum(100), z.maximum(30_000)),
  }),
  z.object({ command_id: Id, type: z.literal('reboot') }),
  z.object({
    command_id: Id,
    type: z.literal('ota'),
    version: z.string().check(z.maxLength(32)),
    url: HttpUrl,
    sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
    size: z.int().check(z.minimum(1)),
    /** Anti-rollback counter and Ed25519 signature of the release (firmware-signature.ts); the dispenser refuses an image without them. */
    counter: z.optional(FirmwareCounter),
    signature: z.optional(z.string().check(z.regex(/^[A-Za-z0-9+/]{86}==$/))),
  }),
]);
export type DispenserCommand = z.infer<typeof DispenserCommand>;
