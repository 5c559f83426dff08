// Reads journal segments in order and checks every record: its CRC-32C, its sequence number and
// the chain that links it to the one before. A torn tail (a partial header or a record running past
// the end of the last segment, which can only be a write that was never acknowledged) ends the
// journal; any other bad record, a whole one with a bad CRC included, is corruption and names its
// segment and offset.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandCodec, DecodedBody, JournalEntry } from './command-codec.js';
import { listSegments, seqOfName } from './file-names.js';
import { MAX_RECORD_BODY_BYTES, RECORD_HEADER_BYTES, chainOf, readHeader, recordCrcMatches, type RecordHeader } from './record-format.js';

export interface JournalRecord {
  readonly seq: number;
  readonly count: number;
  readonly chain: number;
  readonly entries: JournalEntry[];
  /** The bus position a cluster core had read up to (null outside a cluster). */
  readonly busCursor: string | null;
  readonly segment: string;
  readonly offset: number;
}

export class JournalCorruption extends Error {
  constructor(
    readonly segment: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`journal corrupt in segment ${segment} at offset ${offset}: ${reason}`);
    this.name = 'JournalCorruption';
  }
}

export interface TornTail {
  readonly segment: string;
  readonly offset: number;
  readonly reason: string;
}

export interface ReadOptions {
  /** Records wholly before this sequence number are skipped (they are in the snapshot). */
  readonly fromSeq: number;
  /** Chain value of the record just before `fromSeq` (from the snapshot; 0 at the start). */
  readonly chainBefore: number;
  readonly codec: CommandCodec;
  /** Called once when the journal ends in a torn record. */
  readonly onTornTail?: (tail: TornTail) => void;
}

/**
 * Whether a whole record (right CRC) numbered from `minSeq` on starts anywhere in buffer[from..].
 * A torn write is the end of the file: if a whole later record follows a record whose length runs
 * past the end, that length field is damaged, and cutting there would drop acknowledged records.
 */
function wholeRecordFollows(buffer: Buffer, from: number, minSeq: number): boolean {
  const maxSeq = minSeq + (buffer.length - from);
  for (let p = from; p + RECORD_HEADER_BYTES <= buffer.length; p++) {
    const seq = buffer.readUInt32LE(p + 20) * 2 ** 32 + buffer.readUInt32LE(p + 16);
    if (seq < minSeq || seq > maxSeq) continue;
    const header = readHeader(buffer, p);
    if (p + RECORD_HEADER_BYTES + header.bodyLength <= buffer.length && recordCrcMatches(buffer, p, header)) return true;
  }
  return false;
}

/**
 * The commands of a record whose CRC matched: its body must continue the checksum chain from
 * `chainBefore` and decode to exactly `header.count` commands. What recovery and the write-behind's
 * tail both check.
 */
export function checkedEntries(
  body: Uint8Array,
  header: RecordHeader,
  chainBefore: number,
  codec: CommandCodec,
  segment: string,
  offset: number,
): DecodedBody {
  if (chainOf(body, chainBefore) !== header.chain) throw new JournalCorruption(segment, offset, 'broken checksum chain');
  let decoded: DecodedBody;
  try {
    decoded = codec.decodeBody(body);
  } catch (error) {
    throw new JournalCorruption(segment, offset, (error as Error).message);
  }
  if (decoded.entries.length !== header.count) throw new JournalCorruption(segment, offset, 'command count mismatch');
  return decoded;
}

export function* readJournal(dir: string, options: ReadOptions): Generator<JournalRecord> {
  const segments = listSegments(dir);
  let expectedSeq: number | null = null;
  let chain = options.chainBefore;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    const next = segments[index + 1];
    if (next !== undefined && seqOfName(next) <= options.fromSeq) continue;
    const isLast = next === undefined;
    const buffer = readFileSync(join(dir, segment));
    let offset = 0;
    let followingSeq = seqOfName(segment);
    while (offset < buffer.length) {
      const torn = (reason: string): JournalCorruption | null => {
        if (!isLast) return new JournalCorruption(segment, offset, reason);
        options.onTornTail?.({ segment, offset, reason });
        return null;
      };
      if (buffer.length - offset < RECORD_HEADER_BYTES) {
        const error = torn('partial record header');
        if (error) throw error;
        return;
      }
      const header = readHeader(buffer, offset);
      const end = offset + RECORD_HEADER_BYTES + header.bodyLength;
      if (header.bodyLength > MAX_RECORD_BODY_BYTES || end > buffer.length) {
        if (isLast && wholeRecordFollows(buffer, offset + RECORD_HEADER_BYTES, followingSeq + 1)) {
          throw new JournalCorruption(segment, offset, 'record runs past the end of the segment, but whole records follow it');
        }
        const error = torn('record runs past the end of the segment');
        if (error) throw error;
        return;
      }
      // A whole record with a bad CRC is damage, even the last one: the writer acknowledges a
      // record only after all of its bytes are on disk, so it may have been acknowledged. Only a
      // record that runs past the end of the file (above) can be a write that never finished.
      if (!recordCrcMatches(buffer, offset, header)) throw new JournalCorruption(segment, offset, 'CRC-32C mismatch');
      const lastSeq = header.seq + header.count - 1;
      if (expectedSeq !== null && header.seq !== expectedSeq) {
        throw new JournalCorruption(segment, offset, `sequence ${header.seq} where ${expectedSeq} was expected`);
      }
      const body = buffer.subarray(offset + RECORD_HEADER_BYTES, end);
      if (lastSeq >= options.fromSeq) {
        if (expectedSeq === null && header.seq !== options.fromSeq) {
          throw new JournalCorruption(segment, offset, `journal resumes at ${header.seq}, expected ${options.fromSeq}`);
        }
        const { entries, busCursor } = checkedEntries(body, header, chain, options.codec, segment, offset);
        yield { seq: header.seq, count: header.count, chain: header.chain, entries, busCursor, segment, offset };
        expectedSeq = lastSeq + 1;
      } else if (lastSeq === options.fromSeq - 1 && header.chain !== options.chainBefore) {
        // Skipped records set the chain from their headers, so check the snapshot's link here.
        throw new JournalCorruption(segment, offset, 'chain does not match the snapshot taken after this record');
      } else if (expectedSeq !== null) {
        expectedSeq = lastSeq + 1;
      }
      chain = header.chain;
      followingSeq = lastSeq + 1;
      offset = end;
    }
  }
}
