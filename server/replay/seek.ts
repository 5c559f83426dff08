// Where a served replay starts. `--from SEQ` / `--from-time T` name the first journal sequence to
// publish; the state just before it is rebuilt from the newest snapshot at or before it plus the
// records in between (recover with toSeq), without publishing anything. Records are whole live
// batches, so playback starts at the batch that contains SEQ. Read-only: a torn tail is left alone.
import { DEFAULT_ENGINE_LIMITS } from '../engine/types.js';
import type { CommandCodec } from '../journal/command-codec.js';
import { readJournal } from '../journal/journal-reader.js';
import { recover, type RecoveredState, type RecoveryLog } from '../journal/recovery.js';
import { decodeSnapshot } from '../journal/snapshot-store.js';
import type { SessionPaths } from './journal-source.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listSegments, listSnapshots, seqOfName } from '../journal/file-names.js';

/** Replay never refuses what the live server accepted: the journal holds only accepted commands. */
export const REPLAY_LIMITS = { ...DEFAULT_ENGINE_LIMITS, maxOpenOrdersPerAccount: Number.MAX_SAFE_INTEGER };

export interface JournalStart {
  /** The first sequence a replay can publish. */
  readonly seq: number;
  /** Chain value of the record before it. */
  readonly chainBefore: number;
}

/**
 * The earliest point a replay can start: seq 1 when the journal still has it, else just after the
 * oldest snapshot the remaining journal continues (the server retires segments a snapshot covers).
 */
export async function earliestStart(paths: SessionPaths): Promise<JournalStart> {
  const firstSegment = listSegments(paths.journalDir)[0];
  const firstSeq = firstSegment ? seqOfName(firstSegment) : 1;
  if (firstSeq <= 1) return { seq: 1, chainBefore: 0 };
  for (const name of await listSnapshots(paths.snapshotDir)) {
    if (seqOfName(name) < firstSeq - 1) continue;
    try {
      const snapshot = decodeSnapshot(await readFile(join(paths.snapshotDir, name)));
      return { seq: snapshot.journalSeq + 1, chainBefore: snapshot.chain };
    } catch {
      // An unreadable snapshot is no starting point; try the next one.
    }
  }
  throw new Error(`the journal starts at sequence ${firstSeq} and no snapshot covers what came before it`);
}

/** The first sequence of the first record stamped at or after `time` (ms); past the end if none. */
export function seqAtTime(paths: SessionPaths, start: JournalStart, time: number, codec: CommandCodec): number {
  let next = start.seq;
  for (const record of readJournal(paths.journalDir, { fromSeq: start.seq, chainBefore: start.chainBefore, codec })) {
    if (record.entries[0]!.command.ts >= time) return record.seq;
    next = record.seq + record.count;
  }
  return next;
}

/** The engine, market-data seqs and journal position just before `fromSeq`. */
export async function stateBefore(paths: SessionPaths, fromSeq: number, codec: CommandCodec, log: RecoveryLog): Promise<RecoveredState> {
  const start = await earliestStart(paths);
  if (fromSeq < start.seq)
    throw new Error(`the journal (with its snapshots) starts at sequence ${start.seq}: --from must be at least that`);
  return recover({
    journalDir: paths.journalDir,
    snapshotDir: paths.snapshotDir,
    markets: paths.markets,
    limits: REPLAY_LIMITS,
    codec,
    log,
    truncateTornTail: false,
    toSeq: fromSeq - 1,
    marketData: true,
  });
}
