/** What one boundary's run found. Invariant failures keep a few examples to reproduce them. */
export interface Tally {
  boundary: string;
  inputs: number;
  crashes: number;
  http_5xx: number;
  invariant_failures: number;
  examples: string[];
}

export function newTally(boundary: string): Tally {
  return { boundary, inputs: 0, crashes: 0, http_5xx: 0, invariant_failures: 0, examples: [] };
}

const MAX_EXAMPLES = 5;

function remember(tally: Tally, what: string, input: unknown): void {
  if (tally.examples.length >= MAX_EXAMPLES) return;
  let shown: string;
  try {
    shown = JSON.stringify(input);
  } catch {
    shown = String(input);
  }
  tally.examples.push(`${what}: ${shown?.slice(0, 400)}`);
}

export function fail(tally: Tally, what: string, input: unknown): void {
  tally.invariant_failures += 1;
  remember(tally, what, input);
}

export function serverError(tally: Tally, status: number, input: unknown, body: string): void {
  tally.http_5xx += 1;
  remember(tally, `HTTP ${status} ${body.slice(0, 200)}`, input);
}

export function crash(tally: Tally, error: unknown, input: unknown): void {
  tally.crashes += 1;
  remember(tally, `crash ${error instanceof Error ? error.stack?.slice(0, 300) : String(error)}`, input);
}

/**
 * Boundaries under fuzz that share real components: starts them, runs `runs` inputs from
 * `seed` at each boundary, stops them. One tally per boundary.
 */
export interface Boundary {
  names: string[];
  run(runs: number, seed: number): Promise<Tally[]>;
}
