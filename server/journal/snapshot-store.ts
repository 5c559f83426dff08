// Snapshots of the whole engine at a journal sequence: written to a temp file, fsynced, renamed
// into place and the directory fsynced, so a snapshot file either is complete or does not exist.
// File: 8-byte magic, u32 CRC-32C of the body, then the MessagePack body.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import type { EngineState } from '../engine/engine-state.js';
import type { MarketDataState } from '../market-data/market-stats.js';
import { checkedFileKind, openFile, sealFile } from './checked-file.js';
import { listSnapshots, snapshotName, seqOfName } from './file-names.js';

const SNAPSHOT_FILE = checkedFileKind('SWSNAP01', 'snapshot');

export interface SnapshotContents {
  /** The last journal sequence number the snapshot includes (0: none). */
  readonly journalSeq: number;
  /** Chain value of the journal record that ends at journalSeq. */
  readonly chain: number;
  /** Market-data seq per market. */
  readonly bookSeqs: Record<string, number>;
  readonly engine: EngineState;
  /** Candles, ticker windows and recent trades (absent in snapshots written before they existed). */
  readonly marketData?: MarketDataState;
  /** A cluster core's bus position as of journalSeq (absent outside a cluster). */
  readonly busCursor?: string;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** A stable digest of engine state and market-data seqs: equal states give equal hashes. */
export function stateHash(engine: EngineState, bookSeqs: Record<string, number>): string {
  const seqs = Object.keys(bookSeqs)
    .sort()
    .map((sym) => [sym, bookSeqs[sym]]);
  return createHash('sha256')
    .update(packr.pack([engine, seqs]))
    .digest('hex');
}

export function encodeSnapshot(contents: SnapshotContents): Buffer {
  return sealFile(SNAPSHOT_FILE, packr.pack(contents));
}

export function decodeSnapshot(file: Buffer): SnapshotContents {
  return unpackr.unpack(openFile(SNAPSHOT_FILE, file)) as SnapshotContents;
}

export async function writeSnapshot(dir: string, contents: SnapshotContents, fsync = true): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = snapshotName(contents.journalSeq);
  const temp = join(dir, `${name}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(encodeSnapshot(contents));
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, name));
  if (fsync) {
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
  return name;
}

export interface LoadedSnapshot {
  readonly name: string;
  readonly contents: SnapshotContents;
}

/** The newest snapshot that reads back whole; broken ones are reported and passed over. */
export async function loadNewestSnapshot(
  dir: string,
  onInvalid: (name: string, error: Error) => void,
  atOrBefore = Number.MAX_SAFE_INTEGER,
): Promise<LoadedSnapshot | null> {
  const names = (await listSnapshots(dir)).reverse();
  for (const name of names) {
    if (seqOfName(name) > atOrBefore) continue;
    try {
      return { name, contents: decodeSnapshot(await readFile(join(dir, name))) };
    } catch (error) {
      onInvalid(name, error as Error);
    }
  }
  return null;
}

/** Keeps the newest `keep` snapshots. */
export async function pruneSnapshots(dir: string, keep: number): Promise<void> {
  const names = await listSnapshots(dir);
  for (const name of names.slice(0, Math.max(0, names.length - keep))) await unlink(join(dir, name));
}
