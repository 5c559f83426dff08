// bench:hot-path — CPU time (process.cpuUsage, not wall time) of the engine's and recovery's hot
// paths on fixed seeded workloads: the figure that stays comparable on a loaded, shared machine,
// where wall-clock throughput moves with other people's load. Used for before/after A/B of
// engine and journal changes: run the two versions alternately and compare medians.
// Run: npm run bench:hot-path [-- --runs 5 --recovery-commands 300000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCommandCodec } from '../server/journal/command-codec.js';
import { readJournal } from '../server/journal/journal-reader.js';
import { recover } from '../server/journal/recovery.js';
import { SpotwireBook } from './lib/book-adapters.js';
import { acceptedEntries, writeJournal } from './lib/recovery-journal.js';
import { median } from './lib/report.js';
import { BENCH_LIMITS, BENCH_MARKETS, buildStream } from './lib/streams.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'recovery-commands': { type: 'string', default: '300000' },
  },
});
const RUNS = Math.max(1, Number(args.runs));
const RECOVERY_COMMANDS = Math.max(1000, Number(args['recovery-commands']));
const silent = { info: () => undefined, warn: () => undefined };

function cpuNanos(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
}

/** CPU ns per command of running a whole stream through a fresh engine. */
function engineRun(book: SpotwireBook): number {
  book.reset();
  const count = book.commands.length;
  const start = cpuNanos();
  for (let i = 0; i < count; i++) book.run(i);
  return (cpuNanos() - start) / count;
}

async function recoverRun(journalDir: string, snapshotDir: string, count: number): Promise<number> {
  const start = cpuNanos();
  const state = await recover({
    journalDir,
    snapshotDir,
    markets: BENCH_MARKETS,
    limits: BENCH_LIMITS,
    codec: createCommandCodec(),
    log: silent,
    truncateTornTail: false,
  });
  const nanos = cpuNanos() - start;
  if (state.replayedCommands !== count) throw new Error(`recovered ${state.replayedCommands} of ${count}`);
  return nanos / count;
}

function readRun(journalDir: string, count: number): number {
  const start = cpuNanos();
  let decoded = 0;
  for (const record of readJournal(journalDir, { fromSeq: 1, chainBefore: 0, codec: createCommandCodec() })) decoded += record.count;
  const nanos = cpuNanos() - start;
  if (decoded !== count) throw new Error(`read ${decoded} of ${count}`);
  return nanos / count;
}

async function main(): Promise<void> {
  const steady = new SpotwireBook(buildStream('steady', 200_000));
  const deep = new SpotwireBook(buildStream('deep', 300_000));
  const { entries, rejects } = acceptedEntries(RECOVERY_COMMANDS);
  const dataDir = mkdtempSync(join(tmpdir(), 'spotwire-bench-hot-path-'));
  try {
    const journalDir = join(dataDir, 'journal');
    const snapshotDir = join(dataDir, 'snapshots');
    await writeJournal(journalDir, entries, 64);
    const figures = { steady: [] as number[], deep: [] as number[], recover: [] as number[], read: [] as number[] };
    // One warm-up round, then RUNS timed rounds.
    for (let run = 0; run <= RUNS; run++) {
      const round = {
        steady: engineRun(steady),
        deep: engineRun(deep),
        recover: await recoverRun(journalDir, snapshotDir, entries.length),
        read: readRun(journalDir, entries.length),
      };
      if (run === 0) continue;
      for (const key of Object.keys(figures) as (keyof typeof figures)[]) figures[key].push(round[key]);
    }
    const medians = Object.fromEntries(Object.entries(figures).map(([key, values]) => [key, Math.round(median(values))]));
    console.log('CPU ns per command, medians of', RUNS, 'runs:', medians);
    // After timing: an engine that rejects (an unfunded account, say) would time as a fast one.
    const engineRejects = { steady: steady.tallyRejects(), deep: deep.tallyRejects() };
    console.log(
      `steady ${engineRejects.steady.summary()}; deep ${engineRejects.deep.summary()}; recovery journal: stream commands ${rejects.summary()}`,
    );
    console.log(
      JSON.stringify({
        runs: figures,
        medians,
        recoveryCommands: entries.length,
        rejects: { steady: engineRejects.steady, deep: engineRejects.deep, recoveryStream: rejects },
      }),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
