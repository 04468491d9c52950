import { GatewayError } from '../errors.js';
import type { RecentDispense } from './api-schemas.js';

/** Same bounds as DispenserConfig.pulses_per_litre on the wire. */
const MIN_PULSES_PER_LITRE = 1;
const MAX_PULSES_PER_LITRE = 100_000;

/**
 * New pulses per litre from a reference dispense and what the jug showed. The dispense's
 * own pulse count is used when the dispenser reported it; otherwise it is recovered from
 * the delivered mL, which the dispenser computed with the factor in force.
 */
export function calibratedPulsesPerLitre(
  dispense: Pick<RecentDispense, 'delivered_ml' | 'pulses'>,
  currentPulsesPerLitre: number,
  measuredMl: number,
): { pulses: number; pulsesPerLitre: number } {
  const pulses = dispense.pulses ?? Math.round((dispense.delivered_ml * currentPulsesPerLitre) / 1000);
  const pulsesPerLitre = Math.round((pulses * 1000) / measuredMl);
  if (pulses <= 0 || pulsesPerLitre < MIN_PULSES_PER_LITRE || pulsesPerLitre > MAX_PULSES_PER_LITRE) {
    throw new GatewayError(
      'CALIBRATION_OUT_OF_RANGE',
      pulses,
      measuredMl,
      pulsesPerLitre,
      MIN_PULSES_PER_LITRE,
      MAX_PULSES_PER_LITRE,
    );
  }
  return { pulses, pulsesPerLitre };
}
