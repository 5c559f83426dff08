// A MessagePack writer for the plain values we send (maps, arrays, strings, numbers, booleans, nil)
// that writes safe integers beyond 32 bits as int64 directly. Going through msgpackr meant copying
// every message that carries a `ts` to turn those numbers into BigInts first, which cost more than
// the packing itself on the server's hot path. Its bytes are exactly msgpackr's for those values
// (`useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true` after widening); for
// anything else `write` returns null and the caller falls back to msgpackr.
// No Node-only APIs: the typed client uses this in browsers too.

/** Thrown inside the writer when a value is not plain; never escapes `write`. */
const NOT_PLAIN = Symbol('not plain');

const TWO_POW_32 = 0x1_0000_0000;
/** Strings at least this long go through TextEncoder; shorter ones are cheaper char by char. */
const ENCODER_MIN_LENGTH = 64;
const MIN_CHUNK_BYTES = 64 * 1024;

export class MsgpackWriter {
  private buffer = new Uint8Array(MIN_CHUNK_BYTES);
  private view = new DataView(this.buffer.buffer);
  /** Where the value being written starts; earlier bytes belong to results already handed out. */
  private start = 0;
  private position = 0;
  private readonly textEncoder = new TextEncoder();

  /**
   * The encoding of `value`, or null when it holds something other than plain values (msgpackr
   * then decides). The result is a view that later writes never overwrite, unless `transient`:
   * then it is valid only until the next write (for a send that copies it at once), and the
   * space is reused, which spares allocating chunks for the bulk of what the server sends.
   */
  write(value: unknown, transient = false): Uint8Array | null {
    this.position = this.start;
    try {
      this.pack(value);
    } catch (error) {
      if (error === NOT_PLAIN) return null;
      throw error;
    }
    const result = this.buffer.subarray(this.start, this.position);
    if (transient) return result;
    // Results share the chunk; the next write starts past this one (8-aligned, as msgpackr does).
    this.start = (this.position + 7) & ~7;
    if (this.start > this.buffer.length - 1024) this.freshChunk(MIN_CHUNK_BYTES);
    return result;
  }

