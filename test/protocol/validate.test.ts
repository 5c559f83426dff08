import { describe, expect, it } from 'vitest';
import { createCodec } from '../../protocol/codec.js';
import {
  DEFAULT_BOOK_DEPTH,
  MAX_BOOK_DEPTH,
  MAX_CID_LENGTH,
  MAX_ORDERS_PAGE,
  OPS,
  MAX_RID_STRING_LENGTH,
  MAX_SYM_LENGTH,
  MAX_TOKEN_LENGTH,
  REJECT_CODES,
} from '../../protocol/constants.js';
import type { Request } from '../../protocol/messages.js';
import { isSafePositiveInteger, makeReject, validateRequest } from '../../protocol/validate.js';

const codec = createCodec();

function accepted(value: unknown): Request {
  const result = validateRequest(value);
  if (!result.ok) throw new Error(`expected a request, got ${JSON.stringify(result.reject)}`);
  return result.request;
}

function rejected(value: unknown): { code: string; op: string | null; msg: string; rid?: unknown } {
  const result = validateRequest(value);
  if (result.ok) throw new Error(`expected a reject, got ${JSON.stringify(result.request)}`);
  expect(result.reject.type).toBe('reject');
  return result.reject;
}

const PLACE = { op: 'place', sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 100, qty: 5 } as const;

// ---- raw MessagePack bytes, written by hand so the test does not depend on our encoder ----

const utf8 = new TextEncoder();
function str(s: string): number[] {
  const bytes = [...utf8.encode(s)];
  if (bytes.length < 32) return [0xa0 | bytes.length, ...bytes];
  return [0xd9, bytes.length, ...bytes];
}
function mapHeader(n: number): number[] {
  return [0x80 | n];
}
function uint64(hi: number, lo: number): number[] {
  return [
    0xcf,
    (hi >>> 24) & 0xff,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    (lo >>> 24) & 0xff,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  ];
}
function int64(hi: number, lo: number): number[] {
  return [0xd3, ...uint64(hi, lo).slice(1)];
}
const float64 = (x: number): number[] => {
  const view = new DataView(new ArrayBuffer(9));
  view.setUint8(0, 0xcb);
  view.setFloat64(1, x);
  return [...new Uint8Array(view.buffer)];
};
/** A `place` limit map with `qty` given as raw msgpack bytes. */
function placeWithQty(qty: number[]): Uint8Array {
  return Uint8Array.from([
    ...mapHeader(6),
    ...str('op'),
    ...str('place'),
    ...str('sym'),
    ...str('BTC-USD'),
    ...str('side'),
    ...str('buy'),
    ...str('kind'),
    ...str('limit'),
    ...str('px'),
    100,
    ...str('qty'),
    ...qty,
  ]);
}

