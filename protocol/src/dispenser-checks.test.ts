import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { DENIAL_CODES } from './denial-reasons.js';
import {
  checkAuthResponse,
  checkDispenserCommand,
  checkDispenserConfig,
  checkSessionAnswer,
  checkSessionComplete,
  checkTokenResponse,
} from './dispenser-checks.js';
import type { Check } from './codec.js';
import { TOKEN_OUTCOME_CODES } from './keypad-token-format.js';
import {
  AuthResponse,
  DispenserCommand,
  DispenserConfig,
  SessionAnswer,
  SessionComplete,
  TokenResponse,
} from './messages.js';
import { SESSION_END_REASONS, SESSION_REFUSALS } from './wire-values.js';

/*
 * The dispenser's validators must accept exactly what the zod schemas accept, with the same
 * output: every field of every valid message is replaced by each value below (and removed),
 * around every bound and pattern the schemas have, and both must agree on the result.
 */

const id = '0190d7a2-3b4c-7d8e-9f01-23456789abcd';
const hex64 = 'a'.repeat(64);
const INTERESTING: unknown[] = [
  null,
  true,
  false,
  {},
  [],
  ...[0, -1, 1, 1.5, 99, 100, 999, 1000, 30_000, 30_001, 100_000, 100_001, 120_000, 120_001],
  ...[1e9, 1e9 + 1, 0x7fffffff, 0x80000000, 2 ** 53 - 1, 2 ** 53, -(2 ** 53 - 1), -(2 ** 53), 1e300],
  ...['', 'x', '1', '1000', 'x'.repeat(20), 'x'.repeat(21), 'x'.repeat(32), 'x'.repeat(33), 'K-1_a'],
  ...[id, id.toUpperCase(), '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
  ...['0190d7a2-3b4c-0d8e-9f01-23456789abcd', '0190d7a2-3b4c-7d8e-1f01-23456789abcd', `${id} `, 'not-a-uuid'],
  ...['http://10.0.0.1:8080/firmware/x.bin', 'https://[fe80::1]/f', 'http://gw', 'ftp://gw/x', 'http://', 'http://a b'],
  ...[`http://gw/${'a'.repeat(502)}`, `http://gw/${'a'.repeat(503)}`, hex64, hex64.toUpperCase(), hex64.slice(1)],
  ...[`${'A'.repeat(86)}==`, `${'A'.repeat(86)}=`, 'v1.2.3'],
  ...[
    ...DENIAL_CODES,
    ...TOKEN_OUTCOME_CODES,
    'wrong_pin',
    ...SESSION_END_REASONS,
    ...SESSION_REFUSALS,
    'valve_test',
    'reboot',
    'ota',
  ],
  ...[[1000], [1, 100_000], [1000, 1000, 1000, 1000], [1000, 1000, 1000, 1000, 1000], [0], ['1000'], [1.5], [null]],
];

const ack = { session_id: id, event_id: id, recorded_ml: 1000, balance_ml: 4000 };
const cases: { name: string; schema: z.ZodMiniType; check: Check<unknown>; valid: object[] }[] = [
  {
    name: 'AuthResponse',
    schema: AuthResponse,
    check: checkAuthResponse,
    valid: [
      { request_id: id, approved: true, session_id: id, approved_ml: 1000, balance_ml: 0, hold_expires_at: 1 },
      { request_id: id, approved: false, reason: 'WRONG_PIN', message: 'Wrong PIN', attempts_left: 2 },
      { request_id: id, approved: false, reason: 'TANK_LOW', message: 'Tank empty' },
    ],
  },
  {
    name: 'SessionAnswer',
    schema: SessionAnswer,
    check: checkSessionAnswer,
    valid: [ack, { session_id: id, refused: 'UNKNOWN_SESSION' }, { ...ack, refused: 'SESSION_MISMATCH' }],
  },
  {
    name: 'DispenserConfig',
    schema: DispenserConfig,
    check: checkDispenserConfig,
    valid: [
      {
        kiosk_id: 'K1',
        pulses_per_litre: 450,
        presets_ml: [1000, 5000],
        max_ml: 20_000,
        no_flow_timeout_ms: 10_000,
        enabled: true,
      },
    ],
  },
  {
    name: 'DispenserCommand',
    schema: DispenserCommand,
    check: checkDispenserCommand,
    valid: [
      { command_id: id, type: 'valve_test', duration_ms: 2000 },
      { command_id: id, type: 'reboot' },
      { command_id: id, type: 'ota', version: '1.2.0', url: 'http://10.0.0.1/firmware/x.bin', sha256: hex64, size: 9 },
      {
        command_id: id,
        type: 'ota',
        version: '1.2.0',
        url: 'http://10.0.0.1/firmware/x.bin',
        sha256: hex64,
        size: 9,
        counter: 3,
        signature: `${'Ab+/'.repeat(21)}AB==`,
      },
    ],
  },
  {
    name: 'SessionComplete',
    schema: SessionComplete,
    check: checkSessionComplete,
    valid: [{ session_id: id, request_id: id, delivered_ml: 1000, pulses: 450, end_reason: 'power_loss', ended_at: 1 }],
  },
  {
    name: 'TokenResponse',
    schema: TokenResponse,
    check: checkTokenResponse,
    valid: [
      { request_id: id, outcome: 'ADDED', message: 'Credit added', credit_ml: 100_000, balance_ml: -5 },
      { request_id: id, outcome: 'WRONG_TOKEN', message: 'Wrong token', attempts_left: 0 },
    ],
  },
];

/** Every field any variant of the schema names (objects, unions, discriminated unions). */
function fieldNames(schema: z.ZodMiniType): string[] {
  const def = schema._zod.def as { shape?: Record<string, unknown>; options?: z.ZodMiniType[] };
  if (def.shape) return Object.keys(def.shape);
  return [...new Set((def.options ?? []).flatMap(fieldNames))];
}

function variants(valid: object[], fields: string[]): unknown[] {
  const out: unknown[] = [...valid, null, [], 'x', 1, true];
  for (const base of valid) {
    for (const field of [...fields, 'extra']) {
      const { [field]: _dropped, ...without } = base as Record<string, unknown>;
      out.push(without, ...INTERESTING.map((value) => ({ ...base, [field]: value })));
    }
  }
  return out;
}

/** Both agree on one input: accepted by both with the same output, or rejected by both. */
function agree(schema: z.ZodMiniType, check: Check<unknown>, input: unknown): boolean {
  const expected = schema.safeParse(input);
  const actual = check(input);
  expect({ input, ok: actual.ok }).toEqual({ input, ok: expected.success });
  if (actual.ok && expected.success) expect(actual.value).toStrictEqual(expected.data);
  return actual.ok;
}

describe('the dispenser’s validators agree with the zod schemas', () => {
  for (const { name, schema, check, valid } of cases) {
    it(`${name}, several fields changed at once (fast-check, seeded)`, () => {
      const fields = [...fieldNames(schema), 'extra'];
      const value = fc.oneof(fc.constantFrom(...INTERESTING), fc.jsonValue());
      fc.assert(
        fc.property(fc.constantFrom(...valid), fc.dictionary(fc.constantFrom(...fields), value), (base, changes) => {
          agree(schema, check, { ...base, ...changes });
        }),
        { numRuns: 300, seed: 20_261_130 },
      );
    });

    it(`${name}, each field in turn on both sides of its bounds`, () => {
      const inputs = variants(valid, fieldNames(schema));
      let accepted = 0;
      for (const input of inputs) {
        if (agree(schema, check, input)) accepted++;
        else expect(check(input)).toMatchObject({ error: expect.stringMatching(/^[\w.()]+: /) });
      }
      // Many inputs on each side of the bounds.
      expect(accepted).toBeGreaterThan(100);
      expect(inputs.length - accepted).toBeGreaterThan(100);
    });
  }

  it('names the field that is wrong', () => {
    expect(checkDispenserConfig({ ...cases[2]?.valid[0], max_ml: 0 })).toEqual({
      ok: false,
      error: 'max_ml: expected 1..100000',
    });
    expect(checkDispenserCommand({ command_id: id, type: 'format' })).toMatchObject({ error: /^type: / });
  });
});
