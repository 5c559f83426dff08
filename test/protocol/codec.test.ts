import { describe, expect, it } from 'vitest';
import { createCodec } from '../../protocol/codec.js';

const codec = createCodec();

/**
 * A strict reader of plain MessagePack (nil, bool, int, float, str, bin, array, map), written
 * independently of msgpackr, that also records which integer/float formats it met. It stands in
 * for "a client in any language with a standard msgpack library".
 */
function plainDecode(bytes: Uint8Array): { value: unknown; floats: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  let floats = 0;
  const need = (n: number): void => {
    if (pos + n > bytes.length) throw new Error('truncated');
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const str = (n: number): string => {
    need(n);
    const s = text.decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const arr = (n: number): unknown[] => Array.from({ length: n }, () => read());
  const map = (n: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = read();
      if (typeof key !== 'string') throw new Error('non-string key');
      Object.defineProperty(out, key, { value: read(), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  function read(): unknown {
    const b = u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    const take = (n: number, f: (o: number) => number | bigint): number | bigint => {
      need(n);
      const v = f(pos);
      pos += n;
      return v;
    };
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        floats++;
        return take(4, (o) => view.getFloat32(o));
      case 0xcb:
        floats++;
        return take(8, (o) => view.getFloat64(o));
      case 0xcc:
        return take(1, (o) => view.getUint8(o));
      case 0xcd:
        return take(2, (o) => view.getUint16(o));
      case 0xce:
        return take(4, (o) => view.getUint32(o));
      case 0xcf:
        return Number(take(8, (o) => view.getBigUint64(o)));
      case 0xd0:
        return take(1, (o) => view.getInt8(o));
      case 0xd1:
        return take(2, (o) => view.getInt16(o));
      case 0xd2:
        return take(4, (o) => view.getInt32(o));
      case 0xd3:
        return Number(take(8, (o) => view.getBigInt64(o)));
      case 0xd9:
        return str(u8());
      case 0xda:
        return str(take(2, (o) => view.getUint16(o)) as number);
      case 0xdb:
        return str(take(4, (o) => view.getUint32(o)) as number);
      case 0xdc:
        return arr(take(2, (o) => view.getUint16(o)) as number);
      case 0xdd:
        return arr(take(4, (o) => view.getUint32(o)) as number);
      case 0xde:
        return map(take(2, (o) => view.getUint16(o)) as number);
      case 0xdf:
        return map(take(4, (o) => view.getUint32(o)) as number);
      default:
        throw new Error(`not plain msgpack: 0x${b.toString(16)}`);
    }
  }
  const value = read();
  if (pos !== bytes.length) throw new Error('trailing bytes');
  return { value, floats };
}

// Allocating for a declared ~2^31 elements would take gigabytes; a real frame is at most a few MiB.
const MAX_DECODE_GROWTH = 64 * 1024 * 1024;

/**
 * Decodes and reports the outcome. No time limit per call: wall time on a shared CI machine says
 * nothing (a GC pause or a busy neighbour took 250 ms once). A hang still fails the test through
 * vitest's testTimeout; what hostile input could really do is allocate what a header declares,
 * which is bounded here instead: no single decode may grow the heap or the buffers by 64 MiB.
 */
function outcome(bytes: Uint8Array): { threw: boolean; value?: unknown } {
  const before = process.memoryUsage();
  let result: { threw: boolean; value?: unknown };
  try {
    result = { threw: false, value: codec.decode(bytes) };
  } catch {
    result = { threw: true };
  }
  const after = process.memoryUsage();
  expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(MAX_DECODE_GROWTH);
  expect(after.heapUsed - before.heapUsed).toBeLessThan(MAX_DECODE_GROWTH);
  return result;
}

const SAMPLE = { type: 'ack', rid: 7, op: 'place', id: 12345, cid: null, ts: 1_717_171_717_171 };

function expectCodecStillWorks(): void {
  expect(codec.decode(codec.encode(SAMPLE))).toEqual(SAMPLE);
}

describe('codec roundtrip', () => {
  it.each([
    ['a map message', { op: 'place', sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 100, qty: 5, post: false }],
    [
      'an array frame',
      [
        { op: 'ping', rid: 1 },
        { op: 'markets', rid: 'two' },
      ],
    ],
    ['a book message', { type: 'book', sym: 'X', seq: 9, snapshot: true, bids: [[100, 3]], asks: [[101, 5]], cs: 3282063305 }],
    ['nested empties', { a: [], b: {}, c: [[], [{}]] }],
    ['unicode strings', { s: 'héllo wörld €𝄞 漢字', e: '' }],
    ['nil and booleans', { n: null, t: true, f: false }],
    ['a long string', { s: 'x'.repeat(100_000) }],
    ['a long array', Array.from({ length: 5000 }, (_, i) => i)],
  ])('roundtrips %s', (_, value) => {
    expect(codec.decode(codec.encode(value))).toEqual(value);
  });

  it('roundtrips integers across every width, as numbers', () => {
    const ints = [
      0,
      1,
      31,
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
      2 ** 40,
      1_717_171_717_171,
      Number.MAX_SAFE_INTEGER,
      -1,
      -32,
      -33,
      -128,
      -129,
      -32768,
      -32769,
      -(2 ** 31),
      -(2 ** 31) - 1,
      -(2 ** 40),
      Number.MIN_SAFE_INTEGER,
    ];
    const decoded = codec.decode(codec.encode(ints)) as unknown[];
    expect(decoded).toEqual(ints);
    for (const value of decoded) expect(typeof value).toBe('number');
  });

  it('roundtrips floats as floats', () => {
    const floats = [1.5, -0.25, 1e300, Number.MIN_VALUE];
    expect(codec.decode(codec.encode(floats))).toEqual(floats);
    expect(Number.isNaN(codec.decode(codec.encode(Number.NaN)))).toBe(true);
  });

  it('writes undefined as nil', () => {
    expect(codec.decode(codec.encode({ a: undefined, b: 1 }))).toEqual({ a: null, b: 1 });
  });

  it('produces plain MessagePack that an independent reader understands', () => {
    const messages = [
      SAMPLE,
      {
        type: 'exec',
        sym: 'BTC-USD',
        id: 1,
        cid: 'c1',
        side: 'buy',
        status: 'partial',
        px: 100,
        qty: 5,
        leaves: 2,
        filled: 3,
        fill: { tradeId: 8, px: 100, qty: 3, liquidity: 'maker', fee: 1 },
        ts: 1_717_171_717_171,
      },
      [
        { type: 'pong', rid: 1, ts: Date.now() },
        { type: 'trade', sym: 'X', tradeId: 2 ** 45, px: 2 ** 50, qty: 2 ** 33, side: 'sell', ts: Date.now() },
      ],
    ];
    for (const message of messages) {
      const { value, floats } = plainDecode(codec.encode(message));
      expect(value).toEqual(message);
      expect(floats).toBe(0);
    }
  });

  it('writes every safe integer as a msgpack integer, never a float (ts, large px)', () => {
    // This is the contract's "integers": a Python or Go client must not see 1.7e12 as a float.
    for (const n of [2 ** 32, 1_717_171_717_171, Number.MAX_SAFE_INTEGER, -(2 ** 31) - 1, Number.MIN_SAFE_INTEGER]) {
      const bytes = codec.encode(n);
      expect(bytes[0] === 0xcf || bytes[0] === 0xd3, `${n} encoded as 0x${bytes[0]!.toString(16)}`).toBe(true);
      expect(plainDecode(bytes)).toEqual({ value: n, floats: 0 });
    }
    expect(codec.encode(2 ** 32 - 1)[0]).toBe(0xce);
    expect(codec.encode(-(2 ** 31))[0]).toBe(0xd2);
  });

  it('does not modify the value it encodes', () => {
    const message = { ts: 1_717_171_717_171, levels: [[2 ** 40, 1]], nested: { big: 2 ** 35 } };
    const copy = structuredClone(message);
    const bytes = codec.encode(message);
    expect(message).toEqual(copy);
    expect(typeof message.ts).toBe('number');
    expect(codec.decode(bytes)).toEqual(copy);
  });

  it('decodes a buffer view at an offset inside a larger ArrayBuffer', () => {
    const bytes = codec.encode(SAMPLE);
    const big = new Uint8Array(bytes.length + 20);
    big.set(bytes, 10);
    expect(codec.decode(big.subarray(10, 10 + bytes.length))).toEqual(SAMPLE);
  });

  it('keeps results independent across many encodes (the Packr buffer is reused)', () => {
    const encoded = Array.from({ length: 2000 }, (_, i) => codec.encode({ i, s: 'y'.repeat(i % 50) }));
    encoded.forEach((bytes, i) => expect(codec.decode(bytes)).toEqual({ i, s: 'y'.repeat(i % 50) }));
  });
});

describe('codec on hostile input: a throw or a value, never a hang, never a huge allocation', () => {
  it('throws on empty input', () => {
    expect(outcome(new Uint8Array()).threw).toBe(true);
    expectCodecStillWorks();
  });

  it('throws on every truncation of a valid frame', () => {
    const bytes = codec.encode([SAMPLE, { op: 'place', sym: 'BTC-USD', qty: 5, s: 'é'.repeat(40) }]);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(outcome(bytes.subarray(0, cut)).threw, `cut at ${cut}`).toBe(true);
    }
    expectCodecStillWorks();
  });

  it('throws on trailing garbage after one value', () => {
    const bytes = codec.encode(SAMPLE);
    for (const tail of [[0x00], [0xc0], [0xff, 0xff], [...codec.encode(SAMPLE)]]) {
      expect(outcome(Uint8Array.from([...bytes, ...tail])).threw).toBe(true);
    }
    expect(outcome(Uint8Array.from([0x01, 0x02])).threw).toBe(true);
    expectCodecStillWorks();
  });

  it.each([
    ['str32', [0xdb, 0x80, 0, 0, 0, 0x61, 0x62]],
    ['str32 max', [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]],
    ['bin32', [0xc6, 0x80, 0, 0, 0, 1, 2]],
    ['array32', [0xdd, 0x80, 0, 0, 0, 1, 2]],
    ['array32 max', [0xdd, 0xff, 0xff, 0xff, 0xff, 1]],
    ['map32', [0xdf, 0x80, 0, 0, 0, 0xa1, 0x61, 1]],
    ['map32 max', [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61, 1]],
    ['ext32', [0xc9, 0x80, 0, 0, 0, 1, 2]],
    ['str16 in a map', [0x81, 0xa1, 0x61, 0xda, 0xff, 0xff, 0x61]],
    ['array32 inside an array32', [0xdd, 0x80, 0, 0, 0, 0xdd, 0x80, 0, 0, 0, 1]],
  ])('a %s header declaring ~2^31 elements with a tiny payload throws without allocating it', (_, header) => {
    expect(outcome(Uint8Array.from(header)).threw).toBe(true);
    expectCodecStillWorks();
  });

  it('many nested huge array headers throw without allocating them', () => {
    const bytes = new Uint8Array(5 * 2000);
    for (let i = 0; i < 2000; i++) bytes.set([0xdd, 0x7f, 0xff, 0xff, 0xff], i * 5);
    expect(outcome(bytes).threw).toBe(true);
    expectCodecStillWorks();
  });

  it.each([
    ['arrays', [0x91]],
    ['maps', [0x81, 0xa0]],
    ['mixed', [0x91, 0x81, 0xa1, 0x6b]],
  ])('deeply nested %s (100k levels) give a throw or a value', (_, unit) => {
    const depth = 100_000;
    const bytes = new Uint8Array(unit.length * depth + 1);
    for (let i = 0; i < depth; i++) bytes.set(unit, i * unit.length);
    bytes[bytes.length - 1] = 0xc0;
    outcome(bytes); // either is fine; the point is that it returns control
    expectCodecStillWorks();
  });

  it('moderate nesting (100 levels) decodes', () => {
    let value: unknown = 1;
    for (let i = 0; i < 100; i++) value = [value];
    expect(codec.decode(codec.encode(value))).toEqual(value);
  });

  it('an unknown extension or reserved byte gives a throw or a value', () => {
    for (const bytes of [[0xd4, 0x01, 0x00], [0xc1], [0xd5, 0x7f, 0, 0], [0xc7, 0x03, 0x05, 1, 2, 3], [0xd6, 0xff, 0, 0, 0, 1]]) {
      outcome(Uint8Array.from(bytes));
    }
    expectCodecStillWorks();
  });

  it('invalid UTF-8 in a string gives a throw or a value', () => {
    outcome(Uint8Array.from([0xa3, 0xff, 0xfe, 0xfd]));
    outcome(Uint8Array.from([0x81, 0xa2, 0xc3, 0x28, 0x01]));
    expectCodecStillWorks();
  });

  it('survives 20000 random mutations of valid frames and 5000 random byte strings', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const bases = [
      codec.encode(SAMPLE),
      codec.encode([{ op: 'place', sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 100, qty: 5 }, { op: 'ping' }]),
      codec.encode({
        type: 'book',
        sym: 'X',
        seq: 1,
        bids: [
          [1, 2],
          [3, 4],
        ],
        asks: [],
        cs: 99,
      }),
    ];
    let threw = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from(bases[i % bases.length]!);
      const flips = 1 + Math.floor(next() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      if (outcome(bytes).threw) threw++;
    }
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256));
      if (outcome(bytes).threw) threw++;
    }
    expect(threw).toBeGreaterThan(0);
    expectCodecStillWorks();
  });
});
