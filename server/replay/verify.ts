// `replay --verify`: re-runs a captured journal through two fresh engines and proves determinism.
// At every record both engines must produce byte-identical encoded outputs, every journaled
// order id must come out again, and wherever the live server left a snapshot, the replayed state
// must hash equal to it (that compares the replay with the live run, not only with itself).
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { exportEngineState, restoreEngine } from '../engine/engine-state.js';
import { MatchingEngine } from '../engine/engine.js';
import { createCommandCodec } from '../journal/command-codec.js';
import { JournalCorruption, readJournal, type TornTail } from '../journal/journal-reader.js';
import { applyRecord, ReplayDivergence } from '../journal/recovery.js';
import { decodeSnapshot, stateHash, type SnapshotContents } from '../journal/snapshot-store.js';
import type { SessionPaths } from './journal-source.js';
import { countJournal } from './journal-stats.js';
import { Progress } from './progress.js';
import { earliestStart, REPLAY_LIMITS } from './seek.js';
import { listSnapshots } from '../journal/file-names.js';

export interface VerifyReport {
  readonly ok: boolean;
  readonly commands: number;
  readonly records: number;
  readonly trades: number;
  readonly snapshotsChecked: number;
  readonly stateHash: string;
  readonly elapsedMs: number;
  readonly divergence: string | null;
  /** A last record that was never completely written (so never acknowledged): not replayed. */
  readonly tornTail: TornTail | null;
}

export async function verifySession(paths: SessionPaths): Promise<VerifyReport> {
  const started = performance.now();
  const codec = createCommandCodec();
  const snapshots = new Map<number, SnapshotContents>();
  for (const name of await listSnapshots(paths.snapshotDir)) {
    try {
      const contents = decodeSnapshot(await readFile(join(paths.snapshotDir, name)));
      snapshots.set(contents.journalSeq, contents);
    } catch {
      // An unreadable snapshot is simply not a checkpoint.
    }
  }
  const { seq: firstSeq } = await earliestStart(paths);
  const start = firstSeq > 1 ? (snapshots.get(firstSeq - 1) ?? null) : null;
  if (firstSeq > 1 && !start) throw new Error(`no readable snapshot at journal sequence ${firstSeq - 1}`);
  const fresh = (): MatchingEngine =>
    start ? restoreEngine(paths.markets, REPLAY_LIMITS, start.engine) : new MatchingEngine(paths.markets, REPLAY_LIMITS);
  const engines = [fresh(), fresh()] as const;
  const seqs = [0, 1].map(() => new Map(paths.markets.map((m) => [m.sym, start?.bookSeqs[m.sym] ?? 0])));
  const packr = new Packr({ useRecords: false });
  const total = countJournal(paths.journalDir).commands;
  const progress = new Progress('verify', total);
  let commands = 0;
  let records = 0;
  let trades = 0;
  let snapshotsChecked = 0;
  let divergence: string | null = null;
  let tornTail: TornTail | null = null;
  const onTornTail = (tail: TornTail): void => {
    tornTail = tail;
  };
  try {
    for (const record of readJournal(paths.journalDir, { fromSeq: firstSeq, chainBefore: start?.chain ?? 0, codec, onTornTail })) {
      const a = applyRecord(engines[0], seqs[0]!, record.seq, record.entries);
      const b = applyRecord(engines[1], seqs[1]!, record.seq, record.entries);
      const bytesA = packr.pack([a.results, [...a.bookSeqs]]);
      const bytesB = packr.pack([b.results, [...b.bookSeqs]]);
      if (Buffer.compare(bytesA, bytesB) !== 0) {
        divergence = `outputs differ at journal sequence ${record.seq}`;
        break;
      }
      for (const result of a.results) for (const event of result.events) if (event.kind === 'trade') trades++;
      commands += record.count;
      records++;
      const lastSeq = record.seq + record.count - 1;
      const checkpoint = snapshots.get(lastSeq);
      if (checkpoint) {
        const replayed = stateHash(exportEngineState(engines[0]), Object.fromEntries(seqs[0]!));
        if (replayed !== stateHash(checkpoint.engine, checkpoint.bookSeqs)) {
          divergence = `state at journal sequence ${lastSeq} differs from the live server's snapshot`;
          break;
        }
        snapshotsChecked++;
      }
      progress.update(commands);
    }
  } catch (error) {
    if (!(error instanceof ReplayDivergence) && !(error instanceof JournalCorruption)) throw error;
    divergence = error.message;
  }
  progress.finish();
  return {
    ok: divergence === null,
    commands,
    records,
    trades,
    snapshotsChecked,
    stateHash: stateHash(exportEngineState(engines[0]), Object.fromEntries(seqs[0]!)),
    elapsedMs: performance.now() - started,
    divergence,
    tornTail,
  };
}
