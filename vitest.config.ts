import { defineConfig } from 'vitest/config';

/**
 * `unit`: pure code (engine, protocol, journal format, resilience primitives), no servers or
 * services, well under a minute: `npm run test:unit`. `integration`: everything else, against
 * real uWS, Redis and Postgres, the crash and outage tests among them. `npm test` runs both.
 */
const UNIT = [
  'test/engine/**/*.test.ts',
  'test/protocol/**/*.test.ts',
  'test/journal/command-codec.test.ts',
  'test/journal/journal-format.test.ts',
  'test/journal/data-format.test.ts',
  'test/gateway/command-tally.test.ts',
  'test/gateway/unlabeled-histogram.test.ts',
  'test/persistence/breaker.test.ts',
  'test/persistence/retry.test.ts',
  'test/persistence/deadline.test.ts',
  'test/replay/cli-args.test.ts',
  'test/market-data/**/*.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
});
