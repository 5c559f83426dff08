import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `unit`: pure code (engine, protocol, journal format, resilience primitives), no servers or
 * services, well under a minute: `npm run test:unit`. `integration`: everything else, against
 * real uWS, Redis and Postgres, the crash and outage tests among them. `cluster-1`, `cluster-3`:
 * end-to-end suites again, against a cluster. `npm test` runs them all.
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
  'web/test/page-logic.test.ts',
];

/**
 * The end-to-end suites that run unchanged against a cluster (SPOTWIRE_TEST_TOPOLOGY, see
 * test/support/test-server.ts): a core with one gateway, and with three (clients of one test
 * spread over them). Not here: the suites that start their own server processes (reconnect-kill),
 * and with three gateways the private-stream resume, whose pseq is per gateway (docs/SCALING.md).
 */
const CLUSTER_E2E = [
  'test/e2e/account-view.test.ts',
  'test/e2e/conflated-book.test.ts',
  'test/e2e/dead-man-switch.test.ts',
  'test/e2e/heartbeat.test.ts',
  'test/e2e/history.test.ts',
  'test/e2e/isolation.test.ts',
  'test/e2e/market-data.test.ts',
  'test/e2e/money.test.ts',
  'test/e2e/order-status.test.ts',
  'test/e2e/private-resume.test.ts',
  'test/e2e/reconnect-proxy.test.ts',
  'test/e2e/retried-place.test.ts',
  'test/e2e/session.test.ts',
  'test/e2e/trading.test.ts',
];
const PER_GATEWAY = ['test/e2e/private-resume.test.ts', 'test/e2e/reconnect-proxy.test.ts'];

export default defineConfig({
  resolve: {
    // Tests import the client from its source: test/client-package rebuilds the package's dist/
    // while it runs. The page's bundle is built from the package itself (web/vite.config.ts).
    alias: { '@spotwire/client': fileURLToPath(new URL('./protocol/index.ts', import.meta.url)) },
  },
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts', 'web/test/**/*.test.ts'], exclude: UNIT } },
      { extends: true, test: { name: 'cluster-1', include: CLUSTER_E2E, env: { SPOTWIRE_TEST_TOPOLOGY: 'cluster-1' } } },
      {
        extends: true,
        test: { name: 'cluster-3', include: CLUSTER_E2E, exclude: PER_GATEWAY, env: { SPOTWIRE_TEST_TOPOLOGY: 'cluster-3' } },
      },
    ],
  },
});
