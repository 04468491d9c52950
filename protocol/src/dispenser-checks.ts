import type { Check } from './codec.js';
import { DENIAL_CODES } from './denial-reasons.js';
import { FIRMWARE_COUNTER_MAX, FIRMWARE_SIGNATURE_PATTERN } from './firmware-signature.js';
import { TOKEN_OUTCOME_CODES } from './keypad-token-format.js';
import type {
  AuthResponse,
  DispenserCommand,
  DispenserConfig,
  SessionAnswer,
  SessionComplete,
  TokenResponse,
} from './messages.js';
import { HTTP_URL_PATTERN, SESSION_END_REASONS, SESSION_REFUSALS, SHA256_HEX_PATTERN } from './wire-values.js';

/*
 * The dispenser's validators: what it receives (and reads back from its flash) checked by
 * plain functions instead of the zod schemas. On Moddable's XS the schemas the firmware
 * imported took 96 % of its RAM when the module loaded (bench/RESULTS.md); functions stay in
 * flash as bytecode. `dispenser-checks.test.ts` proves each accepts and rejects exactly what
 * its zod schema does, with the same output, so messages.ts stays the single definition.
 */

/** A value that fails its check; thrown by the readers and caught once by `checked`. */
class Invalid {
  constructor(readonly error: string) {}
}

function fail(at: string, problem: string): never {
  throw new Invalid(`${at}: ${problem}`);
}

/** Turns a reader that throws on the first bad field into a `Check`. */
export function checked<T>(read: (json: unknown) => T): Check<T> {
  return (json) => {
    try {
      return { ok: true, value: read(json) };
    } catch (error) {
      if (error instanceof Invalid) return { ok: false, error: error.error };
      throw error;
    }
  };
}

export type Fields = Readonly<Record<string, unknown>>;

/** A JSON object (not null, not an array), as zod's `z.object` takes it. */
export function readFields(value: unknown, at = '(message)'): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, 'expected object');
  return value as Fields;
}

/** zod's `z.int()`: a safe integer, here with optional bounds. */
export function readInt(value: unknown, at: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value)) fail(at, 'expected int');
  const int = value as number;
  if (int < min || int > max) fail(at, `expected ${min}..${max}`);
  return int;
}

export function readText(value: unknown, at: string, maxLength = Number.POSITIVE_INFINITY, pattern?: RegExp): string {
  if (typeof value !== 'string') fail(at, 'expected string');
  if (value.length > maxLength) fail(at, `longer than ${maxLength}`);
  if (pattern && !pattern.test(value)) fail(at, 'invalid format');
  return value;
}

/** zod's `z.uuid()`: RFC 9562 versions 1–8 with the variant bits, or the nil and max UUIDs. */
const UUID =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

export function readUuid(value: unknown, at: string): string {
  return readText(value, at, undefined, UUID);
}

function readOneOf<T extends string>(value: unknown, at: string, values: readonly T[]): T {
  if (!(values as readonly unknown[]).includes(value)) fail(at, `expected one of ${values.join(', ')}`);
  return value as T;
}

function readBoolean(value: unknown, at: string): boolean {
  if (typeof value !== 'boolean') fail(at, 'expected boolean');
  return value;
}

export function readList<T>(
  value: unknown,
  at: string,
  item: (value: unknown, at: string) => T,
  min = 0,
  max = Number.POSITIVE_INFINITY,
): T[] {
  if (!Array.isArray(value)) fail(at, 'expected array');
  if (value.length < min || value.length > max) fail(at, `expected ${min}..${max} items`);
  return value.map((entry, index) => item(entry, `${at}.${index}`));
}

/** `DispenseMillilitres`: one dispense is 1 mL … 100 L. */
const dispenseMl = (value: unknown, at: string) => readInt(value, at, 1, 100_000);
/** `Millilitres`. */
const millilitres = (value: unknown, at: string) => readInt(value, at, 0, 1_000_000_000);

/** Gateway → dispenser on `auth/response` (messages.ts `AuthResponse`). */
export const checkAuthResponse = checked((json): AuthResponse => {
  const m = readFields(json);
  if (m.approved === true) {
    return {
      request_id: readUuid(m.request_id, 'request_id'),
      approved: true,
      session_id: readUuid(m.session_id, 'session_id'),
      approved_ml: dispenseMl(m.approved_ml, 'approved_ml'),
      balance_ml: readInt(m.balance_ml, 'balance_ml'),
      hold_expires_at: readInt(m.hold_expires_at, 'hold_expires_at', 0),
    };
  }
  if (m.approved !== false) fail('approved', 'expected true or false');
  return {
    request_id: readUuid(m.request_id, 'request_id'),
    approved: false,
    reason: readOneOf(m.reason, 'reason', DENIAL_CODES),
    message: readText(m.message, 'message', 20),
    ...(m.attempts_left === undefined ? {} : { attempts_left: readInt(m.attempts_left, 'attempts_left') }),
  };
});

