// The contract allows no floats (PROTOCOL.md: "floats … are rejected with bad_number"), but a
// decoded float64 5.0 is the JS number 5, the same as the integer 5: after decoding, a Python
// client's `px: 100.0` would pass as an integer. So the bytes are checked: each top-level message
// field whose value is encoded as a MessagePack float is marked, and the validator sees a
// FloatValue there instead of a number, which no numeric field accepts.
//
// Except whole values of 2^32 and more: JavaScript's msgpackr (and other libraries for languages
// whose numbers are doubles) writes every integer that does not fit 32 bits as a float64, so a
// deposit of 10^12 units or a qty of 2^53−1 arrives as one. Those are taken as the integers they
// are; a float64 100.0 can only come from a client that sent a float.

/** A field value that was encoded as a MessagePack float (float32 or float64). */
export class FloatValue {
  constructor(readonly value: number) {}
}

const decoder = new TextDecoder();
const FLOAT32 = 0xca;
const FLOAT64 = 0xcb;

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private uint(size: number): number {
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + this.bytes[this.offset + i]!;
    this.offset += size;
    return n;
  }

  /** The string at the cursor (a map key), or undefined if the value is not a string; skips it either way. */
  key(): string | undefined {
    const type = this.bytes[this.offset]!;
    const headerSize = type >= 0xa0 && type <= 0xbf ? 0 : type === 0xd9 ? 1 : type === 0xda ? 2 : type === 0xdb ? 4 : -1;
    if (headerSize < 0) {
      this.skip();
      return undefined;
    }
    this.offset++;
    const length = headerSize === 0 ? type - 0xa0 : this.uint(headerSize);
    const text = decoder.decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }

  /** The header of a map at the cursor: its pair count, or -1 (and nothing consumed) if not a map. */
  mapLength(): number {
    const type = this.bytes[this.offset]!;
    if (type >= 0x80 && type <= 0x8f) return (this.offset++, type - 0x80);
    if (type === 0xde || type === 0xdf) return (this.offset++, this.uint(type === 0xde ? 2 : 4));
    return -1;
  }

  arrayLength(): number {
    const type = this.bytes[this.offset]!;
    if (type >= 0x90 && type <= 0x9f) return (this.offset++, type - 0x90);
    if (type === 0xdc || type === 0xdd) return (this.offset++, this.uint(type === 0xdc ? 2 : 4));
    return -1;
  }

  isFloat(): boolean {
    const type = this.bytes[this.offset];
    return type === FLOAT32 || type === FLOAT64;
  }

  /** Moves past one whole value; containers are walked iteratively by count, so depth is no issue. */
  skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const type = this.bytes[this.offset++]!;
      if (type <= 0x7f || type >= 0xe0 || (type >= 0xc0 && type <= 0xc3)) continue;
      if (type <= 0x8f) pending += 2 * (type - 0x80);
      else if (type <= 0x9f) pending += type - 0x90;
      else if (type <= 0xbf) this.offset += type - 0xa0;
      else if (type === 0xc4 || type === 0xd9) this.offset += this.uint(1);
      else if (type === 0xc5 || type === 0xda) this.offset += this.uint(2);
      else if (type === 0xc6 || type === 0xdb) this.offset += this.uint(4);
      else if (type === 0xc7) this.offset += this.uint(1) + 1;
      else if (type === 0xc8) this.offset += this.uint(2) + 1;
      else if (type === 0xc9) this.offset += this.uint(4) + 1;
      else if (type === 0xca) this.offset += 4;
      else if (type === 0xcb) this.offset += 8;
      else if (type >= 0xcc && type <= 0xd3) this.offset += 2 ** ((type - 0xcc) & 3);
      else if (type >= 0xd4 && type <= 0xd8) this.offset += 1 + 2 ** (type - 0xd4);
      else if (type === 0xdc) pending += this.uint(2);
      else if (type === 0xdd) pending += this.uint(4);
      else if (type === 0xde) pending += 2 * this.uint(2);
      else if (type === 0xdf) pending += 2 * this.uint(4);
    }
  }
}

/** The keys of one map at the cursor whose values are floats (the cursor moves past the map). */
function floatKeysOfMap(reader: Reader, pairs: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const key = reader.key();
    if (key !== undefined && reader.isFloat()) keys.push(key);
    reader.skip();
  }
  return keys;
}

/**
 * Per top-level message (one for a map frame, one per element of an array frame), the field keys
 * whose values were encoded as floats; null when the frame holds no float byte at all (the common
 * case, checked first without walking). Call only on bytes that decoded successfully.
 */
export function floatFields(bytes: Uint8Array): string[][] | null {
  if (!bytes.includes(FLOAT64) && !bytes.includes(FLOAT32)) return null;
  const reader = new Reader(bytes);
  const pairs = reader.mapLength();
  if (pairs >= 0) return [floatKeysOfMap(reader, pairs)];
  const count = reader.arrayLength();
  if (count < 0) return null;
  const out: string[][] = [];
  for (let i = 0; i < count; i++) {
    const elementPairs = reader.mapLength();
    if (elementPairs >= 0) out.push(floatKeysOfMap(reader, elementPairs));
    else {
      out.push([]);
      reader.skip();
    }
  }
  return out;
}

/** Below this a whole float cannot be an integer a double-only library had to write as a float. */
const INT32_RANGE = 2 ** 32;

/** Replaces, in the decoded frame, each float-encoded field value (whole values ≥ 2^32 aside) with a FloatValue. */
export function markFloats(decoded: unknown, fields: readonly string[][]): void {
  const messages = Array.isArray(decoded) ? decoded : [decoded];
  fields.forEach((keys, i) => {
    const message = messages[i] as Record<string, unknown> | undefined;
    if (typeof message !== 'object' || message === null) return;
    for (const key of keys) {
      const value = message[key];
      if (typeof value === 'number' && !(Number.isInteger(value) && Math.abs(value) >= INT32_RANGE)) message[key] = new FloatValue(value);
    }
  });
}
