// ≥100,000 random, mutated and hostile frames against a running server: it stays up, answers
// every frame, and no state changes (the book, its seq and the resting orders are as before).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodec } from '../../protocol/codec.js';
import { checkInvariants } from '../../server/engine/invariants.js';
import { RawSocket } from '../support/raw-socket.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const codec = createCodec();
const SYM = 'BTC-USD';

let server: TestServer;
let trader: RawSocket;

interface Observed {
  orders: unknown;
  book: unknown;
}

async function observe(rid: string): Promise<Observed> {
  const orders = await trader.request({ op: 'orders' }, `${rid}-orders`);
  const watcher = await RawSocket.open(server.url);
  await watcher.request({ op: 'sub', ch: 'book', sym: SYM, depth: 1000 }, 1);
  await watcher.waitFor((m) => m.some((x) => x.type === 'book'));
  const book = watcher.messages.find((x) => x.type === 'book')!;
  await watcher.close();
  return { orders: orders.orders, book };
}

/** Valid requests of every op except login, as mutation templates. */
const TEMPLATES: readonly Record<string, unknown>[] = [
  { op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 99, qty: 5, cid: 'fuzz-1', rid: 7 },
  { op: 'place', sym: SYM, side: 'sell', kind: 'market', qty: 3, tif: 'ioc', stp: 'cancel_both' },
  { op: 'cancel', sym: SYM, id: 1, rid: 'abc' },
  { op: 'cancel', sym: SYM, cid: 'maker-1' },
  { op: 'amend', sym: SYM, id: 2, qty: 1, px: 98 },
  { op: 'cancel_all', sym: SYM },
  { op: 'cancel_all' },
  { op: 'orders' },
  { op: 'sub', ch: 'book', sym: SYM, depth: 5 },
  { op: 'unsub', ch: 'trades', sym: SYM },
  { op: 'ping', rid: 1 },
  { op: 'markets' },
];

const HOSTILE_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  Number.NaN,
  2 ** 53,
  -(2 ** 53),
  '',
  'x'.repeat(100),
  '1',
  [],
  {},
  [1, 2, 3],
  Object.fromEntries([['__proto__', { polluted: true }]]),
  { constructor: { prototype: { polluted: true } } },
  BigInt(2) ** BigInt(63),
  new Uint8Array([1, 2, 3]),
];

