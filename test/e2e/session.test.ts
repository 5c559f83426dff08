// End to end over real WebSockets: login, markets, ping, unauthenticated trading, array frames,
// resubscription and the HTTP endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MARKETS } from '../../server/config.js';
import { REJECT_CODES } from '../../protocol/constants.js';
import { RejectError } from '../../protocol/client.js';
import type { BookMessage } from '../../protocol/messages.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { barrier, connect, httpGet, metricValue, SYM, SYM2, type Recorded } from '../support/e2e.js';

let server: TestServer;
const open: { close(): unknown }[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const c of open) c.close();
  await server.stop();
});

async function client(token?: string): Promise<Recorded> {
  const c = await connect(server.url, token);
  open.push(c.client);
  return c;
}

async function raw(): Promise<RawSocket> {
  const socket = await RawSocket.open(server.url);
  open.push(socket);
  return socket;
}

describe('login, markets, ping', () => {
  it('logs in with a good token and answers with the account, echoing the rid', async () => {
    const socket = await raw();
    expect(await socket.request({ op: 'login', token: 'token-bob' }, 'r-login')).toMatchObject({
      type: 'login',
      rid: 'r-login',
      account: 'bob',
      pseq: expect.any(Number),
      epoch: expect.any(String),
    });
    // A second token of the same account on another connection names the same account.
    const other = await raw();
    expect(await other.request({ op: 'login', token: 'token-alice-2' }, 7)).toMatchObject({ type: 'login', rid: 7, account: 'alice' });
  });

  it('rejects a bad token with unauthenticated and leaves the connection logged out', async () => {
    const socket = await raw();
    const reply = await socket.request({ op: 'login', token: 'token-mallory' }, 1);
    expect(reply).toMatchObject({ type: 'reject', rid: 1, op: 'login', code: 'unauthenticated' });
    expect(typeof reply.msg).toBe('string');
    const orders = await socket.request({ op: 'orders' }, 2);
    expect(orders).toMatchObject({ type: 'reject', rid: 2, op: 'orders', code: 'unauthenticated' });
  });

  it('rejects every trading op before login with unauthenticated, and nothing rests', async () => {
    const socket = await raw();
    const requests: Record<string, unknown>[] = [
      { op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 100, qty: 1 },
      { op: 'cancel', sym: SYM, id: 1 },
      { op: 'cancel_all' },
      { op: 'cancel_all', sym: SYM },
      { op: 'amend', sym: SYM, id: 1, qty: 5 },
      { op: 'orders' },
      { op: 'orders', sym: SYM },
    ];
    for (const [i, request] of requests.entries()) {
      const reply = await socket.request(request, `u${i}`);
      expect(reply).toEqual({ type: 'reject', rid: `u${i}`, op: request.op, code: 'unauthenticated', msg: REJECT_CODES.unauthenticated });
    }
    expect(server.server.engine.levels(SYM, 'buy', 10)).toEqual([]);
    // The typed client surfaces the same as a RejectError.
    const typed = await client();
    await expect(typed.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 100, qty: 1 })).rejects.toMatchObject({
      name: 'RejectError',
      code: 'unauthenticated',
    });
    await expect(typed.client.orders()).rejects.toBeInstanceOf(RejectError);
  });

  it('lists the configured markets', async () => {
    const c = await client();
    const reply = await c.client.markets();
    expect(reply.type).toBe('markets');
    expect(reply.markets).toEqual(DEMO_MARKETS.map((m) => ({ ...m })));
  });

  it('answers ping with pong and a server timestamp in integer ms', async () => {
    const socket = await raw();
    const before = Date.now();
    const pong = await socket.request({ op: 'ping' }, 'p');
    const after = Date.now();
    expect(pong.type).toBe('pong');
    expect(pong.rid).toBe('p');
    expect(Number.isInteger(pong.ts)).toBe(true);
    expect(pong.ts as number).toBeGreaterThanOrEqual(before);
    expect(pong.ts as number).toBeLessThanOrEqual(after);
  });
});

