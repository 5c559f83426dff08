// Tampering with a copy of a captured journal, the way a bug or a bad disk would: flip a byte
// (caught by the CRC), or change a command and re-seal every record (CRC and chain valid, so only
// re-running the commands can tell).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandCodec, type JournalEntry } from '../../server/journal/command-codec.js';
import { RECORD_HEADER_BYTES, chainOf, encodeRecord, readHeader } from '../../server/journal/record-format.js';
import { listSegments } from '../../server/journal/file-names.js';

export interface StoredRecord {
  readonly segment: string;
  readonly offset: number;
  readonly seq: number;
  entries: JournalEntry[];
}

const codec = createCommandCodec();

/** A copy of a session's data dir in a temp dir of its own; returns the copy's path. */
export function copySession(dataDir: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'spotwire-replay-copy-')), 'data');
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}

export function readRecords(journalDir: string): StoredRecord[] {
  const records: StoredRecord[] = [];
  for (const segment of listSegments(journalDir)) {
    const buffer = readFileSync(join(journalDir, segment));
    for (let offset = 0; offset < buffer.length;) {
      const header = readHeader(buffer, offset);
      const body = buffer.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + header.bodyLength);
      records.push({ segment, offset, seq: header.seq, entries: codec.decodeBatch(body) });
      offset += RECORD_HEADER_BYTES + header.bodyLength;
    }
  }
  return records;
}

/** Writes `records` back into their segments with fresh CRCs and chain. */
export function rewriteJournal(journalDir: string, records: readonly StoredRecord[]): void {
  const segments = new Map<string, Buffer[]>();
  let chain = 0;
  for (const record of records) {
    const body = codec.encodeBatch(record.entries);
    chain = chainOf(body, chain);
    const list = segments.get(record.segment) ?? [];
    list.push(encodeRecord(body, record.seq, record.entries.length, chain));
    segments.set(record.segment, list);
  }
  for (const [segment, parts] of segments) writeFileSync(join(journalDir, segment), Buffer.concat(parts));
}

export function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = bytes[offset]! ^ 0xff;
  writeFileSync(path, bytes);
}