describe('validateRequest: frame shape and op', () => {
  it.each([
    ['null', null],
    ['a number', 5],
    ['a string', 'ping'],
    ['a boolean', true],
    ['an array', [{ op: 'ping' }]],
    ['bytes', new Uint8Array([1, 2])],
  ])('rejects %s as bad_request', (_, value) => {
    const reject = rejected(value);
    expect(reject.code).toBe('bad_request');
    expect(reject.op).toBeNull();
  });

  it('rejects a missing op', () => {
    const reject = rejected({ rid: 1 });
    expect(reject).toMatchObject({ code: 'bad_request', op: null, rid: 1, msg: 'op is required' });
  });

  it('rejects a nil op as missing', () => {
    expect(rejected({ op: null }).msg).toBe('op is required');
  });

  it('rejects an unknown op and echoes it and the rid', () => {
    expect(rejected({ op: 'transfer', rid: 'abc' })).toMatchObject({
      code: 'bad_request',
      op: 'transfer',
      rid: 'abc',
      msg: `unknown op; the ops are ${OPS.join(', ')}`,
    });
  });

  it('rejects a non-string op without echoing it', () => {
    expect(rejected({ op: 7 })).toMatchObject({ code: 'bad_request', op: null });
    expect(rejected({ op: 'x'.repeat(33) })).toMatchObject({ code: 'bad_request', op: null });
  });

  it('matches op case-sensitively', () => {
    expect(rejected({ op: 'PING' }).code).toBe('bad_request');
  });

  it('accepts an integer or short string rid and echoes it', () => {
    expect(accepted({ op: 'ping', rid: 42 })).toEqual({ op: 'ping', rid: 42 });
    expect(accepted({ op: 'ping', rid: 0 })).toEqual({ op: 'ping', rid: 0 });
    expect(accepted({ op: 'ping', rid: -3 })).toEqual({ op: 'ping', rid: -3 });
    expect(accepted({ op: 'ping', rid: 'r'.repeat(MAX_RID_STRING_LENGTH) })).toMatchObject({ op: 'ping' });
    expect(accepted({ op: 'ping' })).toEqual({ op: 'ping' });
    expect('rid' in accepted({ op: 'ping', rid: null })).toBe(false);
  });

  it.each([
    ['a float', 1.5],
    ['a long string', 'r'.repeat(MAX_RID_STRING_LENGTH + 1)],
    ['a map', { a: 1 }],
    ['a boolean', true],
    ['an unsafe integer', 2 ** 53],
  ])('rejects %s rid as bad_request', (_, rid) => {
    const reject = rejected({ op: 'ping', rid });
    expect(reject.code).toBe('bad_request');
    expect(reject.op).toBe('ping');
    expect(reject.rid).toBeUndefined();
  });

  it('ignores unknown fields', () => {
    expect(accepted({ op: 'ping', rid: 1, foo: 'bar', nested: { x: [1, 2] } })).toEqual({ op: 'ping', rid: 1 });
    const place = accepted({ ...PLACE, extra: 1, leverage: 100 });
    expect(place).not.toHaveProperty('extra');
    expect(place).not.toHaveProperty('leverage');
  });

  it('puts only catalogued codes and their default messages in makeReject', () => {
    expect(makeReject('place', 'bad_number')).toEqual({
      type: 'reject',
      op: 'place',
      code: 'bad_number',
      msg: REJECT_CODES.bad_number,
    });
    expect(makeReject(null, 'internal', 'x', 9)).toEqual({ type: 'reject', op: null, code: 'internal', msg: 'x', rid: 9 });
  });
});

