// The server's log as people and machines meet it: JSON lines when stdout is not a terminal (or
// LOG_FORMAT=json), pino-pretty's readable lines on a terminal (or LOG_FORMAT=pretty). Either way
// the "listening" line gives the WebSocket URL and the /health and /metrics URLs, and they work.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE_NAME } from '../../server/data-dir-lock.js';
import { httpGet, waitUntil } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir } from '../journal/journal-support.js';
import { deleteUnder } from '../persistence/redis-dump.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test:log-format:${process.pid}-${Date.now()}:`;
const SERVER = ['--import', 'tsx', 'server/main.ts'];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  await deleteUnder(redis, PREFIX);
  redis.disconnect();
});

interface Started {
  readonly port: number;
  readonly dataDir: string;
  output(): string;
}

/** Starts the server with `command` (argv[0] and its args) and waits for `ready` in its output. */
async function start(
  command: (serverArgs: string[]) => string[],
  env: NodeJS.ProcessEnv,
  ready: string,
  extraArgs: string[] = [],
): Promise<Started> {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  const port = await freePort();
  const dataDir = join(dir.path, 'data');
  const [file, ...args] = command([...SERVER, '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, ...extraArgs]);
  const child: ChildProcess = spawn(file!, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  // Colours (on a terminal) taken out, so the text can be compared.
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += stripVTControlCharacters(chunk)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += stripVTControlCharacters(chunk)));
  cleanups.push(async () => {
    // The server's pid is in the data dir's lock file, whatever wraps it (script(1) does).
    try {
      process.kill((JSON.parse(readFileSync(join(dataDir, LOCK_FILE_NAME), 'utf8')) as { pid: number }).pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await exited;
  });
  await waitUntil(() => output.includes(ready) || child.exitCode !== null, `"${ready}" in the log`, 30_000);
  if (!output.includes(ready)) throw new Error(`the server exited without logging "${ready}":\n${output}`);
  return { port, dataDir, output: () => output };
}

const node = (serverArgs: string[]): string[] => [process.execPath, ...serverArgs];
/** Runs the server on a pseudo-terminal (util-linux script), as when a person starts it. */
const onTerminal = (serverArgs: string[]): string[] => ['script', '-qfec', [process.execPath, ...serverArgs].join(' '), '/dev/null'];

describe('log format', () => {
  it('not on a terminal: JSON lines; the listening line carries working URLs', async () => {
    const server = await start(node, { LOG_FORMAT: '' }, '"msg":"spotwire listening"');
    const lines = server.output().trim().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const listening = entries.find((entry) => entry.msg === 'spotwire listening')!;
    expect(listening).toMatchObject({
      url: `ws://127.0.0.1:${server.port}/ws`,
      health: `http://127.0.0.1:${server.port}/health`,
      metrics: `http://127.0.0.1:${server.port}/metrics`,
    });
    expect((await httpGet(String(listening.health))).status).toBe(200);
    expect((await httpGet(String(listening.metrics))).body).toContain('spotwire_connections');
  });

  it('on a terminal: readable lines, not JSON, from the write-behind thread too', async () => {
    const redisArgs = ['--redis-url', REDIS_URL, '--redis-prefix', PREFIX];
    const server = await start(onTerminal, { LOG_FORMAT: '' }, 'INFO: spotwire listening', redisArgs);
    // A pretty entry spans several lines, which the terminal may pass on in more than one chunk.
    await waitUntil(() => server.output().includes('health: "'), 'the rest of the listening entry');
    expect(server.output()).toContain('INFO: write-behind starting');
    expect(server.output()).toContain(`url: "ws://127.0.0.1:${server.port}/ws"`);
    expect(server.output()).toContain(`health: "http://127.0.0.1:${server.port}/health"`);
    expect(server.output()).not.toContain('"msg":');
  });

  it('LOG_FORMAT=json on a terminal, LOG_FORMAT=pretty off one', async () => {
    await start(onTerminal, { LOG_FORMAT: 'json' }, '"msg":"spotwire listening"');
    const pretty = await start(node, { LOG_FORMAT: 'pretty' }, 'INFO: spotwire listening');
    expect(pretty.output()).not.toContain('"msg":');
  });
});
