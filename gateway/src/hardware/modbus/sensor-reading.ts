import type { SensorSpec } from '../config.js';

/**
 * One poll of one sensor. A sensor that did not answer is `silent` with no value:
 * the kiosk never guesses a reading.
 */
export type SensorReading =
  | { sensor: string; status: 'ok'; value: number; unit: string; at: number }
  | { sensor: string; status: 'silent'; value: null; unit: string; at: number; error: string };

/** Register → engineering units; rounded so 523 × 0.1 reads 52.3, not 52.300000000000004. */
export function registerToValue(raw: number, spec: Pick<SensorSpec, 'scale' | 'offset' | 'signed'>): number {
  const signed = spec.signed && raw >= 0x8000 ? raw - 0x10000 : raw;
  return Math.round((signed * spec.scale + spec.offset) * 1e6) / 1e6;
}

/** Engineering units → register, the inverse a sensor (or its simulator) applies. */
export function valueToRegister(value: number, spec: Pick<SensorSpec, 'scale' | 'offset' | 'signed'>): number {
  const raw = Math.round((value - spec.offset) / spec.scale);
  const min = spec.signed ? -0x8000 : 0;
  const max = spec.signed ? 0x7fff : 0xffff;
  const clamped = Math.min(max, Math.max(min, raw));
  return clamped < 0 ? clamped + 0x10000 : clamped;
}

/** Within the spec's ok range (bounds inclusive, an absent bound is open). */
export function inOkRange(value: number, spec: Pick<SensorSpec, 'okMin' | 'okMax'>): boolean {
  return (spec.okMin === undefined || value >= spec.okMin) && (spec.okMax === undefined || value <= spec.okMax);
}
