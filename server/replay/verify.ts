// `replay --verify`: re-runs a captured journal through two fresh engines and proves determinism.
// At every record both engines must produce byte-identical encoded outputs, every journaled
// order id must come out again, and wherever the live server left a snapshot, the replayed state
// must hash equal to it (that compares the replay with the live run, not only with itself).
import { Buffer } from 'node:buffer';
import { Packr } from 'msgpackr';
import { exportEngineState, restoreEngine } from '../engine/engine-state.js';
import { MatchingEngine } from '../engine/engine.js';
import { DEFAULT_ENGINE_LIMITS } from '../engine/types.js';
import { createCommandCodec } from '../journal/command-codec.js';
import { listSegments, readJournal } from '../journal/journal-reader.js';
import { applyRecord, ReplayDivergence } from '../journal/recovery.js';
import { decodeSnapshot, listSnapshots, stateHash, type SnapshotContents } from '../journal/snapshot-store.js';
import type { SessionPaths } from './journal-source.js';
import { countJournal } from './journal-stats.js';
import { Progress } from './progress.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface VerifyReport {
  readonly ok: boolean;
  readonly commands: number;
  readonly records: number;
  readonly trades: number;
  readonly snapshotsChecked: number;
  readonly stateHash: string;
  readonly elapsedMs: number;
  readonly divergence: string | null;
}

const limits = { ...DEFAULT_ENGINE_LIMITS, maxOpenOrdersPerAccount: Number.MAX_SAFE_INTEGER };

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
  // Start from seq 1 when the journal still has it, else from the oldest snapshot it continues.
  const firstSegment = listSegments(paths.journalDir)[0];
  const firstSeq = firstSegment ? Number(firstSegment.slice(0, 16)) : 1;
  let start: SnapshotContents | null = null;
  if (firstSeq > 1) {
    const usable = [...snapshots.values()].filter((s) => s.journalSeq >= firstSeq - 1).sort((a, b) => a.journalSeq - b.journalSeq);
    start = usable[0] ?? null;
    if (!start) throw new Error(`the journal starts at ${firstSeq} and no snapshot covers what came before`);
  }
  const fresh = (): MatchingEngine => (start ? restoreEngine(paths.markets, limits, start.engine) : new MatchingEngine(paths.markets, limits));
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
  try {
    for (const record of readJournal(paths.journalDir, { fromSeq: (start?.journalSeq ?? 0) + 1, chainBefore: start?.chain ?? 0, codec })) {
      const a = applyRecord(engines[0], seqs[0]!, record.seq, record.entries);
      const b = applyRecord(engines[1], seqs[1]!, record.seq, record.entries);
      const bytesA = packr.pack([a.results, [...a.bookSeqs]]);
      const bytesB = packr.pack([b.results, [...b.bookSeqs]]);
      if (!Buffer.from(bytesA).equals(Buffer.from(bytesB))) {
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
    if (!(error instanceof ReplayDivergence)) throw error;
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
  };
}
