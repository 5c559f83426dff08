// bench:write-behind — the whole write-behind pipeline (journal tail → shared engine replay →
// sinks) against the local Redis and Postgres:
//  1. catch-up rate: a journal of T trades already on disk, applied from seq 0 by the pipeline in a
//     worker thread set up as the server's (lib/write-behind-catchup.ts): replay alone (a sink that
//     discards), Postgres alone, Redis alone, and both together (what the server runs);
//  2. lag under load: commands journaled at R trades/s (paced per 10 ms tick, in this process, as
//     the server would), sampled every 50 ms: how far each sink trails the newest durable record;
//  3. end-to-end cost: the real server (child process) under the e2e load with and without
//     REDIS_URL/DATABASE_URL, orders/s compared.
// (To compare with an older pipeline, run this bench on both commits: benches compare commits.)
// Each run writes into a scratch database and key prefix, removed at the end.
// Run: npm run bench:write-behind [-- --trades 300000 --rate 50000 --seconds 10 --e2e-seconds 5
//      --catchup-modes replay,postgres,redis,both --catchup-rounds 3 --lag-rounds 3]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import postgres from 'postgres';
import { Registry } from 'prom-client';
import { migrateDatabase } from '../db/migrate.js';
import { DEFAULTS, DEMO_MARKETS } from '../server/config.js';
import {
  WRITE_BEHIND_RESOURCE_LIMITS,
  startWriteBehind,
  workerSourceFor,
  type WriteBehindHandle,
} from '../server/persistence/write-behind.js';
import type { CatchUpResult, CatchUpSetup } from './lib/write-behind-catchup.js';
import { BenchJournal, LIMITS, MARKETS } from './lib/bench-journal.js';
import { ChildServer, spotwirePort } from './lib/child-server.js';
import { benchServerSetup } from './lib/funding.js';
import { describeRejects, runLoad } from './lib/load-generator.js';
import { human, median, printMachine } from './lib/report.js';
import { deleteUnder } from './lib/redis-scratch.js';

const { values: args } = parseArgs({
  options: {
    trades: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '10' },
    'e2e-seconds': { type: 'string', default: '5' },
    'e2e-rounds': { type: 'string', default: '2' },
    skip: { type: 'string', default: '' },
    'catchup-modes': { type: 'string', default: 'replay,postgres,redis,both' },
    'catchup-rounds': { type: 'string', default: '1' },
    'lag-rounds': { type: 'string', default: '1' },
  },
});
const TRADES = Number(args.trades);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const E2E_SECONDS = Number(args['e2e-seconds']);
const E2E_ROUNDS = Number(args['e2e-rounds']);
const SKIP = new Set(args.skip.split(',').filter(Boolean));
const CATCHUP_MODES = args['catchup-modes'].split(',').filter(Boolean) as CatchUpMode[];
const CATCHUP_ROUNDS = Number(args['catchup-rounds']);
const LAG_ROUNDS = Number(args['lag-rounds']);
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });
const run = randomBytes(4).toString('hex');

