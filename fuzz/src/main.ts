/**
 * `npm run fuzz`: property-based inputs (fast-check) at every boundary of gateway and cloud.
 * FUZZ_RUNS inputs per boundary (default 10,000), FUZZ_SEED for a reproducible run,
 * FUZZ_ONLY=name,name to pick boundaries. One JSON line per boundary, the summary line last.
 */
import { allBoundaries, fuzz } from './fuzz.js';

const runs = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const only = process.env['FUZZ_ONLY']?.split(',');
const boundaries = allBoundaries().filter((boundary) => !only || boundary.names.some((name) => only.includes(name)));
const started = performance.now();
const summary = await fuzz(boundaries, runs, seed);
for (const tally of summary.boundaries) console.log(JSON.stringify(tally));
const { boundaries: _, ...totals } = summary;
console.log(
  JSON.stringify({
    ...totals,
    seed,
    runs_per_boundary: runs,
    seconds: Math.round((performance.now() - started) / 1000),
  }),
);
process.exit(totals.crashes + totals.http_5xx + totals.invariant_failures === 0 ? 0 : 1);