describe('array frames', () => {
  it('answers a frame of N requests in order', async () => {
    const socket = await raw();
    await socket.request({ op: 'login', token: 'token-carol' }, 'login');
    const N = 200;
    const frame = Array.from({ length: N }, (_, i) =>
      i % 3 === 0
        ? { op: 'ping', rid: i }
        : i % 3 === 1
          ? { op: 'place', sym: SYM2, side: 'buy', kind: 'limit', px: 1000 + i, qty: 1, rid: i, cid: `arr-${i}` }
          : { op: 'orders', sym: SYM2, rid: i },
    );
    const start = socket.messages.length;
    socket.send(frame);
    await socket.waitFor((m) => m.some((x) => x.rid === N - 1));
    const replies = socket.messages.slice(start).filter((m) => m.type !== 'exec' && m.type !== 'balance');
    expect(replies.map((m) => m.rid)).toEqual(frame.map((r) => r.rid));
    expect(replies.map((m) => m.type)).toEqual(frame.map((r) => (r.op === 'ping' ? 'pong' : r.op === 'place' ? 'ack' : 'orders')));
    // Each `orders` reply sees exactly the places processed before it in the frame.
    for (const [i, reply] of replies.entries()) {
      if (reply.type !== 'orders') continue;
      const placedBefore = frame.slice(0, i).filter((r) => r.op === 'place').length;
      expect((reply.orders as unknown[]).length).toBe(placedBefore);
    }
    // Each place's exec `new` follows its ack.
    const all = socket.messages.slice(start);
    for (const r of frame.filter((x) => x.op === 'place')) {
      const ackAt = all.findIndex((m) => m.type === 'ack' && m.rid === r.rid);
      const execAt = all.findIndex((m) => m.type === 'exec' && m.cid === r.cid);
      expect(ackAt).toBeGreaterThanOrEqual(0);
      expect(execAt).toBeGreaterThan(ackAt);
    }
    await socket.request({ op: 'cancel_all', sym: SYM2 }, 'cleanup');
  });

  it('answers an invalid element of a mixed array with a reject and the others normally', async () => {
    const socket = await raw();
    await socket.request({ op: 'login', token: 'token-carol' }, 'login');
    const frame: unknown[] = [
      { op: 'ping', rid: 'a' },
      { op: 'place', sym: SYM2, side: 'buy', kind: 'limit', px: 1.5, qty: 1, rid: 'b' },
      42,
      { op: 'place', sym: SYM2, side: 'buy', kind: 'limit', px: 900, qty: 3, rid: 'c', cid: 'mixed-1' },
      { op: 'place', sym: 'NOPE-USD', side: 'buy', kind: 'limit', px: 900, qty: 3, rid: 'd' },
      { op: 'frobnicate', rid: 'e' },
      { op: 'orders', sym: SYM2, rid: 'f' },
    ];
    const start = socket.messages.length;
    socket.send(frame);
    await socket.waitFor((m) => m.some((x) => x.rid === 'f'));
    const replies = socket.messages.slice(start).filter((m) => m.type !== 'exec' && m.type !== 'balance');
    expect(replies.map((m) => [m.type, m.rid, m.code])).toEqual([
      ['pong', 'a', undefined],
      ['reject', 'b', 'bad_number'],
      ['reject', undefined, 'bad_request'],
      ['ack', 'c', undefined],
      ['reject', 'd', 'unknown_market'],
      ['reject', 'e', 'bad_request'],
      ['orders', 'f', undefined],
    ]);
    const orders = replies[6]!.orders as { cid: string; px: number; qty: number }[];
    expect(orders.map((o) => [o.cid, o.px, o.qty])).toEqual([['mixed-1', 900, 3]]);
    await socket.request({ op: 'cancel_all', sym: SYM2 }, 'cleanup');
  });
});

describe('floats on the wire', () => {
  it('a whole number sent as a MessagePack float64 (Python sends 100.0 so) is bad_number, and nothing rests', async () => {
    const socket = await raw();
    await socket.request({ op: 'login', token: 'token-carol' }, 'login');
    // {op:"place", sym, side:"buy", kind:"limit", px: float64 100.0, qty: 1, rid: "f"} by hand.
    const str = (text: string): number[] => [0xa0 + text.length, ...Buffer.from(text)];
    const float64 = (n: number): number[] => {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, n);
      return [0xcb, ...new Uint8Array(view.buffer)];
    };
    const frame = Uint8Array.from([
      0x87,
      ...str('op'),
      ...str('place'),
      ...str('sym'),
      ...str(SYM2),
      ...str('side'),
      ...str('buy'),
      ...str('kind'),
      ...str('limit'),
      ...str('px'),
      ...float64(100),
      ...str('qty'),
      0x01,
      ...str('rid'),
      ...str('f'),
    ]);
    const start = socket.messages.length;
    socket.sendBytes(frame);
    await socket.waitFor((m) => m.some((x) => x.rid === 'f'));
    expect(socket.messages.slice(start).find((m) => m.rid === 'f')).toMatchObject({ type: 'reject', code: 'bad_number' });
    expect(server.server.engine.openOrders('carol', SYM2)).toEqual([]);
  });
});

