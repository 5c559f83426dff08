// Journal segments and snapshots are named by a sequence number, zero-padded so that names sort
// in seq order: `0000000000000001.log` starts at seq 1, `0000000000004096.snap` holds the state
// after seq 4096. Every reader and writer goes through these.
import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';

const SEQ_DIGITS = 16;
const SEGMENT_NAME = /^\d{16}\.log$/;
const SNAPSHOT_NAME = /^\d{16}\.snap$/;

function padded(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0');
}

/** The seq a segment or snapshot file name carries (a segment's first, a snapshot's last). */
export function seqOfName(name: string): number {
  return Number(name.slice(0, SEQ_DIGITS));
}

export function segmentName(firstSeq: number): string {
  return `${padded(firstSeq)}.log`;
}

export function snapshotName(journalSeq: number): string {
  return `${padded(journalSeq)}.snap`;
}

/** The journal's segments, oldest first ([] when the directory does not exist). */
export function listSegments(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => SEGMENT_NAME.test(name)).sort();
}

/** The snapshots, oldest first ([] when the directory does not exist). */
export async function listSnapshots(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => SNAPSHOT_NAME.test(name)).sort();
  } catch {
    return [];
  }
}
