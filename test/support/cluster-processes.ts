// A cluster of real processes for kill and stall tests: a temp dir with the test keys and one
// market, a bus key prefix of its own on the real Redis, and `startRole` for a core or a gateway
// (each `node server/main.ts`). `stop` kills what is left and removes the dir and the keys.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deleteUnder } from '../../bench/lib/redis-scratch.js';
import { startServerProcess, type ServerProcess } from '../../bench/lib/server-process.js';
import { SYM } from './e2e.js';
import { BUS_URL } from './test-cluster.js';
import { TEST_KEYS } from './test-server.js';

export interface ClusterProcesses {
  /** Starts a core (on the shared data dir) or a gateway on the cluster's bus. */
  startRole(role: 'core' | 'gateway'): Promise<ServerProcess>;
  stop(): Promise<void>;
}

export function clusterProcesses(name: string, env: Readonly<Record<string, string>>): ClusterProcesses {
  const root = mkdtempSync(join(tmpdir(), `spotwire-${name}-`));
  const keysFile = join(root, 'keys.json');
  const marketsFile = join(root, 'markets.json');
  writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
  writeFileSync(
    marketsFile,
    JSON.stringify([{ sym: SYM, base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 1000, takerFee: 2000 }]),
  );
  const prefix = `spotwire-${name}-${randomBytes(4).toString('hex')}:`;
  const processes: ServerProcess[] = [];
  return {
    startRole: async (role) => {
      const started = await startServerProcess({
        dataDir: join(root, 'data'),
        keysFile,
        marketsFile,
        snapshotEvery: 1_000_000,
        args: ['--role', role, '--bus', BUS_URL, '--redis-prefix', prefix],
        env,
      });
      processes.push(started);
      return started;
    },
    stop: async () => {
      for (const started of processes) started.kill('SIGKILL');
      await Promise.all(processes.map((p) => p.exited));
      const redis = new Redis(BUS_URL);
      await deleteUnder(redis, prefix);
      redis.disconnect();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