describe('subscriptions', () => {
  it('unsub then sub gives a fresh snapshot at the current seq', async () => {
    const trader = await client('token-bob');
    const watcher = await client();
    const book = await watcher.client.subscribeBook(SYM, { depth: 10 });
    const firstSeq = book.seq;
    await trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 500, qty: 4, cid: 'resub-1' });
    await trader.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 600, qty: 2, cid: 'resub-2' });
    await barrier(watcher);
    expect(book.seq).toBe(firstSeq + 2);
    expect(await watcher.client.unsubscribe('book', SYM)).toMatchObject({ type: 'unsubbed', ch: 'book', sym: SYM });
    // While unsubscribed the market moves on: no delta reaches the watcher.
    await trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 501, qty: 1, cid: 'resub-3' });
    const seenBooks = watcher.books.length;
    await barrier(watcher);
    expect(watcher.books.length).toBe(seenBooks);
    const fresh = await watcher.client.subscribeBook(SYM, { depth: 10 });
    const snapshot = watcher.books.at(-1) as BookMessage;
    expect(snapshot.snapshot).toBe(true);
    expect(snapshot.seq).toBe(firstSeq + 3);
    expect(fresh.seq).toBe(firstSeq + 3);
    expect(fresh.bids()).toEqual(server.server.engine.levels(SYM, 'buy', 10));
    expect(fresh.asks()).toEqual(server.server.engine.levels(SYM, 'sell', 10));
    expect(fresh.bids().slice(0, 2)).toEqual([
      [501, 1],
      [500, 4],
    ]);
    await trader.client.cancelAll(SYM);
    await barrier(watcher);
    expect(fresh.seq).toBe(firstSeq + 4);
    expect(fresh.bidCount + fresh.askCount).toBe(0);
    expect(watcher.client.resyncs).toBe(0);
  });

  it('a sub to an unknown market is rejected with unknown_market', async () => {
    const socket = await raw();
    for (const ch of ['book', 'trades']) {
      const reply = await socket.request({ op: 'sub', ch, sym: 'DOGE-USD' }, `s-${ch}`);
      expect(reply).toMatchObject({ type: 'reject', rid: `s-${ch}`, op: 'sub', code: 'unknown_market' });
    }
    expect(socket.messages.some((m) => m.type === 'book' || m.type === 'subbed')).toBe(false);
  });
});

describe('HTTP', () => {
  it('GET /health answers 200 with JSON', async () => {
    const health = await httpGet(`${server.httpUrl}/health`);
    expect(health.status).toBe(200);
    expect(health.contentType).toContain('application/json');
    const body = JSON.parse(health.body) as Record<string, unknown>;
    expect(body.status).toBe('ok');
  });

  // One process's counters: in a cluster they are spread over the core and the gateways.
  it.skipIf(process.env.SPOTWIRE_TEST_TOPOLOGY !== undefined)(
    'GET /metrics exposes connections, command counts and match latency',
    async () => {
      const before = metricValue((await httpGet(`${server.httpUrl}/metrics`)).body, 'spotwire_commands_total', {
        op: 'place',
        result: 'ok',
      });
      const trader = await client('token-carol');
      const PLACES = 7;
      for (let i = 0; i < PLACES; i++) await trader.client.place({ sym: SYM2, side: 'sell', kind: 'limit', px: 5000 + i, qty: 1 });
      await expect(trader.client.place({ sym: SYM2, side: 'sell', kind: 'limit', px: 0, qty: 1 })).rejects.toMatchObject({
        code: 'bad_number',
      });
      const metrics = await httpGet(`${server.httpUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.contentType).toContain('text/plain');
      expect(metrics.body).toMatch(/^spotwire_connections \d+$/m);
      expect(metricValue(metrics.body, 'spotwire_connections')).toBe(openSockets());
      expect(metricValue(metrics.body, 'spotwire_commands_total', { op: 'place', result: 'ok' })).toBe(before + PLACES);
      expect(metricValue(metrics.body, 'spotwire_commands_total', { op: 'place', result: 'bad_number' })).toBeGreaterThanOrEqual(1);
      expect(metrics.body).toMatch(/^spotwire_match_seconds_bucket\{le="[^"]+"\} \d+$/m);
      expect(metricValue(metrics.body, 'spotwire_match_seconds_count')).toBeGreaterThanOrEqual(before + PLACES);
      await trader.client.cancelAll();
    },
  );

  it('an unknown path is 404', async () => {
    expect((await httpGet(`${server.httpUrl}/nope`)).status).toBe(404);
    expect((await httpGet(`${server.httpUrl}/health/extra`)).status).toBe(404);
  });
});

/** Sockets this file has open right now, as the server should count them. */
function openSockets(): number {
  return open.filter((c) => ('isOpen' in c ? (c as { isOpen: boolean }).isOpen : false)).length;
}
