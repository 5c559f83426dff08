// The operations behind `npm run dlq`: list, show, redrive and drop dead-lettered batches. Redrive
// writes the stored batch to its sink again (after the cause was fixed) and removes it only once
// the sink took it; a batch that fails again stays where it is. What the batch touched is written as
// it is at the sink's applied seq, read from the data dir's journal (redrive-state.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseArgsMistake } from '../../cli-usage.js';
import { DEFAULTS, parseMarkets } from '../../config.js';
import type { MarketInfo } from '../../../protocol/messages.js';
import { lockDataDir } from '../../data-dir-lock.js';
import { createCommandCodec } from '../../journal/command-codec.js';
import { systemClock } from '../resilience/clock.js';
import { DeadLetterStore, MAX_DEAD_LETTERS_PER_SINK } from './dead-letter-store.js';
import type { EventBatch, RedriveState, Sink } from '../event-batch.js';
import { PgSink } from '../postgres/pg-sink.js';
import { RedisSink } from '../redis/redis-sink.js';
import { JournalAftermath } from './redrive-state.js';
import { DEFAULT_TUNING } from '../setup.js';

export const DLQ_USAGE =
  'usage: npm run dlq -- list|show <id>|redrive <id>|drop <id> [--data-dir D] [--database-url URL] [--redis-url URL] [--redis-prefix P]';

export const DLQ_HELP = `Usage: npm run dlq -- <command> [options]

Dead-lettered write-behind batches in <data-dir>/dead-letter/ (docs/PERSISTENCE.md).

  list                 every dead letter: id, seq range, commands, the sink's error
  show <id>            one dead letter in full, as JSON
  redrive <id>         write it to its sink again, then remove it (takes the data dir's lock:
                       stop the server first)
  drop <id>            remove it (takes the data dir's lock too)

  --data-dir D         the server's data dir [DATA_DIR] (default ${DEFAULTS.dataDir})
  --redis-url URL      for redis letters [REDIS_URL] (default none)
  --database-url URL   for postgres letters [DATABASE_URL] (default none)
  --redis-prefix P     the server's Redis key prefix [REDIS_PREFIX] (default ${DEFAULTS.redisPrefix})
  --help, -h           this text

Exit codes: 0 ok, 1 failed, 2 bad usage.`;

export interface DlqOutput {
  out(line: string): void;
  err(line: string): void;
}

interface DlqOptions {
  readonly dataDir: string;
  readonly databaseUrl: string | null;
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
}

