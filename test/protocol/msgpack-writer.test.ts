import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { createCodec } from '../../protocol/codec.js';
import { MsgpackWriter } from '../../protocol/msgpack-writer.js';

// The reference: what the codec wrote before MsgpackWriter (msgpackr after widening wide integers).
const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' as 'bigint' });

function widen(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x80000000) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map(widen);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, widen(item)]));
  }
  return value;
}

const reference = (value: unknown): number[] => [...packr.pack(widen(value))];

const edgeNumbers = [
  0,
  -0,
  1,
  31,
  32,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 1,
  2 ** 40,
  1_717_171_717_171,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 60,
  -1,
  -31,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 32),
  -(2 ** 32) - 1,
  -(2 ** 40) - 3,
  Number.MIN_SAFE_INTEGER,
  0.5,
  -1.25,
  1e300,
  Number.MIN_VALUE,
  Number.NaN,
  Infinity,
  -Infinity,
];

const plainValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constantFrom(...edgeNumbers),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ maxLength: 300 }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
  ),
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('map')),
  array: fc.array(tie('value'), { maxLength: 20 }),
  map: fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), tie('value'), { maxKeys: 20, noNullPrototype: true }),
})).value;

describe('MsgpackWriter', () => {
  it('writes exactly the bytes msgpackr writes for every plain value (5,000 random values)', () => {
    const writer = new MsgpackWriter();
    fc.assert(
      fc.property(plainValue, (value) => {
        expect([...writer.write(value)!]).toEqual(reference(value));
      }),
      { numRuns: 5_000 },
    );
  });

  it('writes edge numbers, lone surrogates and strings around every header size like msgpackr', () => {
    const writer = new MsgpackWriter();
    const strings = [
      '',
      'a',
      'x'.repeat(31),
      'x'.repeat(32),
      'é'.repeat(16),
      '€'.repeat(11),
      'x'.repeat(63),
      'x'.repeat(64),
      'é'.repeat(100),
      '€'.repeat(90),
      'x'.repeat(255),
      'x'.repeat(256),
      '€'.repeat(30_000),
      'x'.repeat(70_000),
      '€'.repeat(22_000),
      'a\ud800b',
      '\udc00',
      'x'.repeat(70) + '\ud83d',
      '𝄞'.repeat(40),
    ];
    for (const value of [...edgeNumbers, ...strings, edgeNumbers, { big: 2 ** 53 - 1, small: -(2 ** 53) + 1 }]) {
      expect([...writer.write(value)!]).toEqual(reference(value));
    }
    const longMap = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i]));
    expect([...writer.write(longMap)!]).toEqual(reference(longMap));
    const longArray = Array.from({ length: 70_000 }, (_, i) => i * 65_537);
    expect([...writer.write(longArray)!]).toEqual(reference(longArray));
  });

  it('declines what is not plain, so the codec falls back to msgpackr', () => {
    const writer = new MsgpackWriter();
    for (const value of [
      new Date(0),
      new Map([[1, 2]]),
      5n,
      { when: new Date(0) },
      [new Uint8Array(3)],
      Object.create(null),
      { constructor: 1 },
    ]) {
      expect(writer.write(value)).toBeNull();
    }
    // A declined value leaves the writer usable and earlier results intact.
    const before = writer.write({ a: 1 })!;
    writer.write([1, 2, new Set([3])]);
    expect(unpackr.unpack(before)).toEqual({ a: 1 });
    expect(unpackr.unpack(writer.write({ b: 2 })!)).toEqual({ b: 2 });
    const codec = createCodec();
    expect(codec.decode(codec.encode({ a: 5n, m: new Map([['k', 1]]) }))).toEqual({ a: 5, m: { k: 1 } });
  });

  it('never overwrites a result it handed out, across chunk boundaries and values larger than a chunk', () => {
    const writer = new MsgpackWriter();
    const values: unknown[] = [];
    const results: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) {
      const value =
        i % 997 === 0 ? { i, blob: 'z'.repeat(200_000 + i) } : { type: 'exec', i, ts: 1_717_171_717_171 + i, s: 'y'.repeat(i % 300) };
      values.push(value);
      results.push(writer.write(value)!);
    }
    results.forEach((bytes, i) => expect(unpackr.unpack(bytes)).toEqual(values[i]));
  });

  it('reuses the space of a transient result, and never that of a kept one', () => {
    const writer = new MsgpackWriter();
    const kept = writer.write({ kept: 1 })!;
    const transient = writer.write({ first: 'x'.repeat(40) }, true)!;
    expect(unpackr.unpack(transient)).toEqual({ first: 'x'.repeat(40) });
    const next = writer.write({ second: 2 })!;
    expect(next.byteOffset).toBe(transient.byteOffset);
    expect(unpackr.unpack(kept)).toEqual({ kept: 1 });
    expect(unpackr.unpack(next)).toEqual({ second: 2 });
    // A transient value larger than a chunk still encodes whole, and kept results survive it.
    const big = { big: 'y'.repeat(300_000) };
    expect(unpackr.unpack(writer.write(big, true)!)).toEqual(big);
    expect(unpackr.unpack(next)).toEqual({ second: 2 });
    const codec = createCodec();
    const bytes = codec.encodeTransient([{ type: 'ack', ts: 1_717_171_717_171 }]);
    expect([...bytes]).toEqual(reference([{ type: 'ack', ts: 1_717_171_717_171 }]));
  });

  it('throws what a getter throws (a bug, not a fallback)', () => {
    const writer = new MsgpackWriter();
    const hostile = {
      get boom(): number {
        throw new Error('getter failed');
      },
    };
    expect(() => writer.write(hostile)).toThrow('getter failed');
    expect(unpackr.unpack(writer.write([1, 'two'])!)).toEqual([1, 'two']);
  });
});
