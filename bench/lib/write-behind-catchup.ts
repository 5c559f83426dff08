// Worker entry of bench:write-behind's catch-up stage: the write-behind pipeline (Pipeline with
// the given sinks, or one that discards for "replay alone") in a worker thread with the heap limits
// the server gives its write-behind worker, applying a journal already on disk from seq 0. Posts the
// wall time and CPU it took: the whole process (this worker, and the idle bench thread), the
// sink's Postgres backends and the redis-server process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import postgres from 'postgres';
import { Registry } from 'prom-client';
import type { MarketInfo } from '../../protocol/messages.js';
import type { EngineLimits } from '../../server/engine/types.js';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { DeadLetterStore } from '../../server/persistence/dead-letters/dead-letter-store.js';
import type { EventBatch, Sink } from '../../server/persistence/event-batch.js';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { RedisSink } from '../../server/persistence/redis/redis-sink.js';
import { Pipeline } from '../../server/persistence/pipeline.js';
import { processCpuSeconds } from './process-cpu.js';

export interface CatchUpSetup {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly markets: readonly MarketInfo[];
  readonly limits: EngineLimits;
  readonly lastSeq: number;
  readonly pgUrl: string | null;
  readonly redis: { readonly url: string; readonly prefix: string } | null;
}

export interface CatchUpResult {
  readonly seconds: number;
  readonly nodeCpu: number;
  readonly pgBackendCpu: number;
  readonly redisCpu: number;
}

/** Keeps the seq it is given and nothing else: the pipeline with no sink I/O. */
class DiscardSink implements Sink {
  readonly name = 'discard';
  private applied = 0;
  async appliedSeq(): Promise<number> {
    return this.applied;
  }
  async apply(batch: EventBatch): Promise<void> {
    this.applied = batch.toSeq;
  }
  async markApplied(seq: number): Promise<void> {
    this.applied = seq;
  }
  isPermanent(): boolean {
    return false;
  }
  async close(): Promise<void> {}
}

async function backendCpuSeconds(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const rows = await sql`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  await sql.end({ timeout: 5 });
  return rows.reduce((sum, row) => sum + processCpuSeconds(row.pid as number), 0);
}

async function redisPid(url: string): Promise<number> {
  const redis = new Redis(url);
  const info = await redis.info('server');
  redis.disconnect();
  return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
}

async function connected(sink: Sink): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await sink.appliedSeq();
      return;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function run(setup: CatchUpSetup): Promise<CatchUpResult> {
  const sinks: Sink[] = [];
  if (setup.pgUrl !== null) sinks.push(new PgSink({ url: setup.pgUrl, markets: setup.markets }));
  if (setup.redis !== null) sinks.push(new RedisSink({ url: setup.redis.url, prefix: setup.redis.prefix }));
  if (sinks.length === 0) sinks.push(new DiscardSink());
  for (const sink of sinks) await connected(sink);
  const dlqDir = mkdtempSync(join(tmpdir(), 'spotwire-bench-wb-dlq-'));
  const pid = setup.redis ? await redisPid(setup.redis.url) : 0;
  const backendsBefore = setup.pgUrl ? await backendCpuSeconds(setup.pgUrl) : 0;
  const redisBefore = pid ? processCpuSeconds(pid) : 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const writeBehind = new Pipeline(
    {
      journalDir: setup.journalDir,
      snapshotDir: setup.snapshotDir,
      markets: setup.markets,
      limits: setup.limits,
      durableSeq: setup.lastSeq,
    },
    {
      sinks,
      deadLetters: new DeadLetterStore({ dataDir: dlqDir, maxPerSink: 1_000, clock: systemClock }),
      registry: new Registry(),
      clock: systemClock,
      random: Math.random,
      log: pino({ level: 'silent' }),
    },
  );
  while (Object.values(writeBehind.health().sinks).some((sink) => sink.appliedSeq !== setup.lastSeq))
    await new Promise((resolve) => setTimeout(resolve, 2));
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  const pgBackendCpu = setup.pgUrl ? (await backendCpuSeconds(setup.pgUrl)) - backendsBefore : 0;
  const redisCpu = pid ? processCpuSeconds(pid) - redisBefore : 0;
  await writeBehind.close(1_000);
  rmSync(dlqDir, { recursive: true, force: true });
  return { seconds, nodeCpu: (cpu.user + cpu.system) / 1e6, pgBackendCpu, redisCpu };
}

run(workerData as CatchUpSetup).then(
  (result) => parentPort!.postMessage(result),
  (error: unknown) => {
    console.error(error);
    parentPort!.postMessage({ error: String(error) });
  },
);
