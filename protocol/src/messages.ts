import * as z from 'zod/mini';
import { DENIAL_CODES } from './denial-reasons.js';
import { FIRMWARE_SIGNATURE_PATTERN } from './firmware-signature.js';
import { TOKEN_OUTCOME_CODES } from './keypad-token-format.js';
import { DispenseMillilitres, EpochMs, FirmwareCounter, Id, KioskId, Millilitres } from './schema-parts.js';
import { HTTP_URL_PATTERN, SESSION_END_REASONS, SESSION_REFUSALS, SHA256_HEX_PATTERN } from './wire-values.js';

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

/** An absolute http(s) URL (a pattern: XS has no `URL` constructor for `z.url()`). */
const HttpUrl = z.string().check(z.maxLength(512), z.regex(HTTP_URL_PATTERN));

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
    sha256: z.string().check(z.regex(SHA256_HEX_PATTERN)),
    size: z.int().check(z.minimum(1)),
    /** Anti-rollback counter and Ed25519 signature of the release (firmware-signature.ts); the dispenser refuses an image without them. */
    counter: z.optional(FirmwareCounter),
    signature: z.optional(z.string().check(z.regex(FIRMWARE_SIGNATURE_PATTERN))),
  }),
]);
export type DispenserCommand = z.infer<typeof DispenserCommand>;

/** Gateway → dispenser on `token/response`. */
export const TokenResponse = z.object({
  request_id: Id,
  outcome: z.enum(TOKEN_OUTCOME_CODES),
  /** LCD text for the outcome (≤ 20 characters). */
  message: z.string().check(z.maxLength(20)),
  /** mL the token added (ADDED) or stands for (ALREADY_ADDED, USED). */
  credit_ml: z.optional(Millilitres),
  /** The customer's balance now, for the LCD. */
  balance_ml: z.optional(z.int()),
  /** WRONG_TOKEN: wrong tokens left before this customer is locked out. */
  attempts_left: z.optional(z.int().check(z.minimum(0))),
});
export type TokenResponse = z.infer<typeof TokenResponse>;