describe('validateRequest: each op', () => {
  it('login: token required, bounded; cancelOnDisconnect boolean, default false', () => {
    expect(accepted({ op: 'login', token: 't' })).toEqual({
      op: 'login',
      token: 't',
      cancelOnDisconnect: false,
      resumeFrom: null,
      epoch: null,
    });
    expect(accepted({ op: 'login', token: 't', resumeFrom: 0, epoch: 'e1' })).toMatchObject({ resumeFrom: 0, epoch: 'e1' });
    expect(rejected({ op: 'login', token: 't', resumeFrom: 3 })).toMatchObject({
      code: 'bad_request',
      msg: 'resumeFrom needs the epoch of the login reply it counts in',
    });
    expect(rejected({ op: 'login', token: 't', resumeFrom: -1, epoch: 'e' }).code).toBe('bad_number');
    expect(accepted({ op: 'login', token: 't', cancelOnDisconnect: true })).toMatchObject({ cancelOnDisconnect: true });
    expect(accepted({ op: 'login', token: 'x'.repeat(MAX_TOKEN_LENGTH) })).toMatchObject({ op: 'login' });
    expect(rejected({ op: 'login' })).toMatchObject({ code: 'bad_request', op: 'login', msg: 'token is required' });
    expect(rejected({ op: 'login', token: '' }).code).toBe('bad_request');
    expect(rejected({ op: 'login', token: 5 }).code).toBe('bad_request');
    expect(rejected({ op: 'login', token: 'x'.repeat(MAX_TOKEN_LENGTH + 1) }).code).toBe('bad_request');
    expect(rejected({ op: 'login', token: 't', cancelOnDisconnect: 1 }).code).toBe('bad_request');
    expect(rejected({ op: 'login', token: 't', cancelOnDisconnect: 'true' }).code).toBe('bad_request');
  });

  it('markets and ping take nothing', () => {
    expect(accepted({ op: 'markets', rid: 1 })).toEqual({ op: 'markets', rid: 1 });
    expect(accepted({ op: 'ping' })).toEqual({ op: 'ping' });
  });

  it('sub: ch enum, sym, depth default 50 and bounded', () => {
    expect(accepted({ op: 'sub', ch: 'book', sym: 'BTC-USD' })).toEqual({
      op: 'sub',
      ch: 'book',
      sym: 'BTC-USD',
      depth: DEFAULT_BOOK_DEPTH,
      interval: 0,
      candleInterval: null,
      limit: 500,
      recent: null,
    });
    expect(DEFAULT_BOOK_DEPTH).toBe(50);
    expect(accepted({ op: 'sub', ch: 'book', sym: 'BTC-USD', interval: 250 })).toMatchObject({ interval: 250 });
    expect(rejected({ op: 'sub', ch: 'book', sym: 'BTC-USD', interval: 99 }).code).toBe('bad_request');
    expect(accepted({ op: 'sub', ch: 'trades', sym: 'BTC-USD', depth: 5 })).toMatchObject({ ch: 'trades', depth: 5 });
    expect(accepted({ op: 'sub', ch: 'book', sym: 'BTC-USD', depth: MAX_BOOK_DEPTH })).toMatchObject({
      depth: MAX_BOOK_DEPTH,
    });
    expect(rejected({ op: 'sub', ch: 'book', sym: 'BTC-USD', depth: MAX_BOOK_DEPTH + 1 }).code).toBe('bad_request');
    expect(rejected({ op: 'sub', ch: 'book', sym: 'BTC-USD', depth: 0 }).code).toBe('bad_number');
    expect(rejected({ op: 'sub', ch: 'book', sym: 'BTC-USD', depth: 2.5 }).code).toBe('bad_number');
    expect(rejected({ op: 'sub', ch: 'candles', sym: 'BTC-USD' }).code).toBe('bad_request');
    expect(rejected({ op: 'sub', ch: 'Book', sym: 'BTC-USD' }).code).toBe('bad_request');
    expect(rejected({ op: 'sub', sym: 'BTC-USD' })).toMatchObject({ code: 'bad_request', msg: 'ch is required' });
    expect(rejected({ op: 'sub', ch: 'book' })).toMatchObject({ code: 'bad_request', msg: 'sym is required' });
  });

  it('unsub: ch and sym required', () => {
    expect(accepted({ op: 'unsub', ch: 'trades', sym: 'X' })).toEqual({ op: 'unsub', ch: 'trades', sym: 'X', candleInterval: null });
    expect(rejected({ op: 'unsub', sym: 'X' }).code).toBe('bad_request');
    expect(rejected({ op: 'unsub', ch: 'book' }).code).toBe('bad_request');
    expect(rejected({ op: 'unsub', ch: 1, sym: 'X' }).code).toBe('bad_request');
  });

  it('sub candles: interval required and one of the intervals, limit 1–1000 default 500', () => {
    expect(accepted({ op: 'sub', ch: 'candles', sym: 'BTC-USD', interval: '5m' })).toMatchObject({
      ch: 'candles',
      candleInterval: '5m',
      interval: 0,
      limit: 500,
    });
    expect(accepted({ op: 'sub', ch: 'candles', sym: 'BTC-USD', interval: '1d', limit: 1000 })).toMatchObject({
      candleInterval: '1d',
      limit: 1000,
    });
    const unknown = rejected({ op: 'sub', ch: 'candles', sym: 'BTC-USD', interval: '2m' });
    expect(unknown).toMatchObject({ code: 'bad_request', msg: 'interval must be one of 1m, 5m, 15m, 1h, 1d' });
    expect(rejected({ op: 'sub', ch: 'candles', sym: 'BTC-USD' }).msg).toContain('1m, 5m, 15m, 1h, 1d');
    expect(rejected({ op: 'sub', ch: 'candles', sym: 'BTC-USD', interval: '1m', limit: 1001 }).code).toBe('bad_request');
    expect(rejected({ op: 'sub', ch: 'candles', sym: 'BTC-USD', interval: '1m', limit: 0 }).code).toBe('bad_number');
    // Only candles reads limit; interval is book's ms on book, ignored on trades and ticker.
    expect(accepted({ op: 'sub', ch: 'book', sym: 'BTC-USD', interval: 100, limit: 'x' })).toMatchObject({
      interval: 100,
      candleInterval: null,
      limit: 500,
    });
    expect(rejected({ op: 'sub', ch: 'book', sym: 'BTC-USD', interval: '1m' }).code).toBe('bad_request');
    expect(accepted({ op: 'sub', ch: 'ticker', sym: 'BTC-USD', interval: 'nope' })).toMatchObject({ interval: 0, candleInterval: null });
    expect(accepted({ op: 'unsub', ch: 'candles', sym: 'X', interval: '1h' })).toMatchObject({ candleInterval: '1h' });
    expect(rejected({ op: 'unsub', ch: 'candles', sym: 'X' }).code).toBe('bad_request');
    expect(accepted({ op: 'unsub', ch: 'ticker', sym: 'X', interval: 'nope' })).toMatchObject({ ch: 'ticker', candleInterval: null });
  });

  it('sub trades: recent 1–500 is opt-in, absent is null', () => {
    expect(accepted({ op: 'sub', ch: 'trades', sym: 'BTC-USD', recent: 500 })).toMatchObject({ recent: 500 });
    expect(accepted({ op: 'sub', ch: 'trades', sym: 'BTC-USD' })).toMatchObject({ recent: null });
    expect(rejected({ op: 'sub', ch: 'trades', sym: 'BTC-USD', recent: 501 }).code).toBe('bad_request');
    expect(rejected({ op: 'sub', ch: 'trades', sym: 'BTC-USD', recent: 0 }).code).toBe('bad_number');
    expect(rejected({ op: 'sub', ch: 'trades', sym: 'BTC-USD', recent: 1.5 }).code).toBe('bad_number');
    expect(accepted({ op: 'sub', ch: 'ticker', sym: 'BTC-USD', recent: 9999 })).toMatchObject({ ch: 'ticker', recent: null });
  });

  it('place: a limit order with defaults tif gtc, stp none, post false, cid null', () => {
    expect(accepted({ ...PLACE, rid: 3 })).toEqual({
      op: 'place',
      rid: 3,
      sym: 'BTC-USD',
      side: 'buy',
      kind: 'limit',
      px: 100,
      qty: 5,
      tif: 'gtc',
      post: false,
      stp: 'none',
      cid: null,
    });
  });

  it('place: nil optional fields mean their defaults', () => {
    expect(accepted({ ...PLACE, tif: null, stp: null, post: null, cid: null })).toMatchObject({
      tif: 'gtc',
      stp: 'none',
      post: false,
      cid: null,
    });
  });

  it('place: every enum value is accepted', () => {
    for (const side of ['buy', 'sell']) expect(accepted({ ...PLACE, side })).toMatchObject({ side });
    for (const tif of ['gtc', 'ioc', 'fok']) expect(accepted({ ...PLACE, tif })).toMatchObject({ tif });
    for (const stp of ['none', 'cancel_taker', 'cancel_maker', 'cancel_both']) {
      expect(accepted({ ...PLACE, stp })).toMatchObject({ stp });
    }
    expect(accepted({ ...PLACE, post: true })).toMatchObject({ post: true });
    expect(accepted({ ...PLACE, cid: 'c'.repeat(MAX_CID_LENGTH) })).toMatchObject({ cid: 'c'.repeat(MAX_CID_LENGTH) });
  });

  it('place: a market order has px null and takes no px', () => {
    const { px: _px, ...market } = { ...PLACE, kind: 'market' };
    expect(accepted(market)).toMatchObject({ kind: 'market', px: null, qty: 5 });
    expect(accepted({ ...market, px: null })).toMatchObject({ px: null });
    expect(rejected({ ...market, px: 100 })).toMatchObject({ code: 'bad_request', op: 'place' });
    expect(accepted({ ...market, tif: 'ioc' })).toMatchObject({ tif: 'ioc' });
  });

  it.each([
    ['side', { side: 'long' }],
    ['side (case)', { side: 'BUY' }],
    ['side (number)', { side: 0 }],
    ['kind', { kind: 'stop' }],
    ['tif', { tif: 'day' }],
    ['stp', { stp: 'cancel' }],
    ['post (not boolean)', { post: 'yes' }],
    ['post (number)', { post: 1 }],
    ['cid (too long)', { cid: 'c'.repeat(MAX_CID_LENGTH + 1) }],
    ['cid (empty)', { cid: '' }],
    ['cid (number)', { cid: 12 }],
    ['sym (too long)', { sym: 'S'.repeat(MAX_SYM_LENGTH + 1) }],
    ['sym (empty)', { sym: '' }],
    ['sym (number)', { sym: 1 }],
    ['post with ioc', { post: true, tif: 'ioc' }],
    ['post with fok', { post: true, tif: 'fok' }],
  ])('place: bad %s is bad_request', (_, patch) => {
    expect(rejected({ ...PLACE, ...patch })).toMatchObject({ code: 'bad_request', op: 'place' });
  });

  it('place: post on a market order is bad_request', () => {
    const { px: _px, ...market } = { ...PLACE, kind: 'market' };
    expect(rejected({ ...market, post: true }).code).toBe('bad_request');
  });

  it.each(['sym', 'side', 'kind', 'qty', 'px'])('place: missing %s is bad_request', (key) => {
    const message: Record<string, unknown> = { ...PLACE };
    delete message[key];
    expect(rejected(message)).toMatchObject({ code: 'bad_request', op: 'place', msg: `${key} is required` });
  });

  it('place: sym of exactly the maximum length is fine', () => {
    expect(accepted({ ...PLACE, sym: 'S'.repeat(MAX_SYM_LENGTH) })).toMatchObject({ op: 'place' });
  });

  it('cancel: sym and id or cid', () => {
    expect(accepted({ op: 'cancel', sym: 'X', id: 9 })).toEqual({ op: 'cancel', sym: 'X', ref: { id: 9 } });
    expect(accepted({ op: 'cancel', sym: 'X', cid: 'a' })).toEqual({ op: 'cancel', sym: 'X', ref: { cid: 'a' } });
    expect(accepted({ op: 'cancel', sym: 'X', id: 9, cid: 'a' })).toMatchObject({ ref: { id: 9 } });
    expect(rejected({ op: 'cancel', sym: 'X' })).toMatchObject({ code: 'bad_request', msg: 'id or cid is required' });
    expect(rejected({ op: 'cancel', id: 9 }).code).toBe('bad_request');
    expect(rejected({ op: 'cancel', sym: 'X', id: 0 }).code).toBe('bad_number');
    expect(rejected({ op: 'cancel', sym: 'X', id: '9' }).code).toBe('bad_number');
    expect(rejected({ op: 'cancel', sym: 'X', cid: 'c'.repeat(MAX_CID_LENGTH + 1) }).code).toBe('bad_request');
  });

  it('orders: limit 1 to MAX_ORDERS_PAGE, after a string cursor', () => {
    expect(accepted({ op: 'orders', limit: 5, after: '[["X",3]]' })).toEqual({ op: 'orders', sym: null, limit: 5, after: '[["X",3]]' });
    expect(rejected({ op: 'orders', limit: MAX_ORDERS_PAGE + 1 }).code).toBe('bad_request');
    expect(rejected({ op: 'orders', limit: 0 }).code).toBe('bad_number');
    expect(rejected({ op: 'orders', after: 7 }).code).toBe('bad_request');
  });

  it('a decimal px or qty is bad_number in the units of the market named, when one is known', () => {
    const markets = new Map([
      ['BTC-USD', { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 }],
    ]);
    const place = { op: 'place', sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 100.5, qty: 1 };
    const known = validateRequest(place, markets);
    expect(known.ok ? null : known.reject.msg).toBe(
      'px must be an integer number of ticks (BTC-USD has pxDecimals 2: 100.50 USD is px 10050)',
    );
    const tiny = validateRequest({ ...place, px: 100, qty: 1e-9 }, markets);
    expect(tiny.ok ? null : tiny.reject.msg).toBe(
      'qty must be an integer number of lots (BTC-USD has qtyDecimals 6: 0.500000 BTC is qty 500000)',
    );
    expect(rejected({ ...place, sym: 'X' }).msg).toBe('px must be an integer number of ticks (see pxDecimals and qtyDecimals in markets)');
  });

  it('cancel_all and orders: sym optional', () => {
    expect(accepted({ op: 'cancel_all' })).toEqual({ op: 'cancel_all', sym: null });
    expect(accepted({ op: 'cancel_all', sym: 'X' })).toEqual({ op: 'cancel_all', sym: 'X' });
    expect(accepted({ op: 'orders' })).toEqual({ op: 'orders', sym: null, limit: MAX_ORDERS_PAGE, after: null });
    expect(accepted({ op: 'orders', sym: 'X', rid: 2 })).toEqual({ op: 'orders', sym: 'X', rid: 2, limit: MAX_ORDERS_PAGE, after: null });
    expect(rejected({ op: 'orders', sym: 5 }).code).toBe('bad_request');
    expect(rejected({ op: 'cancel_all', sym: 'S'.repeat(MAX_SYM_LENGTH + 1) }).code).toBe('bad_request');
  });

  it('amend: sym, id or cid, and qty and/or px', () => {
    expect(accepted({ op: 'amend', sym: 'X', id: 1, qty: 3 })).toEqual({
      op: 'amend',
      sym: 'X',
      ref: { id: 1 },
      qty: 3,
      px: null,
    });
    expect(accepted({ op: 'amend', sym: 'X', cid: 'a', px: 7 })).toMatchObject({ qty: null, px: 7, ref: { cid: 'a' } });
    expect(accepted({ op: 'amend', sym: 'X', id: 1, qty: 3, px: 7 })).toMatchObject({ qty: 3, px: 7 });
    expect(rejected({ op: 'amend', sym: 'X', id: 1 })).toMatchObject({ code: 'bad_request', op: 'amend' });
    expect(rejected({ op: 'amend', sym: 'X', qty: 1 }).code).toBe('bad_request');
    expect(rejected({ op: 'amend', id: 1, qty: 1 }).code).toBe('bad_request');
    expect(rejected({ op: 'amend', sym: 'X', id: 1, qty: 0 }).code).toBe('bad_number');
    expect(rejected({ op: 'amend', sym: 'X', id: 1, px: -1 }).code).toBe('bad_number');
  });
});

