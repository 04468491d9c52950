import fc from 'fast-check';

/** Any JSON value, deep and odd (unicode, huge numbers, nulls) – what an attacker would send. */
export const anyJson = fc.jsonValue({ maxDepth: 4 });

/** Strings a human, a modem or an attacker might type: digits, names, separators, control characters. */
export const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.stringMatching(/^[0-9*#+ ]{0,16}$/),
  fc.constantFrom('', ' ', '0', '-1', '1e309', 'NaN', 'null', '\u0000', '%00', '../../etc/passwd', "' OR 1=1 --"),
);

/** A number of any shape JSON allows, biased to the edges. */
export const number = fc.oneof(
  fc.integer(),
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER + 2),
);

/** A value for a field we know the name of: right type, wrong type, missing. */
export const fieldValue = fc.oneof(text, number, fc.boolean(), fc.constant(null), anyJson);

/** An object with (some of) these fields, each any value, plus stray ones. */
export function recordOf(fields: readonly string[], values: fc.Arbitrary<unknown> = fieldValue) {
  return fc
    .tuple(
      fc.dictionary(fc.constantFrom(...fields), values, { maxKeys: fields.length }),
      fc.dictionary(fc.string({ maxLength: 8 }), fieldValue, { maxKeys: 2 }),
    )
    .map(([known, stray]) => ({ ...stray, ...known }));
}

/** Form/query fields: strings only. */
export function formOf(fields: readonly string[]) {
  return fc.dictionary(fc.constantFrom(...fields), text, { maxKeys: fields.length });
}
