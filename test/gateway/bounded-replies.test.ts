// One small frame must not freeze or crash the server. An account at the open-order cap asking
// for its orders 1,024 times in one 11 KB frame used to build a 1 GB reply (every client froze for
// about a minute); two such frames in one write overflowed the encoder and killed the process.
// Now an `orders` reply is one page (MAX_ORDERS_PAGE at most, with `more` and `next`), each
// connection gets a bounded slice of every turn, and a failed release closes only its socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ORDERS_PAGE } from '../../protocol/constants.js';
import { BatchSocket } from '../support/batch-socket.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const SYM = 'BTC-USD';
const SYM2 = 'ETH-USD';

/** Places `count` resting buys (alternating markets when `both`), in frames of 1,000. */
async function placeResting(socket: RawSocket, count: number, tag: string, both = false): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const frame = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      frame.push({
        op: 'place',
        rid: `${tag}${i}`,
        sym: both && i % 2 === 1 ? SYM2 : SYM,
        side: 'buy',
        kind: 'limit',
        px: 100 + (i % 50),
        qty: 1,
      });
    }
    socket.send(frame);
    const last = `${tag}${Math.min(count, start + 1000) - 1}`;
    await socket.waitFor((messages) => messages.some((m) => m.rid === last), 30_000);
  }
  expect(socket.messages.filter((m) => m.type === 'reject')).toEqual([]);
}

describe('an account at the open-order cap', () => {
  let server: TestServer;
  let alice: RawSocket;

  beforeAll(async () => {
    server = await startTestServer({ maxOpenOrdersPerAccount: 10_000 });
    alice = await RawSocket.open(server.url);
    await alice.request({ op: 'login', token: 'token-alice' }, 'login');
    await placeResting(alice, 10_000, 'p');
  }, 120_000);

  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  it('answers a frame of 1,024 orders requests in pages, and another client pings meanwhile', async () => {
    const flooder = await BatchSocket.open(server.server.port);
    flooder.sendFrames({ op: 'login', rid: 'login', token: 'token-alice-2' });
    await flooder.waitFor(() => flooder.count((m) => m.rid === 'login') === 1, 'login');
    flooder.sendFrames(Array.from({ length: 1024 }, (_, i) => ({ op: 'orders', rid: i })));
    await flooder.waitFor(() => flooder.count((m) => m.type === 'orders') > 0, 'the first orders page');
    const bob = await RawSocket.open(server.url);
    const pong = await bob.request({ op: 'ping' }, 'bob-ping');
    expect(pong.type).toBe('pong');
    await flooder.waitFor(() => flooder.count((m) => m.type === 'orders') === 1024, 'all 1,024 replies', 60_000);
    const replies = flooder.messages.filter((m) => m.type === 'orders');
    for (const reply of replies) {
      expect((reply.orders as unknown[]).length).toBe(MAX_ORDERS_PAGE);
      expect(reply.more).toBe(true);
      expect(typeof reply.next).toBe('string');
    }
    expect(replies.map((r) => r.rid)).toEqual(Array.from({ length: 1024 }, (_, i) => i));
    flooder.destroy();
    await bob.close();
  }, 90_000);

  it('survives two such frames in one write: the server stays up and another client pings', async () => {
    const flooder = await BatchSocket.open(server.server.port);
    flooder.sendFrames({ op: 'login', rid: 'login', token: 'token-alice-2' });
    await flooder.waitFor(() => flooder.count((m) => m.rid === 'login') === 1, 'login');
    const frame = Array.from({ length: 1024 }, (_, i) => ({ op: 'orders', rid: i }));
    flooder.sendFrames(frame, frame);
    await flooder.waitFor(() => flooder.count((m) => m.type === 'orders') > 0, 'the first orders page');
    const bob = await RawSocket.open(server.url);
    expect((await bob.request({ op: 'ping' }, 'bob-ping')).type).toBe('pong');
    flooder.destroy();
    // Still up after the flooder is gone, and still trading.
    const carol = await RawSocket.open(server.url);
    await carol.request({ op: 'login', token: 'token-carol' }, 'login');
    expect((await carol.request({ op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 10_000, qty: 1 }, 'c1')).type).toBe('ack');
    await bob.close();
    await carol.close();
  }, 90_000);
});

describe('orders pages', () => {
  let server: TestServer;
  let bob: RawSocket;

  beforeAll(async () => {
    server = await startTestServer();
    bob = await RawSocket.open(server.url);
    await bob.request({ op: 'login', token: 'token-bob' }, 'login');
    await placeResting(bob, 2_500, 'b', true);
  }, 60_000);

  afterAll(async () => {
    await bob?.close();
    await server?.stop();
  });

  let rid = 0;
  async function page(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
    return bob.request({ op: 'orders', ...fields }, `o${rid++}`);
  }

  /** Follows `next` to the end; every page's orders in order. */
  async function walk(
    fields: Record<string, unknown>,
    between?: (reply: Record<string, unknown>) => Promise<void>,
  ): Promise<{ sym: string; id: number }[]> {
    const all: { sym: string; id: number }[] = [];
    let after: unknown = null;
    for (;;) {
      const reply = await page({ ...fields, after });
      expect(reply.type).toBe('orders');
      all.push(...(reply.orders as { sym: string; id: number }[]).map(({ sym, id }) => ({ sym, id })));
      if (reply.more !== true) {
        expect(reply.next).toBeNull();
        return all;
      }
      if (between) await between(reply);
      after = reply.next;
    }
  }

  it('pages all open orders oldest first, 1,000 by default', async () => {
    const first = await page({});
    expect((first.orders as unknown[]).length).toBe(1000);
    expect(first.more).toBe(true);
    const all = await walk({});
    expect(all.length).toBe(2500);
    expect(new Set(all.map((o) => `${o.sym}:${o.id}`)).size).toBe(2500);
  });

  it('honours limit and sym', async () => {
    const small = await page({ limit: 7 });
    expect((small.orders as unknown[]).length).toBe(7);
    const eth = await walk({ sym: SYM2, limit: 300 });
    expect(eth.length).toBe(1250);
    expect(eth.every((o) => o.sym === SYM2)).toBe(true);
    const ids = eth.map((o) => o.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('misses and repeats nothing when the last order of a page is canceled before the next', async () => {
    const before = await walk({});
    const canceled: string[] = [];
    const after = await walk({ limit: 400 }, async (reply) => {
      const orders = reply.orders as { sym: string; id: number }[];
      const last = orders[orders.length - 1]!;
      canceled.push(`${last.sym}:${last.id}`);
      const ack = await bob.request({ op: 'cancel', sym: last.sym, id: last.id }, `x${last.id}`);
      expect(ack.type).toBe('ack');
    });
    expect(after.map((o) => `${o.sym}:${o.id}`)).toEqual(before.map((o) => `${o.sym}:${o.id}`));
    expect(canceled.length).toBe(6);
  });

  it('refuses a limit over the page size and a cursor it did not write', async () => {
    expect(await page({ limit: MAX_ORDERS_PAGE + 1 })).toMatchObject({ type: 'reject', code: 'bad_request' });
    expect(await page({ after: 'nonsense' })).toMatchObject({ type: 'reject', code: 'bad_request' });
  });
});
