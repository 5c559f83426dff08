// bench:journal — the journal's group commit and start-up recovery.
// 1. Group commit: producers append one batch per event-loop turn (as the gateway does) with a
//    bounded number of commands in flight; fsync on vs off gives commands/s, groups/s (one write +
//    fdatasync each) and commands per group.
// 2. Recovery: 1,000,000 accepted commands journaled, then `recover()` from an empty snapshot dir,
//    decomposed into read+verify+decode alone and engine execution alone, and again as the server
//    recovers (market data rebuilt, which needs the engine's events).
// Run: npm run bench:journal [-- --commands 1000000 --seconds 3]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCommandCodec, type JournalEntry } from '../server/journal/command-codec.js';
import { readJournal } from '../server/journal/journal-reader.js';
import { JournalWriter } from '../server/journal/journal-writer.js';
import { recover } from '../server/journal/recovery.js';
import { acceptedEntries, SEGMENT_BYTES, writeJournal } from './lib/recovery-journal.js';
import { human, median, printMachine, printTable } from './lib/report.js';
import { BENCH_LIMITS, BENCH_MARKETS, createBenchEngine } from './lib/streams.js';
import { listSegments } from '../server/journal/file-names.js';

const { values: args } = parseArgs({
  options: {
    commands: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
  },
});
const RECOVERY_COMMANDS = Number(args.commands);
const GROUP_SECONDS = Number(args.seconds);
const RUNS = Math.max(1, Number(args.runs));
const silent = { info: () => {}, warn: () => {}, error: () => {} };

interface GroupCommitFigures {
  readonly fsync: boolean;
  readonly batch: number;
  readonly commandsPerSec: number;
  readonly groupsPerSec: number;
  readonly commandsPerGroup: number;
  readonly appendsPerGroup: number;
}

/**
 * Appends `batch` commands per event-loop turn while fewer than `window` commands await
 * durability; runs for `seconds`. The window bounds memory like the gateway's backpressure does.
 */