function mutate(random: () => number, bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  switch (randomInt(random, 0, 4)) {
    case 0: // flip bytes
      for (let i = randomInt(random, 1, 4); i > 0; i--) copy[randomInt(random, 0, copy.length - 1)] = randomInt(random, 0, 255);
      return copy;
    case 1: // truncate
      return copy.subarray(0, randomInt(random, 0, copy.length - 1));
    case 2: {
      // trailing garbage
      const out = new Uint8Array(copy.length + randomInt(random, 1, 16));
      out.set(copy);
      for (let i = copy.length; i < out.length; i++) out[i] = randomInt(random, 0, 255);
      return out;
    }
    case 3: {
      // a field replaced by a hostile value
      const value: Record<string, unknown> = { ...(codec.decode(bytes) as Record<string, unknown>) };
      const keys = [...Object.keys(value), '__proto__', 'constructor', 'toString'];
      // defineProperty: a plain assignment to `__proto__` would set the prototype, not a key.
      Object.defineProperty(value, pick(random, keys), {
        value: pick(random, HOSTILE_VALUES),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return codec.encode(value);
    }
    default: // random bytes
      return Uint8Array.from({ length: randomInt(random, 0, 64) }, () => randomInt(random, 0, 255));
  }
}

function deepNesting(depth: number): Uint8Array {
  const bytes = new Uint8Array(depth + 1).fill(0x91); // fixarray of 1, nested
  bytes[depth] = 0xc0;
  return bytes;
}

beforeAll(async () => {
  server = await startTestServer();
  trader = await RawSocket.open(server.url);
  await trader.request({ op: 'login', token: 'token-alice' }, 'login');
  for (let i = 0; i < 20; i++) {
    const side = i % 2 === 0 ? 'buy' : 'sell';
    const px = side === 'buy' ? 100 - (i % 7) : 105 + (i % 7);
    const ack = await trader.request({ op: 'place', sym: SYM, side, kind: 'limit', px, qty: 10 + i, cid: `maker-${i}` }, `p${i}`);
    expect(ack.type).toBe('ack');
  }
});

afterAll(async () => {
  await trader.close();
  await server.stop();
});

describe('fuzzing the running server', () => {
  it('survives 100,000+ hostile frames with every frame answered and no state change', async () => {
    const before = await observe('before');
    const random = mulberry32(0x5eed);
    const templates = TEMPLATES.map((t) => codec.encode(t));
    const sockets = await Promise.all([0, 1, 2, 3].map(() => RawSocket.open(server.url)));
    const FRAMES_PER_SOCKET = 25_000;
    const CHUNK = 1000;
    for (let chunk = 0; chunk < FRAMES_PER_SOCKET / CHUNK; chunk++) {
      for (const socket of sockets) {
        for (let i = 0; i < CHUNK; i++) {
          const roll = random();
          if (roll < 0.02) socket.sendBytes('not msgpack: text');
          else if (roll < 0.03) socket.sendBytes(deepNesting(randomInt(random, 100, 5000)));
          else if (roll < 0.04) socket.send(Array.from({ length: randomInt(random, 1025, 1500) }, () => ({ op: 'ping' })));
          else if (roll < 0.1) socket.send(Array.from({ length: randomInt(random, 2, 6) }, () => codec.decode(pick(random, templates))));
          else socket.sendBytes(mutate(random, pick(random, templates)));
        }
        socket.send({ op: 'ping', rid: `sentinel-${chunk}` });
      }
      await Promise.all(sockets.map((s) => s.waitFor((m) => m.some((x) => x.rid === `sentinel-${chunk}`))));
    }
    // Every frame got an answer: at least one message per frame sent (plus the sentinels).
    for (const socket of sockets) {
      expect(socket.isOpen).toBe(true);
      expect(socket.messages.length).toBeGreaterThanOrEqual(FRAMES_PER_SOCKET);
      const types = new Set(socket.messages.map((m) => m.type));
      expect(types.has('error')).toBe(true);
      expect(types.has('reject')).toBe(true);
      // Unauthenticated sockets can never be acked.
      expect(types.has('ack')).toBe(false);
    }
    await Promise.all(sockets.map((s) => s.close()));

    const after = await observe('after');
    expect(after).toEqual(before);
    expect(checkInvariants(server.server.engine)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const health = await fetch(`${server.httpUrl}/health`);
    expect(health.status).toBe(200);
  });

  it('rejects 20,000 invalid trading requests from a logged-in account without changing state', async () => {
    const before = await observe('before-2');
    const bob = await RawSocket.open(server.url);
    await bob.request({ op: 'login', token: 'token-bob' }, 'login');
    const random = mulberry32(42);
    const valid = { op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 110, qty: 5 };
    const invalid: (() => Record<string, unknown>)[] = [
      () => ({ ...valid, px: pick(random, [0, -5, 1.25, '100', Number.NaN, 2 ** 53, true]) }),
      () => ({ ...valid, qty: pick(random, [0, -1, 0.5, '5', 2 ** 60, null]) }),
      () => ({ ...valid, side: pick(random, ['BUY', 'long', 1, null]) }),
      () => ({ ...valid, kind: pick(random, ['stop', 5, null]) }),
      () => ({ ...valid, tif: pick(random, ['day', 1]) }),
      () => ({ ...valid, stp: pick(random, ['always', 0]) }),
      () => ({ ...valid, sym: pick(random, ['NOPE-USD', '', 'x'.repeat(40), 7]) }),
      () => ({ ...valid, cid: pick(random, ['x'.repeat(37), '', 12]) }),
      () => ({ ...valid, kind: 'market' }), // market with px
      () => ({ ...valid, tif: 'ioc', post: true }),
      () => ({ ...valid, px: 90, post: true }), // crosses alice's asks at 105.. no: a bid at 90 does not cross, so use a crossing ask
      () => ({ op: 'cancel', sym: SYM, id: randomInt(random, 1, 20) }), // alice's ids: unknown for bob
      () => ({ op: 'cancel', sym: SYM, cid: `maker-${randomInt(random, 0, 19)}` }),
      () => ({ op: 'amend', sym: SYM, id: randomInt(random, 1, 20), qty: 1 }),
      () => ({ op: 'amend', sym: SYM, id: randomInt(random, 1, 20) }),
      () => ({ op: 'cancel_all', sym: 'NOPE-USD' }),
      () => ({ op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 100, qty: 5, post: true }), // post would take
      () => ({ op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 105, qty: 1_000_000, tif: 'fok' }),
    ];
    // The one generator above that is valid (a non-crossing post bid) is replaced by a crossing one.
    invalid[10] = () => ({ op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 106, qty: 1, post: true });
    const TOTAL = 20_000;
    const CHUNK = 500;
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      for (let i = 0; i < CHUNK; i++) bob.send({ ...pick(random, invalid)(), rid: sent + i });
      await bob.waitFor((m) => m.some((x) => x.rid === sent + CHUNK - 1));
    }
    const replies = bob.messages.filter((m) => typeof m.rid === 'number');
    expect(replies).toHaveLength(TOTAL);
    const notRejected = replies.filter((m) => m.type !== 'reject');
    expect(notRejected).toEqual([]);
    const codes = new Set(replies.map((m) => m.code));
    for (const code of ['bad_number', 'bad_request', 'unknown_market', 'unknown_order', 'post_would_take', 'fok_unfilled']) {
      expect(codes).toContain(code);
    }
    await bob.close();
    expect(await observe('after-2')).toEqual(before);
    expect(checkInvariants(server.server.engine)).toBeNull();
  });

  it('closes a socket that sends a frame over the payload limit, and keeps serving others', async () => {
    const socket = await RawSocket.open(server.url);
    socket.sendBytes(new Uint8Array(200 * 1024).fill(0x90));
    await socket.waitFor(() => false, 5000).catch(() => undefined);
    expect([1006, 1009]).toContain(socket.closeCode);
    const pong = await trader.request({ op: 'ping' }, 'still-alive');
    expect(pong.type).toBe('pong');
  });
});
