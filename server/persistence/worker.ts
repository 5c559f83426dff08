// The write-behind's worker thread: it builds the sinks the setup names and runs the pipeline, so
// the journal replay (one shared by the sinks in step), the sinks' serialization and their clients
// take no CPU from the thread that matches orders. The main thread (write-behind.ts) only posts
// durable seqs.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { createDatabaseIfMissing } from '../../db/create-database.js';
import { migrateDatabase } from '../../db/migrate.js';
import { createLogger, parseLogFormat } from '../logger.js';
import { DeadLetterStore, MAX_DEAD_LETTERS_PER_SINK } from './dead-letters/dead-letter-store.js';
import type { EventBatch, RedriveState, Sink } from './event-batch.js';
import { Pipeline } from './pipeline.js';
import { PgSink } from './postgres/pg-sink.js';
import { RedisSink } from './redis/redis-sink.js';
import { systemClock } from './resilience/clock.js';
import type { WriteBehindSetup } from './setup.js';
import type { ToWorker } from './write-behind.js';

/**
 * Runs `migrate` before the sink's first call (and again after a failed attempt). The runner retries
 * that call like any other, so a database that is down at start delays only this sink: the server
 * trades meanwhile and the journal keeps everything for it.
 */
function migratedFirst(sink: Sink, migrate: () => Promise<void>, log: Logger): Sink {
  let migrated: Promise<void> | null = null;
  const ready = (): Promise<void> =>
    (migrated ??= migrate().then(
      () => log.info({ sink: sink.name }, 'database migrations applied'),
      (error: unknown) => {
        migrated = null;
        throw error;
      },
    ));
  return {
    name: sink.name,
    appliedSeq: async () => {
      await ready();
      return sink.appliedSeq();
    },
    apply: (batch) => sink.apply(batch),
    markApplied: (seq) => sink.markApplied(seq),
    isPermanent: (error) => sink.isPermanent(error),
    close: () => sink.close(),
    ...(sink.redrive
      ? { redrive: (batch: EventBatch, current: (appliedSeq: number) => Promise<RedriveState>) => sink.redrive!(batch, current) }
      : {}),
  };
}

/**
 * The sinks the setup names. A Postgres sink creates its database if it is missing (and the role
 * may) and applies the migrations before its first write: it must not write into an older schema.
 */
function createSinks(setup: WriteBehindSetup, log: Logger): Sink[] {
  const sinks: Sink[] = [];
  const { databaseUrl } = setup;
  if (databaseUrl !== null) {
    const prepare = async (): Promise<void> => {
      if (await createDatabaseIfMissing(databaseUrl))
        log.info({ sink: 'postgres', database: new URL(databaseUrl).pathname.slice(1) }, 'created the database');
      await migrateDatabase(databaseUrl);
    };
    sinks.push(migratedFirst(new PgSink({ url: databaseUrl, markets: setup.markets }), prepare, log));
  }
  if (setup.redisUrl !== null) {
    sinks.push(
      new RedisSink({
        url: setup.redisUrl,
        prefix: setup.redisPrefix,
        onConnectionError: (error) => log.debug({ err: error.message }, 'redis connection error'),
      }),
    );
  }
  return sinks;
}

const setup = workerData as WriteBehindSetup;
const port = parentPort!;
// The main thread resolved LOG_FORMAT (a worker's stdout is never a terminal); same format here.
const log = createLogger(parseLogFormat(process.env.LOG_FORMAT, false) ?? 'json', setup.logLevel).child({ thread: 'write-behind' });
const registry = new Registry();
// A stray rejection is logged rather than taking the pipeline down (the main thread would restart
// it, but every sink would then reopen and replay from its applied seq).
process.on('unhandledRejection', (error) => log.error({ err: error }, 'write-behind: unhandled rejection'));

// On Linux the nice value belongs to a thread and pid 0 means the calling one, so this lowers the
// priority of this worker only: the write-behind yields the CPU to matching instead of taking a
// share of order throughput when the cores are busy. (The libuv pool threads keep the process's.)
if ((setup.nice ?? 0) > 0) {
  try {
    setPriority(0, setup.nice!);
  } catch (error) {
    log.warn({ err: error, nice: setup.nice }, 'write-behind: could not lower the worker thread priority');
  }
}

try {
  const sinks = createSinks(setup, log);
  if (sinks.length === 0) throw new Error('write-behind worker started without sinks');
  const deadLetters = new DeadLetterStore({ dataDir: setup.dataDir, maxPerSink: MAX_DEAD_LETTERS_PER_SINK, clock: systemClock });
  log.info({ sinks: sinks.map((sink) => sink.name), durableSeq: setup.durableSeq }, 'write-behind starting');
  const pipeline = new Pipeline(setup, { sinks, deadLetters, registry, clock: systemClock, random: Math.random, log });
  const report = (): void => port.postMessage({ type: 'state', health: pipeline.health(), retainFromSeq: pipeline.retainFromSeq() });
  const timer = setInterval(report, 100);
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'durable':
        pipeline.notifyDurable(message.seq);
        break;
      case 'pressure':
        pipeline.setMatchingBusy(message.matchingBusy);
        break;
      case 'metrics':
        registry
          .getMetricsAsJSON()
          .then((metrics) => port.postMessage({ type: 'metrics', id: message.id, metrics: JSON.parse(JSON.stringify(metrics)) as unknown }))
          .catch((error: unknown) => {
            log.error({ err: error }, 'metrics for the server failed');
            port.postMessage({ type: 'metrics', id: message.id, metrics: [] });
          });
        break;
      case 'close':
        clearInterval(timer);
        pipeline.close(message.drainMs).then(
          ({ drained }) => {
            report();
            port.postMessage({ type: 'closed', drained });
            port.close();
          },
          (error: unknown) => {
            port.postMessage({ type: 'closed', drained: false, error: (error as Error).message });
            port.close();
          },
        );
        break;
    }
  });
  report();
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'failed', message: (error as Error).message });
  port.close();
}
