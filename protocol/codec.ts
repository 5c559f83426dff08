// The wire codec: plain MessagePack through one reused Packr/Unpackr. Records and other msgpackr
// extensions stay off so that any standard msgpack library can speak to us; 64-bit integers
// beyond 2^53 decode as BigInt, which the validator then rejects as `bad_number`.
import { Packr, Unpackr } from 'msgpackr';

export interface Codec {
  encode(value: unknown): Uint8Array;
  /** Throws on bytes that are not exactly one MessagePack value. */
  decode(bytes: Uint8Array): unknown;
}

export function createCodec(): Codec {
  const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });
  return {
    encode: (value) => packr.pack(value),
    decode: (bytes) => unpackr.unpack(bytes),
  };
}