/** Gateway → dispenser on `session/ack` (`SessionAnswer`: an ack, else a refusal). */
export const checkSessionAnswer = checked((json): SessionAnswer => {
  const m = readFields(json);
  const ack = checked(
    (): SessionAnswer => ({
      session_id: readUuid(m.session_id, 'session_id'),
      event_id: readUuid(m.event_id, 'event_id'),
      recorded_ml: millilitres(m.recorded_ml, 'recorded_ml'),
      balance_ml: readInt(m.balance_ml, 'balance_ml'),
    }),
  )(m);
  if (ack.ok) return ack.value;
  return {
    session_id: readUuid(m.session_id, 'session_id'),
    refused: readOneOf(m.refused, 'refused', SESSION_REFUSALS),
  };
});

/** Gateway → dispenser on `config`, retained (`DispenserConfig`). */
export const checkDispenserConfig = checked((json): DispenserConfig => {
  const m = readFields(json);
  return {
    kiosk_id: readText(m.kiosk_id, 'kiosk_id', undefined, /^[A-Za-z0-9_-]{1,32}$/),
    pulses_per_litre: readInt(m.pulses_per_litre, 'pulses_per_litre', 1, 100_000),
    presets_ml: readList(m.presets_ml, 'presets_ml', dispenseMl, 1, 4),
    max_ml: dispenseMl(m.max_ml, 'max_ml'),
    no_flow_timeout_ms: readInt(m.no_flow_timeout_ms, 'no_flow_timeout_ms', 1000, 120_000),
    enabled: readBoolean(m.enabled, 'enabled'),
  };
});

/** Gateway → dispenser on `command`: a technician's action (`DispenserCommand`). */
export const checkDispenserCommand = checked((json): DispenserCommand => {
  const m = readFields(json);
  const command_id = readUuid(m.command_id, 'command_id');
  switch (m.type) {
    case 'valve_test':
      return { command_id, type: 'valve_test', duration_ms: readInt(m.duration_ms, 'duration_ms', 100, 30_000) };
    case 'reboot':
      return { command_id, type: 'reboot' };
    case 'ota':
      return {
        command_id,
        type: 'ota',
        version: readText(m.version, 'version', 32),
        url: readText(m.url, 'url', 512, HTTP_URL_PATTERN),
        sha256: readText(m.sha256, 'sha256', undefined, SHA256_HEX_PATTERN),
        size: readInt(m.size, 'size', 1),
        ...(m.counter === undefined ? {} : { counter: readInt(m.counter, 'counter', 0, FIRMWARE_COUNTER_MAX) }),
        ...(m.signature === undefined
          ? {}
          : { signature: readText(m.signature, 'signature', undefined, FIRMWARE_SIGNATURE_PATTERN) }),
      };
    default:
      return fail('type', 'expected valve_test, reboot or ota');
  }
});

/** A completion as the dispenser wrote it to flash itself (`SessionComplete`). */
export const checkSessionComplete = checked((json): SessionComplete => {
  const m = readFields(json);
  return {
    session_id: readUuid(m.session_id, 'session_id'),
    request_id: readUuid(m.request_id, 'request_id'),
    delivered_ml: millilitres(m.delivered_ml, 'delivered_ml'),
    pulses: readInt(m.pulses, 'pulses', 0),
    end_reason: readOneOf(m.end_reason, 'end_reason', SESSION_END_REASONS),
    ended_at: readInt(m.ended_at, 'ended_at', 0),
  };
});

/** Gateway → dispenser on `token/response` (`TokenResponse`). */
export const checkTokenResponse = checked((json): TokenResponse => {
  const m = readFields(json);
  return {
    request_id: readUuid(m.request_id, 'request_id'),
    outcome: readOneOf(m.outcome, 'outcome', TOKEN_OUTCOME_CODES),
    message: readText(m.message, 'message', 20),
    ...(m.credit_ml === undefined ? {} : { credit_ml: millilitres(m.credit_ml, 'credit_ml') }),
    ...(m.balance_ml === undefined ? {} : { balance_ml: readInt(m.balance_ml, 'balance_ml') }),
    ...(m.attempts_left === undefined ? {} : { attempts_left: readInt(m.attempts_left, 'attempts_left', 0) }),
  };
});
