import * as z from 'zod/mini';
import { TOKEN_PATTERN } from './keypad-token-format.js';
import { DispenseMillilitres, EpochMs, Id, Millilitres, PhoneInput, Pin } from './schema-parts.js';

/*
 * What a dispenser sends. In a module of their own: the dispenser only serialises these,
 * so its bundle (which imports the package root, `sideEffects: false`) never builds them.
 */

/** Dispenser → gateway: may this customer draw this much water? */
export const AuthRequest = z.object({
  request_id: Id,
  phone: PhoneInput,
  pin: Pin,
  requested_ml: DispenseMillilitres,
  sent_at: z.optional(EpochMs),
});
export type AuthRequest = z.infer<typeof AuthRequest>;

/** Dispenser → gateway while water flows (QoS 0 is enough: only the completion counts). */
export const SessionProgress = z.object({
  session_id: Id,
  delivered_ml: Millilitres,
  pulses: z.int().check(z.minimum(0)),
});
export type SessionProgress = z.infer<typeof SessionProgress>;

/** Dispenser → gateway every 2 minutes. */
export const Heartbeat = z.object({
  firmware: z.string().check(z.maxLength(32)),
  uptime_s: z.int().check(z.minimum(0)),
  rssi_dbm: z.int().check(z.minimum(-127), z.maximum(0)),
  free_heap: z.int().check(z.minimum(0)),
  dispenses: z.int().check(z.minimum(0)),
  delivered_ml: Millilitres,
  errors: z.int().check(z.minimum(0)),
  state: z.optional(z.string().check(z.maxLength(32))),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** Retained; the offline form is the dispenser's MQTT last will. */
export const DispenserStatus = z.object({
  online: z.boolean(),
  firmware: z.optional(z.string().check(z.maxLength(32))),
});
export type DispenserStatus = z.infer<typeof DispenserStatus>;

/** Dispenser → gateway: outcome of a command. */
export const CommandResult = z.object({
  command_id: Id,
  ok: z.boolean(),
  message: z.optional(z.string().check(z.maxLength(200))),
  delivered_ml: z.optional(Millilitres),
  pulses: z.optional(z.int().check(z.minimum(0))),
});
export type CommandResult = z.infer<typeof CommandResult>;

/** Dispenser → gateway on `token/request`: a keypad token typed for the customer with this phone. */
export const TokenRequest = z.object({
  request_id: Id,
  phone: PhoneInput,
  token: z.string().check(z.regex(TOKEN_PATTERN)),
});
export type TokenRequest = z.infer<typeof TokenRequest>;
