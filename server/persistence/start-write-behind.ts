// Builds the write-behind from the server config: nothing without REDIS_URL / DATABASE_URL; with
// DATABASE_URL the migrations run first (a server must not write into an older schema).
import type { Logger } from 'pino';
import { migrateDatabase } from '../../db/migrate.js';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config.js';
import type { EngineLimits } from '../engine/types.js';
import type { CommandCodec } from '../journal/command-codec.js';
import { systemClock } from './clock.js';
import { DeadLetterStore } from './dead-letter-store.js';
import type { Sink } from './event-batch.js';
import { PgSink } from './pg-sink.js';
import { RedisSink } from './redis-sink.js';
import { WriteBehind } from './write-behind.js';

export interface WriteBehindStartDeps {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly limits: EngineLimits;
  readonly codec: CommandCodec;
  readonly durableSeq: number;
  readonly registry: Registry;
  readonly log: Logger;
}

/** The sinks the config asks for; with DATABASE_URL its migrations have run. */
export async function createSinks(config: Pick<ServerConfig, 'redisUrl' | 'databaseUrl' | 'redisPrefix' | 'markets'>, log: Logger): Promise<Sink[]> {
  const sinks: Sink[] = [];
  if (config.databaseUrl !== null) {
    await migrateDatabase(config.databaseUrl);
    log.info('database migrations applied');
    sinks.push(new PgSink({ url: config.databaseUrl, markets: config.markets }));
  }
  if (config.redisUrl !== null) {
    sinks.push(
      new RedisSink({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        onConnectionError: (error) => log.debug({ err: error.message }, 'redis connection error'),
      }),
    );
  }
  return sinks;
}

/** Batches kept per sink before the store refuses more (the sink then stops; the journal holds the rest). */
export const MAX_DEAD_LETTERS_PER_SINK = 1_000;

export function openDeadLetters(config: Pick<ServerConfig, 'dataDir'>): DeadLetterStore {
  return new DeadLetterStore({ dataDir: config.dataDir, maxPerSink: MAX_DEAD_LETTERS_PER_SINK, clock: systemClock });
}

/** The pipeline in this thread (the worker, tests and benches use it; the server runs it in a worker). */
export async function startWriteBehind(
  config: Pick<ServerConfig, 'redisUrl' | 'databaseUrl' | 'redisPrefix' | 'markets' | 'dataDir' | 'sinkDeadlineMs'>,
  deps: WriteBehindStartDeps,
): Promise<WriteBehind | null> {
  if (config.redisUrl === null && config.databaseUrl === null) return null;
  const sinks = await createSinks(config, deps.log);
  const deadLetters = openDeadLetters(config);
  deps.log.info({ sinks: sinks.map((sink) => sink.name), durableSeq: deps.durableSeq }, 'write-behind starting');
  return new WriteBehind({
    sinks,
    deadLetters,
    journalDir: deps.journalDir,
    snapshotDir: deps.snapshotDir,
    markets: config.markets,
    limits: deps.limits,
    codec: deps.codec,
    durableSeq: deps.durableSeq,
    registry: deps.registry,
    clock: systemClock,
    random: Math.random,
    log: deps.log,
    tuning: { deadlineMs: config.sinkDeadlineMs },
  });
}
