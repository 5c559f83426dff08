// The journal's on-disk record: one record per committed batch (so replay knows batch boundaries,
// which market-data seq depends on). Layout, little-endian, spec in docs/JOURNAL.md:
//
//   0  u32  body length in bytes
//   4  u32  CRC-32C of bytes 8 .. end of record
//   8  u32  chain: CRC-32C of the body seeded with the previous record's chain
//  12  u32  number of commands in the body
//  16  u64  global sequence number of the first command
//  24  ...  body: MessagePack array of command tuples (command-codec.ts)
import { crc32c } from '@node-rs/crc32';

export const RECORD_HEADER_BYTES = 24;
/** A body larger than this is corruption, not a record (a batch is far smaller). */
export const MAX_RECORD_BODY_BYTES = 64 * 1024 * 1024;

export interface RecordHeader {
  readonly bodyLength: number;
  readonly crc: number;
  readonly chain: number;
  readonly count: number;
  readonly seq: number;
}

export function chainOf(body: Uint8Array, previousChain: number): number {
  return crc32c(body, previousChain);
}

export function encodeRecord(body: Uint8Array, seq: number, count: number, chain: number): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + body.length);
  record.writeUInt32LE(body.length, 0);
  record.writeUInt32LE(chain, 8);
  record.writeUInt32LE(count, 12);
  record.writeBigUInt64LE(BigInt(seq), 16);
  record.set(body, RECORD_HEADER_BYTES);
  record.writeUInt32LE(crc32c(record.subarray(8)), 4);
  return record;
}

export function readHeader(buffer: Buffer, offset: number): RecordHeader {
  return {
    bodyLength: buffer.readUInt32LE(offset),
    crc: buffer.readUInt32LE(offset + 4),
    chain: buffer.readUInt32LE(offset + 8),
    count: buffer.readUInt32LE(offset + 12),
    seq: Number(buffer.readBigUInt64LE(offset + 16)),
  };
}

/** True when the record at `offset` (whose whole length is in the buffer) matches its CRC. */
export function recordCrcMatches(buffer: Buffer, offset: number, header: RecordHeader): boolean {
  const end = offset + RECORD_HEADER_BYTES + header.bodyLength;
  return crc32c(buffer.subarray(offset + 8, end)) === header.crc;
}