describe('validateRequest: bad_number', () => {
  it.each([
    ['a float', 1.5],
    ['a tiny float', 0.1],
    ['a numeric string', '5'],
    ['an empty string', ''],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a negative number', -5],
    ['negative zero', -0],
    ['zero', 0],
    ['2^53', 2 ** 53],
    ['2^64', 2 ** 64],
    ['a BigInt', 5n],
    ['a boolean', true],
    ['an array', [5]],
    ['a map', { value: 5 }],
  ])('qty as %s', (_, qty) => {
    expect(rejected({ ...PLACE, qty })).toMatchObject({ code: 'bad_number', op: 'place' });
  });

  it.each([
    ['a float', 100.25],
    ['zero', 0],
    ['a negative number', -100],
    ['a string', '100'],
    ['2^53', 2 ** 53],
  ])('px as %s', (_, px) => {
    expect(rejected({ ...PLACE, px })).toMatchObject({ code: 'bad_number', op: 'place' });
  });

  it('accepts 1 and 2^53 - 1', () => {
    expect(accepted({ ...PLACE, qty: 1, px: Number.MAX_SAFE_INTEGER })).toMatchObject({
      qty: 1,
      px: Number.MAX_SAFE_INTEGER,
    });
    expect(isSafePositiveInteger(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(isSafePositiveInteger(Number.MAX_SAFE_INTEGER + 1)).toBe(false);
    expect(isSafePositiveInteger(1n)).toBe(false);
  });

  it('rejects a uint64 beyond 2^53 from real msgpack bytes (decoded as BigInt)', () => {
    const decoded = codec.decode(placeWithQty(uint64(0x0020_0000, 1))); // 2^53 + 1
    expect(typeof (decoded as { qty: unknown }).qty).toBe('bigint');
    expect(rejected(decoded)).toMatchObject({ code: 'bad_number', op: 'place' });
    const max = codec.decode(placeWithQty(uint64(0xffff_ffff, 0xffff_ffff)));
    expect((max as { qty: unknown }).qty).toBe(2n ** 64n - 1n);
    expect(rejected(max).code).toBe('bad_number');
  });

  it('rejects a uint64 of exactly 2^53 and a negative int64 from real msgpack bytes', () => {
    expect(rejected(codec.decode(placeWithQty(uint64(0x0020_0000, 0)))).code).toBe('bad_number');
    expect(rejected(codec.decode(placeWithQty(int64(0xffff_ffff, 0xffff_fffb)))).code).toBe('bad_number'); // -5
  });

  it('accepts a small integer that a client wrote as 64-bit (as Go and Java libraries do)', () => {
    expect(accepted(codec.decode(placeWithQty(uint64(0, 5))))).toMatchObject({ qty: 5 });
    expect(accepted(codec.decode(placeWithQty(int64(0, 5))))).toMatchObject({ qty: 5 });
    expect(accepted(codec.decode(placeWithQty(uint64(0x001f_ffff, 0xffff_ffff))))).toMatchObject({
      qty: Number.MAX_SAFE_INTEGER,
    });
  });

  it('rejects floats from real msgpack bytes, even integral ones beyond 2^53', () => {
    expect(rejected(codec.decode(placeWithQty(float64(5.5)))).code).toBe('bad_number');
    expect(rejected(codec.decode(placeWithQty(float64(2 ** 60)))).code).toBe('bad_number');
    expect(rejected(codec.decode(placeWithQty(float64(Number.NaN)))).code).toBe('bad_number');
    // An integral float64 in range is a number like any other once decoded: the validator alone
    // cannot tell, so the gateway marks float-encoded fields first (msgpack-floats.test.ts).
    expect(accepted(codec.decode(placeWithQty(float64(5))))).toMatchObject({ qty: 5 });
  });

  it('checks fields in order: a bad enum before a bad number reports bad_request', () => {
    expect(rejected({ ...PLACE, side: 'x', qty: 0 }).code).toBe('bad_request');
  });
});

describe('validateRequest: prototype keys in a decoded frame', () => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort();

  it('treats __proto__ and constructor keys as inert data', () => {
    // {"__proto__": {"op":"place","token":"stolen"}, "constructor": {"prototype": {"op":"x"}}, "op":"login"}
    const bytes = Uint8Array.from([
      ...mapHeader(3),
      ...str('__proto__'),
      ...mapHeader(2),
      ...str('op'),
      ...str('place'),
      ...str('token'),
      ...str('stolen'),
      ...str('constructor'),
      ...mapHeader(1),
      ...str('prototype'),
      ...mapHeader(1),
      ...str('op'),
      ...str('x'),
      ...str('op'),
      ...str('login'),
    ]);
    const decoded = codec.decode(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    // the token under __proto__ must not be visible as the login's token
    expect(rejected(decoded)).toMatchObject({ code: 'bad_request', op: 'login', msg: 'token is required' });
    expect(({} as Record<string, unknown>)['op']).toBeUndefined();
    expect(({} as Record<string, unknown>)['token']).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  });

  it('does not let a __proto__ key supply a required field or an op', () => {
    // {"__proto__": {"op":"ping"}}: no op of its own
    const bytes = Uint8Array.from([...mapHeader(1), ...str('__proto__'), ...mapHeader(1), ...str('op'), ...str('ping')]);
    expect(rejected(codec.decode(bytes))).toMatchObject({ code: 'bad_request', msg: 'op is required' });
  });

  it('validates normally with prototype-named keys next to real fields', () => {
    // {"op":"ping","rid":1,"__proto__":null,"hasOwnProperty":1,"constructor":"x","toString":2}
    const bytes = Uint8Array.from([
      ...mapHeader(6),
      ...str('op'),
      ...str('ping'),
      ...str('rid'),
      1,
      ...str('__proto__'),
      0xc0,
      ...str('hasOwnProperty'),
      1,
      ...str('constructor'),
      ...str('x'),
      ...str('toString'),
      2,
    ]);
    expect(accepted(codec.decode(bytes))).toEqual({ op: 'ping', rid: 1 });
  });

  it('handles objects with a null prototype or an own hasOwnProperty', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { op: 'ping', rid: 4 });
    expect(accepted(bare)).toEqual({ op: 'ping', rid: 4 });
    expect(accepted({ op: 'ping', hasOwnProperty: () => false })).toEqual({ op: 'ping' });
  });

  it('reads only own fields, never inherited ones', () => {
    const inherited = Object.create({ op: 'login', token: 't' }) as Record<string, unknown>;
    expect(rejected(inherited).msg).toBe('op is required');
  });
});

