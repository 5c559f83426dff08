// Rows in Postgres' binary COPY format (https://www.postgresql.org/docs/15/sql-copy.html, "Binary
// Format"), written straight into Buffers: no escaping, no number formatting, no intermediate
// strings. Postgres parses it with less CPU than text COPY and far less than JSON
// (bench:pg-sink measures the backend CPU per row). A value that cannot be stored exactly (a fraction, NaN, beyond 2^53) is
// refused here (the sink then aborts the COPY and rolls back): binary int8 cannot carry it for
// Postgres to refuse.
import { InvalidBatchError } from './batch-rows.js';

/** "PGCOPY\n\xff\r\n\0", flags 0, header extension length 0. */
export const BINARY_COPY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** A field count of -1 ends the data. */
export const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);

const TWO_POW_32 = 4_294_967_296;
const DEFAULT_CHUNK_BYTES = 256 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * One COPY's data (header, rows, trailer) as Buffers, a new one started when a row may not fit, so
 * a batch of any size goes out in pieces of about `chunkBytes`. Each full piece goes to `onChunk`
 * when given (to stream it while the rest is written), else is kept for `take`. Call `row` before
 * each row's fields with the most bytes the row can take (see `textBound`).
 */
export class BinaryCopyWriter {
  private readonly chunks: Buffer[] = [];
  private buffer = EMPTY;
  private position = 0;
  private rowCount = 0;

  constructor(
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
    private readonly onChunk: ((chunk: Buffer) => void) | null = null,
  ) {}

  get rows(): number {
    return this.rowCount;
  }

  /** Starts a row of `fields` fields that takes at most `maxBytes` bytes (field count included). */
  row(fields: number, maxBytes: number): void {
    if (this.rowCount === 0) this.header(maxBytes);
    if (this.position + maxBytes > this.buffer.length) this.newChunk(maxBytes);
    const b = this.buffer;
    const p = this.position;
    b[p] = fields >>> 8;
    b[p + 1] = fields & 0xff;
    this.position = p + 2;
    this.rowCount++;
  }

  /** A bigint column: any safe integer, negative ones in two's complement. */
  int8(value: number): void {
    if (!Number.isSafeInteger(value)) throw new InvalidBatchError(`${String(value)} is not a 64-bit integer`);
    const b = this.buffer;
    const p = this.position;
    const high = Math.floor(value / TWO_POW_32);
    const low = value - high * TWO_POW_32;
    b[p] = 0;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b[p + 3] = 8;
    b[p + 4] = high >>> 24;
    b[p + 5] = (high >>> 16) & 0xff;
    b[p + 6] = (high >>> 8) & 0xff;
    b[p + 7] = high & 0xff;
    b[p + 8] = low >>> 24;
    b[p + 9] = (low >>> 16) & 0xff;
    b[p + 10] = (low >>> 8) & 0xff;
    b[p + 11] = low & 0xff;
    this.position = p + 12;
  }

  /** An integer column (int4). */
  int4(value: number): void {
    if (!Number.isInteger(value) || value < -2_147_483_648 || value > 2_147_483_647)
      throw new InvalidBatchError(`${String(value)} is not a 32-bit integer`);
    const b = this.buffer;
    const p = this.position;
    b[p] = 0;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b[p + 3] = 4;
    b[p + 4] = (value >>> 24) & 0xff;
    b[p + 5] = (value >>> 16) & 0xff;
    b[p + 6] = (value >>> 8) & 0xff;
    b[p + 7] = value & 0xff;
    this.position = p + 8;
  }

  int8OrNull(value: number | null | undefined): void {
    if (value === null || value === undefined) this.null();
    else this.int8(value);
  }

  /** Anything but a boolean is NULL, which a NOT NULL column refuses (SQLSTATE 23502). */
  bool(value: boolean): void {
    if (value !== true && value !== false) return this.null();
    const b = this.buffer;
    const p = this.position;
    b[p] = 0;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b[p + 3] = 1;
    b[p + 4] = value ? 1 : 0;
    this.position = p + 5;
  }

  /**
   * A text column as UTF-8. Anything but a string is NULL (a NOT NULL column then refuses the row);
   * Postgres itself refuses what text cannot hold (a NUL character: SQLSTATE 22021).
   */
  text(value: string | null | undefined): void {
    if (typeof value !== 'string') return this.null();
    const b = this.buffer;
    const start = this.position + 4;
    const length = value.length;
    let p = start;
    // Names are nearly always ASCII: a byte loop beats the native UTF-8 encoder on short strings.
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        p = start + b.write(value, start, 'utf8');
        break;
      }
      b[p++] = code;
    }
    const bytes = p - start;
    b[start - 4] = bytes >>> 24;
    b[start - 3] = (bytes >>> 16) & 0xff;
    b[start - 2] = (bytes >>> 8) & 0xff;
    b[start - 1] = bytes & 0xff;
    this.position = p;
  }

  null(): void {
    const b = this.buffer;
    const p = this.position;
    b[p] = 0xff;
    b[p + 1] = 0xff;
    b[p + 2] = 0xff;
    b[p + 3] = 0xff;
    this.position = p + 4;
  }

  /** The COPY data written (none without rows); the writer is empty afterwards. */
  take(): Buffer[] {
    if (this.rowCount === 0) return [];
    this.end();
    return this.chunks.splice(0);
  }

  /** Ends the data (a valid COPY even without rows) and hands the last piece to `onChunk`. */
  finish(): void {
    if (this.rowCount === 0) this.header(0);
    this.end();
  }

  private header(maxBytes: number): void {
    this.newChunk(BINARY_COPY_HEADER.length + maxBytes);
    this.buffer.set(BINARY_COPY_HEADER, 0);
    this.position = BINARY_COPY_HEADER.length;
  }

  private end(): void {
    if (this.position + BINARY_COPY_TRAILER.length > this.buffer.length) this.newChunk(BINARY_COPY_TRAILER.length);
    this.buffer.set(BINARY_COPY_TRAILER, this.position);
    this.position += BINARY_COPY_TRAILER.length;
    this.emit(this.buffer.subarray(0, this.position));
    this.buffer = EMPTY;
    this.position = 0;
    this.rowCount = 0;
  }

  private newChunk(atLeast: number): void {
    if (this.position > 0) this.emit(this.buffer.subarray(0, this.position));
    this.buffer = Buffer.allocUnsafe(Math.max(this.chunkBytes, atLeast));
    this.position = 0;
  }

  private emit(chunk: Buffer): void {
    if (this.onChunk) this.onChunk(chunk);
    else this.chunks.push(chunk);
  }
}

/** Bytes a text field can take: its length word and up to 3 UTF-8 bytes per UTF-16 unit. */
export function textBound(value: string | null | undefined): number {
  return typeof value === 'string' ? 4 + 3 * value.length : 4;
}
