import type { CloudOptions } from '@tusafishe/cloud';
import { cloudBoundary } from './cloud-boundaries.js';
import { gatewayBoundaries } from './gateway-boundaries.js';
import { hardwareBoundaries } from './hardware-boundaries.js';
import { syncBoundaries } from './sync-boundary.js';
import { crash, newTally, type Boundary, type Tally } from './tally.js';

export interface FuzzSummary {
  inputs: number;
  crashes: number;
  http_5xx: number;
  invariant_failures: number;
  boundaries: Tally[];
}

/** Every boundary the fuzzer drives, each with its real components. */
export function allBoundaries(cloudOptions: () => CloudOptions = () => ({})): Boundary[] {
  return [...gatewayBoundaries(), ...hardwareBoundaries(), ...syncBoundaries(), cloudBoundary(cloudOptions)];
}

/**
 * Runs each boundary in turn. An exception or rejection nobody handled while a boundary
 * runs is a crash of that boundary (in the field it would take the process down).
 */
export async function fuzz(boundaries: readonly Boundary[], runs: number, seed: number): Promise<FuzzSummary> {
  const tallies: Tally[] = [];
  for (const boundary of boundaries) {
    // Crashes nobody handled are charged to the first of the boundaries running.
    const unhandled = newTally(boundary.names[0]!);
    const onCrash = (error: unknown): void => crash(unhandled, error, 'unhandled');
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    let results: Tally[] = [];
    try {
      results = await boundary.run(runs, seed);
    } catch (error) {
      crash(unhandled, error, 'boundary aborted');
    } finally {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
    }
    const first = results[0] ?? unhandled;
    if (first !== unhandled) {
      first.crashes += unhandled.crashes;
      first.examples.push(...unhandled.examples);
    }
    tallies.push(first, ...results.slice(1));
  }
  const sum = (key: 'inputs' | 'crashes' | 'http_5xx' | 'invariant_failures'): number =>
    tallies.reduce((total, tally) => total + tally[key], 0);
  return {
    inputs: sum('inputs'),
    crashes: sum('crashes'),
    http_5xx: sum('http_5xx'),
    invariant_failures: sum('invariant_failures'),
    boundaries: tallies,
  };
}