async function groupCommit(entries: readonly JournalEntry[], fsync: boolean, batch: number, seconds: number): Promise<GroupCommitFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-bench-journal-'));
  try {
    const writer = new JournalWriter({ dir, nextSeq: 1, chain: 0, segmentBytes: SEGMENT_BYTES, fsync, codec: createCommandCodec() });
    const window = 16_384;
    let inFlight = 0;
    let next = 0;
    let durable = 0;
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(Math.round(seconds * 1e9));
    await new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        if (process.hrtime.bigint() >= deadline) {
          resolve();
          return;
        }
        if (inFlight + batch <= window) {
          const slice = [];
          for (let i = 0; i < batch; i++) slice.push(entries[(next + i) % entries.length]!);
          next += batch;
          inFlight += batch;
          writer.append(slice).then(() => {
            inFlight -= batch;
            durable += batch;
          }, reject);
        }
        setImmediate(turn);
      };
      turn();
    });
    await writer.close();
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      fsync,
      batch,
      commandsPerSec: durable / elapsed,
      groupsPerSec: writer.groups / elapsed,
      commandsPerGroup: writer.records === 0 ? 0 : (writer.records * batch) / writer.groups,
      appendsPerGroup: writer.groups === 0 ? 0 : writer.records / writer.groups,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RecoveryFigures {
  readonly commands: number;
  readonly records: number;
  readonly journalMiB: number;
  readonly recoverPerSec: number;
  /** As the server recovers: with market data (candles, tickers, recent trades) rebuilt from the records' trades. */
  readonly recoverWithMarketDataPerSec: number;
  readonly readDecodePerSec: number;
  readonly enginePerSec: number;
  readonly runsRecoverPerSec: number[];
}

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function recoveryBench(entries: readonly JournalEntry[], batch: number): Promise<RecoveryFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spotwire-bench-recovery-'));
  try {
    const journalDir = join(dataDir, 'journal');
    const snapshotDir = join(dataDir, 'snapshots');
    await writeJournal(journalDir, entries, batch);
    const journalBytes = listSegments(journalDir).reduce((sum, name) => sum + statSync(join(journalDir, name)).size, 0);
    const recoverTimes: number[] = [];
    const marketDataTimes: number[] = [];
    const readTimes: number[] = [];
    const engineTimes: number[] = [];
    let records = 0;
    for (let run = 0; run < RUNS + 1; run++) {
      let start = process.hrtime.bigint();
      const state = await recover({
        journalDir,
        snapshotDir,
        markets: BENCH_MARKETS,
        limits: BENCH_LIMITS,
        codec: createCommandCodec(),
        log: silent,
        truncateTornTail: false,
      });
      const recoverSeconds = secondsSince(start);
      if (state.replayedCommands !== entries.length) throw new Error(`recovered ${state.replayedCommands} of ${entries.length}`);
      records = state.replayedRecords;

      start = process.hrtime.bigint();
      const withMarketData = await recover({
        journalDir,
        snapshotDir,
        markets: BENCH_MARKETS,
        limits: BENCH_LIMITS,
        codec: createCommandCodec(),
        log: silent,
        truncateTornTail: false,
        marketData: true,
      });
      const marketDataSeconds = secondsSince(start);
      if (withMarketData.replayedCommands !== entries.length)
        throw new Error(`recovered ${withMarketData.replayedCommands} of ${entries.length} with market data`);

      start = process.hrtime.bigint();
      let decoded = 0;
      for (const record of readJournal(journalDir, { fromSeq: 1, chainBefore: 0, codec: createCommandCodec() })) decoded += record.count;
      const readSeconds = secondsSince(start);
      if (decoded !== entries.length) throw new Error(`read ${decoded} of ${entries.length}`);

      const engine = createBenchEngine();
      start = process.hrtime.bigint();
      for (const entry of entries) engine.execute(entry.command);
      const engineSeconds = secondsSince(start);
      if (run === 0) continue; // warm-up
      recoverTimes.push(recoverSeconds);
      marketDataTimes.push(marketDataSeconds);
      readTimes.push(readSeconds);
      engineTimes.push(engineSeconds);
    }
    return {
      commands: entries.length,
      records,
      journalMiB: journalBytes / 2 ** 20,
      recoverPerSec: entries.length / median(recoverTimes),
      recoverWithMarketDataPerSec: entries.length / median(marketDataTimes),
      readDecodePerSec: entries.length / median(readTimes),
      enginePerSec: entries.length / median(engineTimes),
      runsRecoverPerSec: recoverTimes.map((s) => Math.round(entries.length / s)),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const host = printMachine();
  const started = Date.now();
  const { entries, rejects } = acceptedEntries(RECOVERY_COMMANDS);
  console.log(
    `${entries.length} accepted steady-stream commands (funding deposits first) generated in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );

  // fsync on and off alternate so both see the same machine load.
  const group: GroupCommitFigures[] = [];
  for (const batch of [1, 64]) {
    for (const fsync of [true, false]) group.push(await groupCommit(entries, fsync, batch, GROUP_SECONDS));
  }
  console.log(`group commit (${GROUP_SECONDS} s each, one append per event-loop turn, ≤ 16,384 commands in flight)`);
  printTable(
    ['fsync', 'commands/append', 'commands/s', 'groups/s', 'appends/group', 'commands/group'],
    group.map((g) => [
      g.fsync ? 'on' : 'off',
      String(g.batch),
      human(g.commandsPerSec),
      human(g.groupsPerSec),
      g.appendsPerGroup.toFixed(1),
      g.commandsPerGroup.toFixed(1),
    ]),
  );

  console.log(`\nrecovery of ${entries.length} commands (no snapshot; ${RUNS} runs after a warm-up, medians)`);
  const recovery: (RecoveryFigures & { batch: number })[] = [];
  for (const batch of [64, 1]) recovery.push({ batch, ...(await recoveryBench(entries, batch)) });
  printTable(
    ['commands/record', 'records', 'journal MiB', 'recover cmds/s', 'with market data', 'read+decode cmds/s', 'engine cmds/s'],
    recovery.map((r) => [
      String(r.batch),
      String(r.records),
      r.journalMiB.toFixed(1),
      human(r.recoverPerSec),
      human(r.recoverWithMarketDataPerSec),
      human(r.readDecodePerSec),
      human(r.enginePerSec),
    ]),
  );
  for (const r of recovery) {
    const met = r.recoverPerSec >= 2_000_000;
    console.log(
      `target: recovery ≥ 2,000,000 commands/s (${r.batch} per record): ${human(r.recoverPerSec)}/s ${met ? 'met' : 'MISSED'}; the server's start (with market data): ${human(r.recoverWithMarketDataPerSec)}/s`,
    );
  }

  // Rejected commands are not journaled, and recover() throws on a journaled command it rejects.
  console.log(`steady stream (seed 7) behind the journal: ${rejects.summary()}`);
  console.log(
    JSON.stringify({
      bench: 'journal',
      machine: host,
      streamRejects: rejects,
      groupCommit: group.map((g) => ({ ...g, commandsPerSec: Math.round(g.commandsPerSec), groupsPerSec: Math.round(g.groupsPerSec) })),
      recovery: recovery.map((r) => ({
        ...r,
        recoverPerSec: Math.round(r.recoverPerSec),
        recoverWithMarketDataPerSec: Math.round(r.recoverWithMarketDataPerSec),
        readDecodePerSec: Math.round(r.readDecodePerSec),
        enginePerSec: Math.round(r.enginePerSec),
      })),
    }),
  );
}

await main();
