import type * as z from 'zod/mini';
import { MAX_PAYLOAD_BYTES } from './topics.js';

export type Decoded<T> =
  | { ok: true; value: T }
  | { ok: false; code: 'PAYLOAD_TOO_LARGE' | 'INVALID_JSON' | 'INVALID_MESSAGE'; error: string };

/** Describes validation issues as `field: problem`, the form every edge reports. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(message)'}: ${issue.message}`)
    .join('; ');
}

/** A validator without a schema library: the value, or `field: problem` (dispenser-inbound.ts). */
export type Check<T> = (json: unknown) => { ok: true; value: T } | { ok: false; error: string };

/** Parses and validates one MQTT payload; never throws, whatever arrives. */
export function decodeMessage<S extends z.ZodMiniType>(schema: S, payload: Uint8Array | string): Decoded<z.infer<S>> {
  return decodeChecked((json) => {
    const result = schema.safeParse(json);
    return result.success
      ? { ok: true, value: result.data }
      : { ok: false, error: describeIssues(result.error.issues) };
  }, payload);
}

/** As `decodeMessage`, with a compact validator instead of a zod schema (the dispenser's). */
export function decodeChecked<T>(check: Check<T>, payload: Uint8Array | string): Decoded<T> {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > MAX_PAYLOAD_BYTES) {
    return { ok: false, code: 'PAYLOAD_TOO_LARGE', error: `payload of ${size} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : new TextDecoder().decode(payload));
  } catch {
    return { ok: false, code: 'INVALID_JSON', error: 'payload is not JSON' };
  }
  const result = check(json);
  return result.ok ? result : { ok: false, code: 'INVALID_MESSAGE', error: result.error };
}

export function encodeMessage<S extends z.ZodMiniType>(_schema: S, value: z.infer<S>): string {
  return JSON.stringify(value);
}
