/** Pulses at which `ml` have flowed (the valve closes on this pulse). */
export function pulsesFor(ml: number, pulsesPerLitre: number): number {
  return Math.ceil((ml * pulsesPerLitre) / 1000);
}

/**
 * Millilitres measured by `pulses`: pulses × 1000 / pulses_per_litre, rounded down and
 * never above what was approved (the last pulse may overshoot by less than one pulse).
 */
export function deliveredMillilitres(pulses: number, pulsesPerLitre: number, approvedMl: number): number {
  return Math.min(approvedMl, Math.floor((pulses * 1000) / pulsesPerLitre));
}
