// Builds the write-behind from the server config: nothing without REDIS_URL / DATABASE_URL; with
// DATABASE_URL the migrations run before the Postgres sink's first call (it must not write into an
// older schema), without holding up the server's start when the database is away.
import type { Logger } from 'pino';
import { createDatabaseIfMissing } from '../../db/create-database.js';
import { migrateDatabase } from '../../db/migrate.js';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config.js';
import type { EngineLimits } from '../engine/types.js';
import type { CommandCodec } from '../journal/command-codec.js';
import { systemClock } from './resilience/clock.js';
import { DeadLetterStore } from './dead-letters/dead-letter-store.js';
import type { EventBatch, RedriveState, Sink } from './event-batch.js';
import { PgSink } from './postgres/pg-sink.js';
import { RedisSink } from './redis/redis-sink.js';
import { Pipeline } from './pipeline.js';

export interface WriteBehindFromConfigDeps {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly limits: EngineLimits;
  readonly codec: CommandCodec;
  readonly durableSeq: number;
  readonly registry: Registry;
  readonly log: Logger;
  /** Share of time the sinks may work while matching is saturated; default 1 (never rest). */
  readonly busyDutyCycle?: number;
}

/**
 * Runs `migrate` before the sink's first call (and again after a failed attempt). The runner retries
 * that call like any other, so a database that is down at start delays only this sink: the server
 * trades meanwhile and the journal keeps everything for it.
 */
export function migratedFirst(sink: Sink, migrate: () => Promise<void>, log: Logger): Sink {
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
 * The sinks the config asks for; a Postgres sink creates its database if it is missing (and the
 * role may) and applies the migrations before its first write.
 */
export async function createSinks(
  config: Pick<ServerConfig, 'redisUrl' | 'databaseUrl' | 'redisPrefix' | 'markets'>,
  log: Logger,
): Promise<Sink[]> {
  const sinks: Sink[] = [];
  const { databaseUrl } = config;
  if (databaseUrl !== null) {
    const prepare = async (): Promise<void> => {
      if (await createDatabaseIfMissing(databaseUrl))
        log.info({ sink: 'postgres', database: new URL(databaseUrl).pathname.slice(1) }, 'created the database');
      await migrateDatabase(databaseUrl);
    };
    sinks.push(migratedFirst(new PgSink({ url: databaseUrl, markets: config.markets }), prepare, log));
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

/** The pipeline, in this thread: the write-behind worker builds it (the server starts that worker with startWriteBehindThread). */
export async function writeBehindFromConfig(
  config: Pick<ServerConfig, 'redisUrl' | 'databaseUrl' | 'redisPrefix' | 'markets' | 'dataDir' | 'sinkDeadlineMs'>,
  deps: WriteBehindFromConfigDeps,
): Promise<Pipeline | null> {
  if (config.redisUrl === null && config.databaseUrl === null) return null;
  const sinks = await createSinks(config, deps.log);
  const deadLetters = openDeadLetters(config);
  deps.log.info({ sinks: sinks.map((sink) => sink.name), durableSeq: deps.durableSeq }, 'write-behind starting');
  return new Pipeline({
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
    tuning: { deadlineMs: config.sinkDeadlineMs, busyDutyCycle: deps.busyDutyCycle ?? 1 },
  });
}
