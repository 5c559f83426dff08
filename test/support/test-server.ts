// The server the end-to-end tests talk to: a single process by default; with
// SPOTWIRE_TEST_TOPOLOGY=cluster-1 or cluster-3 (the `cluster` vitest project), a core and that
// many edge gateways, so the same suites run unchanged against a cluster (docs/SCALING.md). Then
// `url` names the gateways in turn, so the clients of one test spread over them, and `server` is
// the core (its engine is the one every gateway replicates). A test that injects hooks (a failing
// disk, a clock) always gets a single process.
import type { ServerConfig } from '../../server/config.js';
import type { ServerHooks } from '../../server/server.js';
import { startSingleTestServer, type TestServer } from './single-server.js';
import { startTestCluster } from './test-cluster.js';

export { TEST_FUNDING, TEST_FUNDING_DEPOSITS, TEST_KEYS, type TestServer } from './single-server.js';

export async function startTestServer(overrides: Partial<ServerConfig> = {}, hooks: ServerHooks = {}): Promise<TestServer> {
  const topology = /^cluster-(\d+)$/.exec(process.env.SPOTWIRE_TEST_TOPOLOGY ?? '');
  if (topology === null || Object.keys(hooks).length > 0) return startSingleTestServer(overrides, hooks);
  const cluster = await startTestCluster(Number(topology[1]), overrides);
  let next = 0;
  const edges = cluster.edges;
  return {
    get server() {
      return cluster.coreServer();
    },
    config: cluster.core.config,
    port: edges[0]!.edge.port,
    get url() {
      return edges[next++ % edges.length]!.url;
    },
    get httpUrl() {
      return edges[0]!.httpUrl;
    },
    dir: cluster.core.dir,
    stop: () => cluster.stop(),
  };
}