async function scratchDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `spotwire_bench_wb_${label}_${run}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  await deleteUnder(redis, prefix);
  redis.disconnect();
}

type CatchUpMode = 'replay' | 'postgres' | 'redis' | 'both';
/** One catch-up run in a worker thread set up as the server's write-behind worker. */
async function catchUpRun(source: BenchJournal, mode: CatchUpMode): Promise<CatchUpResult> {
  const db = mode === 'postgres' || mode === 'both' ? await scratchDatabase('catchup') : null;
  const prefix = `bench:wb:${run}:catchup:`;
  const setup: CatchUpSetup = {
    journalDir: source.journalDir,
    snapshotDir: source.snapshotDir,
    markets: MARKETS,
    limits: LIMITS,
    lastSeq: source.journal.lastSeq,
    pgUrl: db?.url ?? null,
    redis: mode === 'redis' || mode === 'both' ? { url: REDIS_URL, prefix } : null,
  };
  try {
    const worker = new Worker(workerSourceFor(new URL('./lib/write-behind-catchup.ts', import.meta.url).href), {
      eval: true,
      workerData: setup,
      resourceLimits: WRITE_BEHIND_RESOURCE_LIMITS,
    });
    const result = await new Promise<CatchUpResult | { error: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    if ('error' in result) throw new Error(result.error);
    return result;
  } finally {
    await db?.drop();
    await deleteKeys(prefix);
  }
}

async function catchUp(): Promise<void> {
  const source = new BenchJournal();
  for (let made = 0; made < TRADES; made += 1_000) await source.commit(Math.min(1_000, TRADES - made));
  const lastSeq = source.journal.lastSeq;
  console.log(
    `1. catch-up: a journal of ${human(TRADES)} trades (${human(lastSeq)} commands), sinks from seq 0, batches ≤ 5,000 commands, ` +
      `the pipeline in a worker thread as the server runs it; ${CATCHUP_ROUNDS} round(s), medians`,
  );
  // CPU per trade, which the other work on a shared machine does not inflate the way it does wall time.
  const perTrade = (seconds: number): string => `${((seconds * 1e6) / TRADES).toFixed(1)} µs`;
  const results = new Map<string, CatchUpResult[]>();
  for (let round = 0; round < CATCHUP_ROUNDS; round++) {
    for (const mode of CATCHUP_MODES) {
      const result = await catchUpRun(source, mode);
      results.set(mode, [...(results.get(mode) ?? []), result]);
      console.log(
        `   round ${round + 1} ${mode.padEnd(9)} ${human(TRADES / result.seconds).padStart(6)} trades/s; CPU per trade: Node ${perTrade(result.nodeCpu)}` +
          (result.pgBackendCpu > 0 ? `, Postgres backends ${perTrade(result.pgBackendCpu)}` : '') +
          (result.redisCpu > 0 ? `, redis-server ${perTrade(result.redisCpu)}` : ''),
      );
    }
  }
  const labels: Record<CatchUpMode, string> = {
    replay: 'journal tail + engine replay alone',
    postgres: 'Postgres alone',
    redis: 'Redis alone',
    both: 'Postgres and Redis together (what the server runs)',
  };
  for (const mode of CATCHUP_MODES) {
    const runs = results.get(mode) ?? [];
    const rate = median(runs.map((result) => TRADES / result.seconds));
    const node = median(runs.map((result) => result.nodeCpu));
    const pgCpu = median(runs.map((result) => result.pgBackendCpu));
    const redisCpu = median(runs.map((result) => result.redisCpu));
    console.log(
      `   → ${labels[mode]}: ${human(rate)} trades/s; CPU per trade: Node ${perTrade(node)}` +
        (pgCpu > 0 ? `, Postgres backends ${perTrade(pgCpu)}` : '') +
        (redisCpu > 0 ? `, redis-server ${perTrade(redisCpu)} (the whole process: other clients of a shared Redis count too)` : ''),
    );
  }
  await source.close();
}

interface LagResult {
  readonly p50: Map<string, number>;
  readonly p99: Map<string, number>;
  readonly drainMs: number;
}

async function lagRounds(): Promise<void> {
  console.log(
    `2. lag: ${human(RATE)} trades/s (${human(2 * RATE)} commands/s) journaled for ${SECONDS} s in 10 ms ticks, both sinks following; ` +
      `${LAG_ROUNDS} round(s)`,
  );
  const runs: LagResult[] = [];
  for (let round = 0; round < LAG_ROUNDS; round++) {
    if (LAG_ROUNDS > 1) console.log(`   round ${round + 1}`);
    runs.push(await lagUnderLoad(round));
  }
  if (LAG_ROUNDS === 1) return;
  const sinks = [...(runs[0]?.p50.keys() ?? [])];
  const summary = sinks.map(
    (sink) =>
      `${sink} p50 ${median(runs.map((r) => r.p50.get(sink) ?? 0)).toFixed(0)} ms / p99 ${median(runs.map((r) => r.p99.get(sink) ?? 0)).toFixed(0)} ms`,
  );
  console.log(`   → medians: ${summary.join(', ')}; drained the rest in ${median(runs.map((r) => r.drainMs)).toFixed(0)} ms`);
}

async function lagUnderLoad(round: number): Promise<LagResult> {
  const db = await scratchDatabase(`lag_${round}`);
  const prefix = `bench:wb:${run}:lag:${round}:`;
  let writeBehind: WriteBehindHandle | null = null;
  const source = new BenchJournal(() => writeBehind?.retainFromSeq() ?? 0);
  // As the server runs it: the pipeline in a worker thread, this thread generating and journaling.
  const wb = (await startWriteBehind(
    {
      journalDir: source.journalDir,
      snapshotDir: source.snapshotDir,
      markets: MARKETS,
      limits: LIMITS,
      durableSeq: 0,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      databaseUrl: db.url,
      dataDir: source.dir,
      logLevel: 'silent',
    },
    new Registry(),
    silent,
  ))!;
  writeBehind = wb;
  // Commit time of each record's last seq, to turn "applied up to seq S" into a lag in ms.
  const committedAt: { seq: number; at: number }[] = [];
  const lags = new Map<string, number[]>();
  // Health arrives from the worker every 100 ms: lags are that coarse.
  const sample = (): void => {
    const now = performance.now();
    for (const [name, sink] of Object.entries(wb.health().sinks)) {
      const applied = sink.appliedSeq ?? 0;
      const oldest = committedAt.find((record) => record.seq > applied);
      lags.set(name, [...(lags.get(name) ?? []), oldest ? now - oldest.at : 0]);
    }
  };
  const perTick = Math.max(1, Math.round(RATE / 100));
  const started = performance.now();
  let ticks = 0;
  let lastSample = started;
  while (performance.now() - started < SECONDS * 1000) {
    await source.commit(perTick);
    const seq = source.journal.lastSeq;
    committedAt.push({ seq, at: performance.now() });
    wb.notifyDurable(seq);
    ticks++;
    if (performance.now() - lastSample >= 50) {
      sample();
      lastSample = performance.now();
    }
    const next = started + ticks * 10;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
  const offered = (ticks * perTick) / ((performance.now() - started) / 1000);
  const drainStart = performance.now();
  const { drained } = await wb.close(60_000);
  const drainMs = performance.now() - drainStart;
  console.log(`   offered ${human(offered)} trades/s (generator, engine and journal on this thread; the write-behind in its worker)`);
  const result: LagResult = { p50: new Map(), p99: new Map(), drainMs };
  for (const [name, values] of lags) {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    result.p50.set(name, at(0.5));
    result.p99.set(name, at(0.99));
    console.log(
      `   ${name}: lag p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${at(1).toFixed(0)} ms — target < 1000 ms: ${at(0.99) < 1000 ? 'met' : 'MISSED'}`,
    );
  }
  console.log(`   drained the rest in ${drainMs.toFixed(0)} ms (${drained ? 'complete' : 'INCOMPLETE'})`);
  await source.close();
  await db.drop();
  await deleteKeys(prefix);
  return result;
}

interface SinkLag {
  readonly lagEvents: number | null;
}

/** The largest lag, in commands, of the server's sinks (from /health); null when none reports. */
async function sinkLagEvents(port: number): Promise<number | null> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  const body = (await response.json()) as { writeBehind?: { sinks?: Record<string, SinkLag> } };
  const lags = Object.values(body.writeBehind?.sinks ?? {}).map((sink) => sink.lagEvents);
  if (lags.length === 0 || lags.some((lag) => lag === null)) return null;
  return Math.max(...(lags as number[]));
}

/** Seconds until the sinks have applied everything journaled (they fall behind during a burst). */
async function catchUpSeconds(port: number, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const lag = await sinkLagEvents(port);
    if (lag === 0) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutMs) return Infinity;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function endToEndCost(): Promise<void> {
  console.log(
    `3. end-to-end cost: the server (fsync on) under the e2e load (16 bots, frames of 16), ${E2E_SECONDS} s, ${E2E_ROUNDS} round(s), ` +
      `without write-behind, with it as configured by default (worker at nice ${DEFAULTS.writeBehindNice}, duty cycle ${DEFAULTS.writeBehindBusyDuty} ` +
      `while matching is saturated), and with it not yielding (nice 0, duty 1)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-bench-wb-e2e-'));
  const db = await scratchDatabase('e2e');
  const { tokens, args: common } = benchServerSetup(dir, 16, DEMO_MARKETS);
  const servers: ChildServer[] = [
    await ChildServer.start('plain', 'server/main.ts', [...common, '--data-dir', join(dir, 'plain')], spotwirePort),
  ];
  const prefixes: string[] = [];
  // The child inherits this process's environment at spawn; each persisting server gets its own
  // database and key prefix.
  const persisted = async (name: string, yielding: boolean, databaseUrl: string): Promise<ChildServer> => {
    const prefix = `bench:wb:${run}:e2e:${yielding ? 'yielding' : 'not-yielding'}:`;
    prefixes.push(prefix);
    process.env.REDIS_URL = REDIS_URL;
    process.env.REDIS_PREFIX = prefix;
    process.env.DATABASE_URL = databaseUrl;
    if (!yielding) {
      process.env.WRITE_BEHIND_NICE = '0';
      process.env.WRITE_BEHIND_BUSY_DUTY = '1';
    }
    try {
      return await ChildServer.start(name, 'server/main.ts', [...common, '--data-dir', join(dir, name.replace(/\W+/g, '-'))], spotwirePort);
    } finally {
      delete process.env.REDIS_PREFIX;
      delete process.env.WRITE_BEHIND_NICE;
      delete process.env.WRITE_BEHIND_BUSY_DUTY;
      process.env.DATABASE_URL = ADMIN_URL;
    }
  };
  const db0 = await scratchDatabase('e2e0');
  servers.push(await persisted('write-behind', true, db.url));
  servers.push(await persisted('write-behind, not yielding', false, db0.url));
  const rates = new Map<string, number[]>();
  try {
    for (let round = 0; round < E2E_ROUNDS; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) {
        const load = await runLoad({
          host: '127.0.0.1',
          port: server.port,
          sym: 'BTC-USD',
          connections: 16,
          window: 256,
          batch: 16,
          subscribers: 0,
          rate: 0,
          warmupSeconds: 1,
          seconds: E2E_SECONDS,
          tokens,
        });
        rates.set(server.name, [...(rates.get(server.name) ?? []), load.ordersPerSec]);
        const behind = server.name === 'plain' ? null : await sinkLagEvents(server.port);
        // The next server's round starts only once this one's sinks are idle, so it runs alone.
        const caughtUp = server.name === 'plain' ? null : await catchUpSeconds(server.port);
        console.log(
          `   ${server.name}: ${human(load.ordersPerSec)} orders/s, p99 ${load.latencyUs.p99.toFixed(0)} µs, ${describeRejects(load)}` +
            (behind === null ? '' : `; sinks ${human(behind)} commands behind at the end, caught up ${caughtUp!.toFixed(1)} s later`),
        );
      }
    }
    const without = median(rates.get('plain')!);
    for (const name of ['write-behind', 'write-behind, not yielding']) {
      const withWb = median(rates.get(name)!);
      const cost = 1 - withWb / without;
      console.log(
        `   median ${name}: ${human(without)} → ${human(withWb)} orders/s: costs ${(cost * 100).toFixed(1)}% — target ≤ 10%: ${cost <= 0.1 ? 'met' : 'MISSED'}`,
      );
    }
  } finally {
    for (const server of servers) await server.stop();
    await db.drop();
    await db0.drop();
    for (const prefix of prefixes) await deleteKeys(prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  printMachine();
  if (!SKIP.has('catchup')) await catchUp();
  if (!SKIP.has('lag')) await lagRounds();
  if (!SKIP.has('e2e')) await endToEndCost();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
