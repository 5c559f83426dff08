// The wire codec: plain MessagePack through one reused Packr/Unpackr. Records and other msgpackr
// extensions stay off so that any standard msgpack library can speak to us.
//
// Integers cross the wire as msgpack integers both ways. msgpackr writes a safe integer beyond 32
// bits (every `ts`, large px/qty) as float64, which a Python or Go client would read as a float, so
// `encode` hands such numbers to msgpackr as BigInt (written as int64). On decode, 64-bit integers
// up to 2^53 become numbers (Go and Java clients often write int64 fixed-width even for 5) and
// larger ones BigInt, which the validator then rejects as `bad_number`.
// Plain values (all we send) take MsgpackWriter, which writes the same bytes without the copy.
import { Packr, Unpackr } from 'msgpackr';
import { MsgpackWriter } from './msgpack-writer.js';

export interface Codec {
  encode(value: unknown): Uint8Array;
  /** As `encode`, but the bytes are valid only until the next encode: for a send that copies them. */
  encodeTransient(value: unknown): Uint8Array;
  /** Throws on bytes that are not exactly one MessagePack value. */
  decode(bytes: Uint8Array): unknown;
}

function isWideInteger(value: number): boolean {
  return Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x80000000);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `value` with wide integers as BigInt; copies only the objects and arrays on the way to one. */
function widenIntegers(value: unknown): unknown {
  if (typeof value === 'number') return isWideInteger(value) ? BigInt(value) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const widened = widenIntegers(item);
      if (widened !== item) {
        copy ??= value.slice();
        copy[i] = widened;
      }
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const widened = widenIntegers(item);
    if (widened !== item) {
      copy ??= { ...value };
      copy[key] = widened;
    }
  }
  return copy ?? value;
}

export function createCodec(): Codec {
  const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
  // 'auto' is in msgpackr's unpack.js but missing from its typings.
  const unpackr = new Unpackr({
    useRecords: false,
    mapsAsObjects: true,
    int64AsType: 'auto' as 'bigint',
  });
  const writer = new MsgpackWriter();
  return {
    encode: (value) => writer.write(value) ?? packr.pack(widenIntegers(value)),
    encodeTransient: (value) => writer.write(value, true) ?? packr.pack(widenIntegers(value)),
    decode: (bytes) => unpackr.unpack(bytes),
  };
}
