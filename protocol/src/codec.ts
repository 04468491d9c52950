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

/** Parses and validates one MQTT payload; never throws, whatever arrives. */
export function decodeMessage<S extends z.ZodMiniType>(schema: S, payload: Uint8Array | string): Decoded<z.infer<S>> {
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
  const result = schema.safeParse(json);
  if (!result.success) return { ok: false, code: 'INVALID_MESSAGE', error: describeIssues(result.error.issues) };
  return { ok: true, value: result.data };
}

export function encodeMessage<S extends z.ZodMiniType>(_schema: S, value: z.infer<S>): string {
  return JSON.stringify(value);
}
