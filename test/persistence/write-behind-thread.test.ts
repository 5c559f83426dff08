// The write-behind worker thread dies (terminated under load, as a crash would end it): the server's
// handle reports the error, restarts it, and every sink resumes from its applied seq, ending equal
// to a fresh replay of the journal (real Redis on 6379 under a prefix of its own, real Postgres on
// 5432 in a database of its own).
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { RedisSink } from '../../server/persistence/redis/redis-sink.js';
import { startWriteBehind } from '../../server/persistence/write-behind.js';
import { MARKETS, place } from '../support/engine-fixtures.js';
import { deleteUnder } from './redis-dump.js';
import { JournalFixture } from './write-behind-fixture.js';
import { createDatabase, dropDatabase, pgState, redisState, whenConnected } from './write-behind-oracle.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const runId = `${process.pid}_${Date.now()}`;
const PREFIX = `test:wb-thread:${runId}:live:`;
const ORACLE_PREFIX = `test:wb-thread:${runId}:oracle:`;
const DB = `spotwire_wb_thread_${runId}`;
const ORACLE_DB = `${DB}_oracle`;

const redis = new Redis(REDIS_URL);
const fixture = new JournalFixture();

afterAll(async () => {
  await deleteUnder(redis, PREFIX);
  await deleteUnder(redis, ORACLE_PREFIX);
  redis.disconnect();
  await dropDatabase(ADMIN_URL, DB);
  await dropDatabase(ADMIN_URL, ORACLE_DB);
  await fixture.close();
});

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Nice value of every thread of this process (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // the thread ended between the listing and the read
    }
  });
}

const WORKER_NICE = 7;

describe('write-behind worker thread', () => {
  it('a worker that dies is restarted and every sink converges', async () => {
    const databaseUrl = await createDatabase(ADMIN_URL, DB);
    const thread = (await startWriteBehind(
      {
        ...fixture.journalSource,
        redisUrl: REDIS_URL,
        redisPrefix: PREFIX,
        databaseUrl,
        dataDir: fixture.dir,
        logLevel: 'silent',
        nice: WORKER_NICE,
      },
      new Registry(),
      pino({ level: 'silent' }),
    ))!;
    let n = 0;
    const trade = async (records: number): Promise<void> => {
      for (let i = 0; i < records; i++, n++) {
        await fixture.commit([
          place('alice', 'sell', 100 + (n % 7), 2),
          place('bob', 'buy', 103 - (n % 5), 3),
          place('carol', 'buy', 90 + (n % 3), 1),
        ]);
        thread.notifyDurable(fixture.journal.lastSeq);
      }
    };
    const allApplied = (): boolean => {
      const sinks = Object.values(thread.health().sinks);
      return sinks.length === 2 && sinks.every((sink) => sink.appliedSeq === fixture.journal.lastSeq);
    };
    const ownNice = getPriority(0);
    const niceThreads = (): number => threadNiceValues().filter((nice) => nice === WORKER_NICE).length;
    try {
      await trade(100);
      await until(allApplied, 'sinks to apply the first records');
      // Only the worker yields the CPU to matching; this (main) thread keeps its priority.
      expect(niceThreads()).toBe(1);
      expect(getPriority(0)).toBe(ownNice);

      // Terminated mid-stream, as a crash would end it; records keep coming meanwhile.
      const worker = (thread as unknown as { worker: Worker | null }).worker!;
      const trading = trade(200);
      await worker.terminate();
      await until(() => thread.health().error !== undefined, 'the error to show in health');
      await trading;
      await until(() => thread.health().error === undefined && allApplied(), 'the restarted worker to catch up');
      expect(niceThreads()).toBe(1);
    } finally {
      await thread.close(10_000);
    }

    // Equal to the whole journal replayed into fresh sinks.
    const oracleUrl = await createDatabase(ADMIN_URL, ORACLE_DB);
    const pgOracle = new PgSink({ url: oracleUrl, markets: MARKETS });
    const redisOracle = new RedisSink({ url: REDIS_URL, prefix: ORACLE_PREFIX });
    await whenConnected(() => redisOracle.appliedSeq());
    for (const batch of await fixture.batches(0, 5_000)) {
      await pgOracle.apply(batch);
      await redisOracle.apply(batch);
    }
    await pgOracle.close();
    await redisOracle.close();
    expect(await pgState(databaseUrl)).toEqual(await pgState(oracleUrl));
    expect(await redisState(redis, PREFIX)).toEqual(await redisState(redis, ORACLE_PREFIX));
  }, 60_000);
});
