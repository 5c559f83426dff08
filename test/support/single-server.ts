// Starts a real single-process Spotwire server in-process on an ephemeral port of 127.0.0.1, with
// its own keys (test-server.ts picks it, or a cluster, for the tests).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, type ApiKey, type ServerConfig } from '../../server/config.js';
import { startServer, type RunningServer, type ServerHooks } from '../../server/server.js';

/** Ample for any test order on the demo markets, and far below the per-asset supply cap. */
export const TEST_FUNDING: Readonly<Record<string, number>> = { BTC: 1e12, ETH: 1e12, USD: 1e14 };

export const TEST_KEYS: readonly ApiKey[] = [
  { token: 'token-alice', account: 'alice', role: 'trader', deposit: TEST_FUNDING },
  { token: 'token-alice-2', account: 'alice', role: 'trader', deposit: {} },
  { token: 'token-bob', account: 'bob', role: 'trader', deposit: TEST_FUNDING },
  { token: 'token-carol', account: 'carol', role: 'trader', deposit: TEST_FUNDING },
  { token: 'token-admin', account: 'ops', role: 'admin', deposit: {} },
];

/** The deposits a fresh data dir journals at start for TEST_KEYS (seqs 1..this, in one record). */
export const TEST_FUNDING_DEPOSITS = TEST_KEYS.reduce((n, key) => n + Object.keys(key.deposit).length, 0);

export interface TestServer {
  readonly server: RunningServer;
  readonly config: ServerConfig;
  /** The port clients connect to (in a cluster: the first gateway's). */
  readonly port: number;
  readonly url: string;
  readonly httpUrl: string;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startSingleTestServer(overrides: Partial<ServerConfig> = {}, hooks: ServerHooks = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-test-'));
  const keysFile = join(dir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
  const base = loadConfig(['--port', '0', '--keys', keysFile, '--data-dir', join(dir, 'data')], {});
  const config: ServerConfig = { ...base, host: '127.0.0.1', ...overrides };
  const server = await startServer(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), hooks);
  return {
    server,
    config,
    port: server.port,
    url: `ws://127.0.0.1:${server.port}/ws`,
    httpUrl: `http://127.0.0.1:${server.port}`,
    dir,
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
