// bench:loop-fairness — another client's ping round trip while one connection floods the server:
// invalid messages, valid ones (ping) at the default rate limit, 16 frames of 1,024 `markets` per
// write, and `orders` from an account at the 10,000-open-order cap. Each flood runs in its own
// process (bench/lib/flood-client.ts); the probe pings once per millisecond. Prints medians over runs
// with the idle baseline beside them; it never passes or fails.
//   npm run bench:loop-fairness [-- --runs 3 --seconds 3 --scenarios invalid,valid,markets,orders --server-dir <checkout>]
// --server-dir runs server/main.ts of another checkout (with node_modules) for a before/after.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCodec } from '../protocol/codec.js';
import { ChildServer, exitOnInterrupt, spotwirePort } from './lib/child-server.js';
import { SCENARIOS, type Scenario } from './lib/flood-scenarios.js';
import { RawWsClient } from './lib/raw-ws-client.js';
import { median, nanosHistogram, percentiles, printMachine, printTable } from './lib/report.js';

const codec = createCodec();
const OPEN_ORDERS = 10_000;

/** A connection that sends one request at a time and resolves with the decoded replies to it. */
async function openClient(port: number): Promise<{ request(value: unknown, replies?: number): Promise<void>; close(): void }> {
  let waiting: { left: number; done: () => void } | null = null;
  const client = await RawWsClient.open('127.0.0.1', port, '/ws', {
    onPayload: (payload) => {
      const decoded = codec.decode(payload);
      const count = Array.isArray(decoded) ? decoded.length : 1;
      if (waiting && (waiting.left -= count) <= 0) waiting.done();
    },
  });
  return {
    request: (value, replies = 1) =>
      new Promise<void>((done) => {
        waiting = { left: replies, done };
        client.send(codec.encode(value));
      }),
    close: () => client.close(),
  };
}

/** Round trips of one ping at a time, one per millisecond, for `seconds`: p50 and p99 in µs. */
async function probe(port: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const histogram = nanosHistogram();
  const client = await openClient(port);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const started = process.hrtime.bigint();
    await client.request({ op: 'ping' });
    histogram.recordValue(Number(process.hrtime.bigint() - started));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  client.close();
  const { p50, p99 } = percentiles(histogram);
  return { p50: p50 / 1000, p99: p99 / 1000 };
}

/** Starts a flood; resolves once it has replies, with a stop function and its reply count. */
async function flood(port: number, scenario: Scenario): Promise<{ stop(): Promise<number> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/flood-client.ts', String(port), scenario, 'token-flood'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let replies = 0;
  let started: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    const last = chunk.toString().trim().split('\n').pop();
    replies = Number(last);
    if (replies > 0) started();
  });
  await running;
  const from = replies;
  const at = Date.now();
  return {
    stop: async () => {
      const perSecond = ((replies - from) * 1000) / (Date.now() - at);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      return perSecond;
    },
  };
}

async function placeOpenOrders(port: number): Promise<void> {
  const client = await openClient(port);
  await client.request({ op: 'login', token: 'token-flood' });
  for (let start = 0; start < OPEN_ORDERS; start += 1000) {
    const frame = Array.from({ length: 1000 }, (_, i) => ({
      op: 'place',
      sym: 'BTC-USD',
      side: 'buy',
      kind: 'limit',
      px: 100 + ((start + i) % 50),
      qty: 1,
    }));
    // Each resting order: an ack and an exec `new`, plus balance messages at the batch's end.
    await client.request(frame, 2000);
  }
  // Balance messages trail each batch; let the last ones land before the flood starts.
  await new Promise((resolve) => setTimeout(resolve, 200));
  client.close();
}

interface RunResult {
  idle: { p50: number; p99: number };
  floods: Map<Scenario, { p50: number; p99: number; repliesPerSecond: number }>;
}

async function run(serverDir: string, seconds: number, scenarios: readonly Scenario[]): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-bench-fairness-'));
  const keysFile = join(dir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify([{ token: 'token-flood', account: 'flooder', deposit: { USD: 1e14 } }]));
  const server = await ChildServer.start(
    'spotwire',
    join(serverDir, 'server/main.ts'),
    ['--port', '0', '--host', '127.0.0.1', '--keys', keysFile, '--data-dir', join(dir, 'data'), '--log-level', 'info'],
    spotwirePort,
  );
  try {
    const idle = await probe(server.port, seconds);
    const floods = new Map<Scenario, { p50: number; p99: number; repliesPerSecond: number }>();
    for (const scenario of scenarios) {
      if (scenario === 'orders') await placeOpenOrders(server.port);
      const running = await flood(server.port, scenario);
      const result = await probe(server.port, seconds);
      floods.set(scenario, { ...result, repliesPerSecond: await running.stop() });
    }
    return { idle, floods };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  exitOnInterrupt();
  const { values } = parseArgs({
    options: { runs: { type: 'string' }, seconds: { type: 'string' }, 'server-dir': { type: 'string' }, scenarios: { type: 'string' } },
  });
  // A --server-dir checkout without `orders` pages stalls for minutes on the `orders` flood: name the
  // other scenarios with --scenarios there.
  const scenarios = (values.scenarios?.split(',') ?? Object.keys(SCENARIOS)) as Scenario[];
  const runs = Number(values.runs ?? 3);
  const seconds = Number(values.seconds ?? 3);
  const serverDir = resolve(values['server-dir'] ?? '.');
  printMachine();
  console.log(`server: ${serverDir}; ${runs} runs, ${seconds} s per measurement, one ping per ms\n`);
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await run(serverDir, seconds, scenarios));
  const idleP50 = median(results.map((r) => r.idle.p50));
  const idleP99 = median(results.map((r) => r.idle.p99));
  const rows = [['idle', idleP50.toFixed(0), idleP99.toFixed(0), '1.0×', '']];
  for (const scenario of scenarios) {
    const of = results.map((r) => r.floods.get(scenario)!);
    const p99 = median(of.map((f) => f.p99));
    rows.push([
      scenario,
      median(of.map((f) => f.p50)).toFixed(0),
      p99.toFixed(0),
      `${(p99 / idleP99).toFixed(1)}×`,
      median(of.map((f) => f.repliesPerSecond)).toFixed(0),
    ]);
  }
  printTable(['flood', 'ping p50 µs', 'ping p99 µs', 'p99 / idle p99', 'flood replies/s'], rows);
  console.log(
    JSON.stringify({
      bench: 'loop-fairness',
      serverDir,
      runs,
      seconds,
      rows: rows.map(([flood, p50, p99, ratio, replies]) => ({ flood, p50, p99, ratio, replies })),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
