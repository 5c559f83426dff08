// Incremental reading of the live journal (the write-behind's view of it): remembers its segment and offset,
// reads whole records in chunks with async reads (the matching thread is never blocked on disk), and
// never looks past the durable seq the server reports, so a record still being written is never
// seen. Every record is checked like recovery checks it: CRC-32C, sequence and chain.
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandCodec } from './command-codec.js';
import { checkedEntries, JournalCorruption, type JournalRecord } from './journal-reader.js';
import { MAX_RECORD_BODY_BYTES, RECORD_HEADER_BYTES, readHeader, recordCrcMatches } from './record-format.js';
import { listSegments, seqOfName } from './file-names.js';

const CHUNK_BYTES = 1024 * 1024;

export interface TailPosition {
  /** Segment to read from; null: the newest segment that starts at or before `nextSeq`. */
  readonly segment: string | null;
  readonly offset: number;
  /** Chain value of the record just before `nextSeq`. */
  readonly chain: number;
  /** First seq not yet read; records wholly before it are skipped. */
  readonly nextSeq: number;
}

export class JournalTail {
  private segment: string | null;
  private offset: number;
  private chain: number;
  private handle: FileHandle | null = null;
  // Reused: decoded entries hold no reference to the bytes they came from.
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  nextSeq: number;

  constructor(
    private readonly dir: string,
    private readonly codec: CommandCodec,
    position: TailPosition,
  ) {
    this.segment = position.segment;
    this.offset = position.offset;
    this.chain = position.chain;
    this.nextSeq = position.nextSeq;
  }

  /** The durable records after the last one read, up to `durableSeq`, about `maxCommands` at most (whole records). */
  async read(durableSeq: number, maxCommands: number): Promise<JournalRecord[]> {
    const records: JournalRecord[] = [];
    let commands = 0;
    while (this.nextSeq <= durableSeq && commands < maxCommands) {
      if (!(await this.ensureOpen())) break;
      const chunk = await this.readAt(this.offset, CHUNK_BYTES, this.chunk);
      let position = 0;
      let progressed = false;
      while (position + RECORD_HEADER_BYTES <= chunk.length && this.nextSeq <= durableSeq && commands < maxCommands) {
        const header = readHeader(chunk, position);
        if (header.seq > durableSeq) break;
        const segment = this.segment!;
        const recordOffset = this.offset;
        if (header.bodyLength > MAX_RECORD_BODY_BYTES) throw new JournalCorruption(segment, recordOffset, 'record body too large');
        const total = RECORD_HEADER_BYTES + header.bodyLength;
        let buffer = chunk;
        let start = position;
        if (position + total > chunk.length) {
          if (position > 0) break; // read it from its own start next round
          buffer = await this.readAt(this.offset, total);
          start = 0;
          if (buffer.length < total) throw new JournalCorruption(segment, recordOffset, 'durable record is incomplete');
        }
        const lastSeq = header.seq + header.count - 1;
        if (lastSeq >= this.nextSeq) {
          if (header.seq !== this.nextSeq)
            throw new JournalCorruption(segment, recordOffset, `sequence ${header.seq} where ${this.nextSeq} was expected`);
          if (!recordCrcMatches(buffer, start, header)) throw new JournalCorruption(segment, recordOffset, 'CRC-32C mismatch');
          const body = buffer.subarray(start + RECORD_HEADER_BYTES, start + total);
          const { entries, busCursor } = checkedEntries(body, header, this.chain, this.codec, segment, recordOffset);
          records.push({ seq: header.seq, count: header.count, chain: header.chain, entries, busCursor, segment, offset: recordOffset });
          commands += header.count;
          this.nextSeq = lastSeq + 1;
        }
        this.chain = header.chain;
        this.offset += total;
        position += total;
        progressed = true;
      }
      if (progressed) continue;
      // Nothing more in this segment: the writer has moved on to a segment starting at nextSeq.
      if (chunk.length >= RECORD_HEADER_BYTES || !(await this.moveToNextSegment())) break;
    }
    return records;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }

  private async ensureOpen(): Promise<boolean> {
    if (this.handle) return true;
    if (this.segment === null) {
      const candidates = listSegments(this.dir).filter((name) => seqOfName(name) <= this.nextSeq);
      const newest = candidates[candidates.length - 1];
      if (newest === undefined) return false;
      this.segment = newest;
      this.offset = 0;
    }
    this.handle = await open(join(this.dir, this.segment), 'r');
    return true;
  }

  private async moveToNextSegment(): Promise<boolean> {
    const next = listSegments(this.dir).find((name) => seqOfName(name) === this.nextSeq && name !== this.segment);
    if (next === undefined) return false;
    await this.close();
    this.segment = next;
    this.offset = 0;
    return true;
  }

  private async readAt(offset: number, length: number, buffer = Buffer.allocUnsafe(length)): Promise<Buffer> {
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle!.read(buffer, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }
}
