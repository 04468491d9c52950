import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (tests beside the code in each part's src/: in-process, seconds)
 * and `system` (each part's test/: real processes, Chromium, the fleet's chaos run).
 * `npm run test:unit` runs the first, `npm test` both.
 */
export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    // Many tests wait on child processes (gateways, Chromium) rather than the CPU, so two
    // workers on two cores finish the suite in 5.5 min instead of 9 (vitest's default is cores − 1).
    maxWorkers: 2,
    // expect.poll's own default (1 s) fails tests on a loaded machine; a poll ends as soon as it passes.
    expect: { poll: { timeout: 20_000 } },
    // Builds (or finds in node_modules/.cache) the migrated PGlite image test clouds start from.
    globalSetup: ['cloud/test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['*/src/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // A worker runs file after file without re-importing zod, fastify, PGlite, the protocol…:
          // import was 240 of 370 s of the lane on a loaded machine, 60 s with this. The unit tests
          // share no module state (no vi.mock; fake timers restored after each test).
          isolate: false,
        },
      },
      {
        extends: true,
        // Generous: these start clouds on embedded Postgres, gateways and browsers, which
        // take many times longer on a loaded machine; a test waits on events, never on time.
        test: { name: 'system', include: ['*/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 },
      },
    ],
  },
});