  /** Makes room for `bytes` more, moving the value written so far into a new chunk if needed. */
  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    this.newChunk(this.position - this.start + bytes);
  }

  private newChunk(minBytes: number): void {
    const written = this.buffer.subarray(this.start, this.position);
    this.freshChunk(Math.max(MIN_CHUNK_BYTES, minBytes * 2));
    this.buffer.set(written);
    this.position = written.length;
  }

  private freshChunk(bytes: number): void {
    this.buffer = new Uint8Array(bytes);
    this.view = new DataView(this.buffer.buffer);
    this.start = 0;
    this.position = 0;
  }

  private pack(value: unknown): void {
    switch (typeof value) {
      case 'string':
        return this.packString(value);
      case 'number':
        return this.packNumber(value);
      case 'boolean':
        this.reserve(1);
        this.buffer[this.position++] = value ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.reserve(1);
        this.buffer[this.position++] = 0xc0;
        return;
      case 'object':
        if (value === null) {
          this.reserve(1);
          this.buffer[this.position++] = 0xc0;
          return;
        }
        if (value.constructor === Object) return this.packMap(value as Record<string, unknown>);
        if (value.constructor === Array) return this.packArray(value as unknown[]);
        throw NOT_PLAIN;
      default:
        throw NOT_PLAIN;
    }
  }

  private packNumber(value: number): void {
    this.reserve(9);
    const buffer = this.buffer;
    if (value >>> 0 === value) {
      if (value < 0x80) {
        buffer[this.position++] = value;
      } else if (value < 0x100) {
        buffer[this.position++] = 0xcc;
        buffer[this.position++] = value;
      } else if (value < 0x10000) {
        buffer[this.position++] = 0xcd;
        buffer[this.position++] = value >> 8;
        buffer[this.position++] = value & 0xff;
      } else {
        buffer[this.position++] = 0xce;
        this.view.setUint32(this.position, value);
        this.position += 4;
      }
    } else if (value >> 0 === value) {
      if (value >= -0x20) {
        buffer[this.position++] = 0x100 + value;
      } else if (value >= -0x80) {
        buffer[this.position++] = 0xd0;
        buffer[this.position++] = value + 0x100;
      } else if (value >= -0x8000) {
        buffer[this.position++] = 0xd1;
        this.view.setInt16(this.position, value);
        this.position += 2;
      } else {
        buffer[this.position++] = 0xd2;
        this.view.setInt32(this.position, value);
        this.position += 4;
      }
    } else if (Number.isSafeInteger(value)) {
      // int64, big-endian two's complement, without a BigInt: floor keeps the sign in the high word.
      const high = Math.floor(value / TWO_POW_32);
      buffer[this.position++] = 0xd3;
      this.view.setInt32(this.position, high);
      this.view.setUint32(this.position + 4, value - high * TWO_POW_32);
      this.position += 8;
    } else {
      buffer[this.position++] = 0xcb;
      this.view.setFloat64(this.position, value);
      this.position += 8;
    }
  }

  private packString(value: string): void {
    const length = value.length;
    const headerSize = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
    this.reserve(headerSize + length * 3);
    const buffer = this.buffer;
    const dataStart = this.position + headerSize;
    let bytes: number;
    if (length < ENCODER_MIN_LENGTH) {
      let at = dataStart;
      for (let i = 0; i < length; i++) {
        let code = value.charCodeAt(i);
        if (code < 0x80) {
          buffer[at++] = code;
        } else if (code < 0x800) {
          buffer[at++] = (code >> 6) | 0xc0;
          buffer[at++] = (code & 0x3f) | 0x80;
        } else if ((code & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
          code = 0x10000 + ((code & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff);
          buffer[at++] = (code >> 18) | 0xf0;
          buffer[at++] = ((code >> 12) & 0x3f) | 0x80;
          buffer[at++] = ((code >> 6) & 0x3f) | 0x80;
          buffer[at++] = (code & 0x3f) | 0x80;
        } else if ((code & 0xf800) === 0xd800) {
          // A lone surrogate has no UTF-8 form: U+FFFD, as TextEncoder and msgpackr write it.
          buffer[at++] = 0xef;
          buffer[at++] = 0xbf;
          buffer[at++] = 0xbd;
        } else {
          buffer[at++] = (code >> 12) | 0xe0;
          buffer[at++] = ((code >> 6) & 0x3f) | 0x80;
          buffer[at++] = (code & 0x3f) | 0x80;
        }
      }
      bytes = at - dataStart;
    } else {
      bytes = this.textEncoder.encodeInto(value, buffer.subarray(dataStart)).written;
    }
    // The header was sized for the char count; the UTF-8 length may need a larger one.
    if (bytes < 0x20) {
      buffer[this.position++] = 0xa0 | bytes;
    } else if (bytes < 0x100) {
      if (headerSize < 2) buffer.copyWithin(this.position + 2, this.position + 1, this.position + 1 + bytes);
      buffer[this.position++] = 0xd9;
      buffer[this.position++] = bytes;
    } else if (bytes < 0x10000) {
      if (headerSize < 3) buffer.copyWithin(this.position + 3, this.position + headerSize, this.position + headerSize + bytes);
      buffer[this.position++] = 0xda;
      buffer[this.position++] = bytes >> 8;
      buffer[this.position++] = bytes & 0xff;
    } else {
      if (headerSize < 5) buffer.copyWithin(this.position + 5, this.position + headerSize, this.position + headerSize + bytes);
      buffer[this.position++] = 0xdb;
      this.view.setUint32(this.position, bytes);
      this.position += 4;
    }
    this.position += bytes;
  }

  private packLength(length: number, fix: number, code16: number): void {
    this.reserve(5);
    if (length < 0x10) {
      this.buffer[this.position++] = fix | length;
    } else if (length < 0x10000) {
      this.buffer[this.position++] = code16;
      this.buffer[this.position++] = length >> 8;
      this.buffer[this.position++] = length & 0xff;
    } else {
      this.buffer[this.position++] = code16 + 1;
      this.view.setUint32(this.position, length);
      this.position += 4;
    }
  }

  private packArray(value: readonly unknown[]): void {
    const length = value.length;
    this.packLength(length, 0x90, 0xdc);
    for (let i = 0; i < length; i++) this.pack(value[i]);
  }

  private packMap(value: Record<string, unknown>): void {
    const keys = Object.keys(value);
    const length = keys.length;
    this.packLength(length, 0x80, 0xde);
    for (let i = 0; i < length; i++) {
      const key = keys[i]!;
      this.packString(key);
      this.pack(value[key]);
    }
  }
}