describe('validateRequest: stop orders', () => {
  const STOP = { op: 'place', sym: 'BTC-USD', side: 'sell', kind: 'stop', trigger: 95, qty: 5 } as const;

  it('a stop takes a trigger and an optional px (stop-limit with it, stop-market without)', () => {
    expect(accepted(STOP)).toEqual({
      op: 'place',
      sym: 'BTC-USD',
      side: 'sell',
      kind: 'stop',
      px: null,
      qty: 5,
      tif: 'gtc',
      post: false,
      stp: 'none',
      cid: null,
      trigger: 95,
    });
    expect(accepted({ ...STOP, px: 94 })).toMatchObject({ kind: 'stop', px: 94, trigger: 95 });
    expect(accepted({ ...STOP, side: 'buy', px: 106, trigger: 105, tif: 'ioc' })).toMatchObject({ side: 'buy', px: 106, tif: 'ioc' });
  });

  it.each([
    ['a missing trigger', { trigger: undefined }, 'bad_request', 'trigger is required'],
    ['a trigger of 0', { trigger: 0 }, 'bad_number', 'trigger must be a safe positive integer'],
    ['a trigger past 2^53', { trigger: 2 ** 53 }, 'bad_number', 'trigger must be a safe positive integer'],
    ['a string trigger', { trigger: '95' }, 'bad_number', 'trigger must be a safe positive integer'],
    ['fok', { tif: 'fok' }, 'bad_request', 'stop orders take tif gtc or ioc: a stop that triggers can no longer be rejected whole'],
    ['post', { px: 94, post: true }, 'bad_request', 'post is only for limit gtc orders'],
  ])('place: a stop with %s is refused', (_, patch, code, msg) => {
    const message: Record<string, unknown> = { ...STOP, ...patch };
    if (message.trigger === undefined) delete message.trigger;
    expect(rejected(message)).toMatchObject({ code, op: 'place', msg });
  });

  it('a decimal trigger is answered in the market units, as px is', () => {
    const markets = new Map([
      ['BTC-USD', { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 }],
    ]);
    const result = validateRequest({ ...STOP, trigger: 95.5 }, markets);
    expect(result.ok ? null : result.reject.msg).toBe(
      'trigger must be an integer number of ticks (BTC-USD has pxDecimals 2: 95.50 USD is trigger 9550)',
    );
  });

  it('a trigger on another kind is refused', () => {
    expect(rejected({ ...PLACE, trigger: 95 })).toMatchObject({ code: 'bad_request', msg: 'trigger is only for stop orders' });
    const { px: _px, ...market } = { ...PLACE, kind: 'market' };
    expect(rejected({ ...market, trigger: 95 })).toMatchObject({ code: 'bad_request', msg: 'trigger is only for stop orders' });
  });

  it('amend: trigger alone is enough, and is left out when absent', () => {
    expect(accepted({ op: 'amend', sym: 'X', id: 1, trigger: 90 })).toEqual({
      op: 'amend',
      sym: 'X',
      ref: { id: 1 },
      qty: null,
      px: null,
      trigger: 90,
    });
    expect(accepted({ op: 'amend', sym: 'X', id: 1, qty: 2 })).not.toHaveProperty('trigger');
    expect(rejected({ op: 'amend', sym: 'X', id: 1 }).msg).toBe('amend needs qty, px and/or trigger');
    expect(rejected({ op: 'amend', sym: 'X', id: 1, trigger: -3 }).code).toBe('bad_number');
  });
});

