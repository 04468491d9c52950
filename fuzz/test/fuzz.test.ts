import { describe, expect, it } from 'vitest';
import { backends } from '@tusafishe/cloud/testing';
import { allBoundaries, fuzz } from '../src/fuzz.js';

/** CI's share of `npm run fuzz`: a few hundred seeded inputs per boundary (the full run is 10,000). */
const RUNS = 200;
const SEED = 20_261_130;

describe.each(backends())('fuzzing every boundary (cloud on $name)', (backend) => {
  it('finds no crash, no 5xx and no broken invariant', async () => {
    const boundaries = allBoundaries(() => backend.fresh());
    const summary = await fuzz(
      backend.name === 'pglite' ? boundaries : boundaries.filter((b) => b.names.includes('cloud-http')),
      RUNS,
      SEED,
    );
    try {
      for (const tally of summary.boundaries) {
        expect(tally, tally.boundary).toMatchObject({ crashes: 0, http_5xx: 0, invariant_failures: 0 });
        expect(tally.inputs, tally.boundary).toBeGreaterThanOrEqual(RUNS);
      }
    } finally {
      await backend.cleanup();
    }
  }, 300_000);
});
