// Float-encoded fields are found in the raw bytes (the decoded value cannot tell 5.0 from 5), for
// a single message and for each message of an array frame, whatever else the frame holds.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { FloatValue, floatFields, markFloats } from '../../protocol/msgpack-floats.js';
import { validateRequest } from '../../protocol/validate.js';
import { createCodec } from '../../protocol/codec.js';

// useFloat32 off and no records: whole numbers pack as ints, others as float64; `Float` forces float64.
const packr = new Packr({ useRecords: false });

/** Packs `value` with every FloatMark written as a float64, even a whole one. */
class FloatMark {
  constructor(readonly n: number) {}
}
function pack(value: unknown): Uint8Array {
  const placeholder = 0x7ffffff0;
  const marks: number[] = [];
  const swap = (v: unknown): unknown => {
    if (v instanceof FloatMark) {
      marks.push(v.n);
      return placeholder + marks.length; // a uint32 we can find and rewrite
    }
    if (Array.isArray(v)) return v.map(swap);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
    return v;
  };
  let bytes = Uint8Array.from(packr.pack(swap(value)));
  marks.forEach((n, i) => {
    const needle = [0xce, ...new Uint8Array(new Uint32Array([placeholder + i + 1]).buffer).reverse()];
    const at = bytes.findIndex((_, j) => needle.every((b, k) => bytes[j + k] === b));
    const float = new Uint8Array(9);
    float[0] = 0xcb;
    new DataView(float.buffer).setFloat64(1, n);
    bytes = Uint8Array.from([...bytes.subarray(0, at), ...float, ...bytes.subarray(at + 5)]);
  });
  return bytes;
}

describe('markFloats', () => {
  it('marks whole floats below 2^32 and any fraction; whole floats of 2^32 and more stay integers (msgpackr writes big ints so)', () => {
    const decoded = { a: 100, b: 1.5, c: 2 ** 32, d: 2 ** 53 - 1, e: 4_294_967_295 };
    markFloats(decoded, [['a', 'b', 'c', 'd', 'e']]);
    expect(decoded).toEqual({
      a: new FloatValue(100),
      b: new FloatValue(1.5),
      c: 2 ** 32,
      d: 2 ** 53 - 1,
      e: new FloatValue(4_294_967_295),
    });
  });

  it('a deposit of 10^12 units packed by plain msgpackr (as a float64) is accepted', () => {
    const bytes = packr.pack({ op: 'deposit', account: 'a', asset: 'USD', amount: 1e12, ref: 'r' });
    expect(floatFields(bytes)).toEqual([['amount']]);
    const decoded = createCodec().decode(bytes);
    markFloats(decoded, floatFields(bytes)!);
    expect(validateRequest(decoded)).toMatchObject({ ok: true, request: { amount: 1e12 } });
  });
});

describe('floatFields', () => {
  it('finds float-encoded fields of a map frame and of each message of an array frame', () => {
    expect(floatFields(pack({ op: 'place', px: new FloatMark(100), qty: 5 }))).toEqual([['px']]);
    expect(
      floatFields(pack([{ op: 'ping' }, { op: 'place', qty: new FloatMark(2), px: new FloatMark(1.5), note: ['x', { y: 1 }] }, 7])),
    ).toEqual([[], ['qty', 'px'], []]);
    expect(floatFields(pack({ op: 'place', px: 100, qty: 5 }))).toBeNull();
  });

  it('agrees with where floats were written, over random frames', () => {
    const scalar = fc.oneof(
      fc.integer(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.double({ noNaN: true }).map((d) => new FloatMark(d)),
    );
    const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 3 }));
    const message = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), value, { maxKeys: 6 });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), (messages) => {
        const expected = messages.map((m) =>
          Object.entries(m)
            .filter(([, v]) => v instanceof FloatMark)
            .map(([k]) => k),
        );
        const found = floatFields(pack(messages));
        expect(found ?? messages.map(() => [])).toEqual(expected);
      }),
      { seed: 7, numRuns: 2_000 },
    );
  });

  it('a marked whole float is refused by the validator as bad_number', () => {
    const bytes = pack({ op: 'place', sym: 'BTC-USD', side: 'buy', kind: 'limit', px: new FloatMark(100), qty: 5 });
    const decoded = createCodec().decode(bytes);
    markFloats(decoded, floatFields(bytes)!);
    expect((decoded as { px: unknown }).px).toBeInstanceOf(FloatValue);
    const result = validateRequest(decoded);
    expect(result.ok ? null : result.reject.code).toBe('bad_number');
  });
});