describe('validateRequest: icebergs', () => {
  const ICEBERG = { ...PLACE, qty: 10, display: 3 };

  it('a gtc limit order takes display: 1 ≤ display < qty, in at most 100 slices', () => {
    expect(accepted(ICEBERG)).toEqual({
      op: 'place',
      sym: 'BTC-USD',
      side: 'buy',
      kind: 'limit',
      px: 100,
      qty: 10,
      tif: 'gtc',
      post: false,
      stp: 'none',
      cid: null,
      display: 3,
    });
    expect(accepted({ ...ICEBERG, post: true })).toMatchObject({ post: true, display: 3 });
    expect(accepted({ ...ICEBERG, qty: 1000, display: 10 })).toMatchObject({ display: 10 });
    expect(accepted({ ...PLACE })).not.toHaveProperty('display');
  });

  it.each([
    ['display equal to qty', { display: 10 }, 'bad_request', 'display must be less than qty: an iceberg shows a part of its qty at a time'],
    ['display of 0', { display: 0 }, 'bad_number', 'display must be a safe positive integer'],
    ['101 slices', { qty: 1001, display: 10 }, 'bad_request', 'display must be at least qty / 100: an iceberg shows at most 100 slices'],
    [
      'ioc',
      { tif: 'ioc' },
      'bad_request',
      'display is only for limit gtc orders (icebergs): an order that does not rest has nothing to hide',
    ],
    [
      'a stop',
      { kind: 'stop', trigger: 95 },
      'bad_request',
      'display is only for limit gtc orders (icebergs): an order that does not rest has nothing to hide',
    ],
  ])('place: an iceberg with %s is refused', (_, patch, code, msg) => {
    expect(rejected({ ...ICEBERG, ...patch })).toMatchObject({ code, op: 'place', msg });
  });

  it('a decimal display is answered in lots; display cannot be amended', () => {
    const markets = new Map([
      ['BTC-USD', { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 }],
    ]);
    const result = validateRequest({ ...ICEBERG, display: 0.5 }, markets);
    expect(result.ok ? null : result.reject.msg).toBe(
      'display must be an integer number of lots (BTC-USD has qtyDecimals 6: 0.500000 BTC is display 500000)',
    );
    expect(rejected({ op: 'amend', sym: 'X', id: 1, qty: 5, display: 2 }).code).toBe('bad_request');
  });
});
