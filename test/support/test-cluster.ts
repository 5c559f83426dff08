// A cluster in one test process: a core (startServer with --role core) and edge gateways
// (startEdgeGateway) on ephemeral ports of 127.0.0.1, over the real Redis at 127.0.0.1:6379 with
// a key prefix of their own, removed at stop.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteUnder } from '../../bench/lib/redis-scratch.js';
import { pino } from 'pino';
import { startEdgeGateway, type RunningEdge } from '../../server/cluster/edge-server.js';
import type { ServerConfig } from '../../server/config.js';
import { rmSync } from 'node:fs';
import { startServer, type RunningServer } from '../../server/server.js';
import { startSingleTestServer, type TestServer } from './single-server.js';

export const BUS_URL = process.env.BUS_URL ?? 'redis://127.0.0.1:6379';

export interface TestEdge {
  readonly edge: RunningEdge;
  readonly url: string;
  readonly httpUrl: string;
}

export interface TestCluster {
  /** The core as started; after restartCore(), `coreServer()` is the running one. */
  readonly core: TestServer;
  coreServer(): RunningServer;
  /** Stops the core (gracefully, or not at all: `crash` leaves it to the test) and starts it again on its data dir. */
  restartCore(options?: { downMs?: number; beforeStart?: () => Promise<void> }): Promise<RunningServer>;
  /** Stops the core and leaves it down. */
  stopCore(): Promise<void>;
  readonly edges: TestEdge[];
  readonly prefix: string;
  /** Starts one more edge gateway on the same bus. */
  addEdge(): Promise<TestEdge>;
  stop(): Promise<void>;
}

export async function startTestCluster(gateways: number, overrides: Partial<ServerConfig> = {}): Promise<TestCluster> {
  const prefix = `spotwire-test-${randomBytes(4).toString('hex')}:`;
  const core = await startSingleTestServer({ role: 'core', busUrl: BUS_URL, redisPrefix: prefix, ...overrides });
  const edges: TestEdge[] = [];
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const addEdge = async (): Promise<TestEdge> => {
    const config: ServerConfig = { ...core.config, role: 'gateway', port: 0 };
    const edge = await startEdgeGateway(config, logger);
    const started = { edge, url: `ws://127.0.0.1:${edge.port}/ws`, httpUrl: `http://127.0.0.1:${edge.port}` };
    edges.push(started);
    return started;
  };
  for (let i = 0; i < gateways; i++) await addEdge();
  let running: RunningServer | null = core.server;
  const stopCore = async (): Promise<void> => {
    await running?.close();
    running = null;
  };
  return {
    core,
    edges,
    prefix,
    addEdge,
    coreServer: () => running!,
    stopCore,
    restartCore: async (options = {}) => {
      await stopCore();
      if (options.downMs) await new Promise((resolve) => setTimeout(resolve, options.downMs));
      await options.beforeStart?.();
      running = await startServer(core.config, logger);
      return running;
    },
    stop: async () => {
      for (const { edge } of edges) await edge.close();
      await running?.close().catch(() => undefined);
      rmSync(core.dir, { recursive: true, force: true });
      const redis = new Redis(core.config.busUrl!, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect().catch(() => undefined);
      await deleteUnder(redis, prefix).catch(() => undefined);
      redis.disconnect();
    },
  };
}