function marketsOf(dataDir: string): MarketInfo[] {
  const file = join(dataDir, 'markets.json');
  try {
    return parseMarkets(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
  } catch {
    return [];
  }
}

/** The markets the server recorded at start: the replay needs exactly those. */
function recordedMarkets(dataDir: string): MarketInfo[] {
  const file = join(dataDir, 'markets.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`the redrive replays the journal with the markets the server recorded in ${file}: ${(error as Error).message}`);
  }
  return parseMarkets(JSON.parse(text) as unknown, file);
}

/**
 * The state of what `batch` touched as of a given applied seq, replayed from the data dir the way
 * the server's write-behind replays it (its markets, engine limits and book depth). The journal is
 * opened on the first call only: a sink that needs no state (Postgres) costs no replay.
 */
function currentStateOf(
  batch: EventBatch,
  options: DlqOptions,
  output: DlqOutput,
): { current: (appliedSeq: number) => Promise<RedriveState>; close(): Promise<void> } {
  let aftermath: Promise<JournalAftermath> | null = null;
  return {
    current: async (appliedSeq) => {
      aftermath ??= JournalAftermath.open(batch, appliedSeq, {
        journalDir: join(options.dataDir, 'journal'),
        snapshotDir: join(options.dataDir, 'snapshots'),
        markets: recordedMarkets(options.dataDir),
        limits: { maxOpenOrdersPerAccount: DEFAULTS.maxOpenOrdersPerAccount },
        codec: createCommandCodec(),
        // The write-behind's own depth and batch size.
        depth: DEFAULT_TUNING.bookDepth,
        maxBatchCommands: DEFAULT_TUNING.maxBatchCommands,
        log: { warn: (fields, msg) => output.err(`${msg} ${JSON.stringify(fields)}`) },
      });
      return (await aftermath).at(appliedSeq);
    },
    close: async () => {
      // A failed open leaves nothing to close; its error was already reported by the redrive.
      await (await aftermath?.catch(() => null))?.close();
    },
  };
}

function sinkFor(name: string, options: DlqOptions): Sink {
  if (name === 'redis') {
    if (options.redisUrl === null) throw new Error('redriving to redis needs --redis-url (or REDIS_URL)');
    return new RedisSink({ url: options.redisUrl, prefix: options.redisPrefix });
  }
  if (name === 'postgres') {
    if (options.databaseUrl === null) throw new Error('redriving to postgres needs --database-url (or DATABASE_URL)');
    return new PgSink({ url: options.databaseUrl, markets: marketsOf(options.dataDir) });
  }
  throw new Error(`unknown sink ${JSON.stringify(name)}: redis or postgres`);
}

/** Retries the first call for a while: a Redis sink has no offline queue and fails until connected. */
async function connected(sink: Sink, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await sink.appliedSeq();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Runs one dlq command; returns the process exit code. */
export async function runDlqCommand(argv: readonly string[], env: NodeJS.ProcessEnv, output: DlqOutput): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string' },
        'redis-prefix': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    output.err(`dlq: ${parseArgsMistake(error) ?? (error as Error).message} (npm run dlq -- --help lists the options)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    output.out(DLQ_HELP);
    return 0;
  }
  const [command, id] = positionals;
  const options: DlqOptions = {
    dataDir: values['data-dir'] ?? env.DATA_DIR ?? DEFAULTS.dataDir,
    databaseUrl: values['database-url'] ?? env.DATABASE_URL ?? null,
    redisUrl: values['redis-url'] ?? env.REDIS_URL ?? null,
    redisPrefix: values['redis-prefix'] ?? env.REDIS_PREFIX ?? DEFAULTS.redisPrefix,
  };
  const store = new DeadLetterStore({ dataDir: options.dataDir, maxPerSink: MAX_DEAD_LETTERS_PER_SINK, clock: systemClock });
  const needsId = command === 'show' || command === 'redrive' || command === 'drop';
  if ((command !== 'list' && !needsId) || (needsId && id === undefined) || positionals.length > (needsId ? 2 : 1)) {
    output.err(DLQ_USAGE);
    return 2;
  }
  // A mistyped dir would otherwise list "0 dead-lettered batch(es)" and look like good news.
  if (!existsSync(options.dataDir)) {
    output.err(`dlq ${command}: data dir ${options.dataDir} does not exist (give the server's --data-dir)`);
    return 1;
  }
  try {
    if (command === 'list') {
      const letters = await store.list();
      for (const letter of letters) {
        const full = await store.read(letter.id);
        output.out(
          `${letter.id}\tseq ${letter.fromSeq}..${letter.toSeq}\t${full?.batch.commands.length ?? '?'} commands\t${full?.error ?? ''}`,
        );
      }
      output.out(`${letters.length} dead-lettered batch(es)`);
      return 0;
    }
    const letter = await store.read(id!);
    if (letter === null) {
      output.err(`no dead letter ${id}`);
      return 1;
    }
    if (command === 'show') {
      output.out(JSON.stringify({ ...letter, at: new Date(letter.at).toISOString() }, null, 2));
      return 0;
    }
    // Drop and redrive write the data dir and its sinks: one writer at a time, so not while a
    // server runs on it (its pipeline would be writing the same sinks) or another dlq does.
    const lock = lockDataDir(options.dataDir, `dlq ${command} ${letter.id}`);
    try {
      if (command === 'drop') {
        await store.remove(letter.id);
        output.out(`dropped ${letter.id}`);
        return 0;
      }
      const sink = sinkFor(letter.sink, options);
      const state = currentStateOf(letter.batch, options, output);
      try {
        await connected(sink, 10_000);
        await (sink.redrive ? sink.redrive(letter.batch, state.current) : sink.apply(letter.batch));
      } finally {
        await state.close();
        await sink.close();
      }
      await store.remove(letter.id);
      output.out(`redriven ${letter.id} (${letter.batch.commands.length} commands) to ${letter.sink}`);
      return 0;
    } finally {
      lock.release();
    }
  } catch (error) {
    output.err(`dlq ${command} failed: ${(error as Error).message}`);
    return 1;
  }
}
