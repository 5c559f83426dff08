// End to end over real WebSockets: accounts only see and touch their own orders, execs go to every
// connection of the owner and to nobody else, and cancelOnDisconnect cancels on close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { barrier, connect, httpGet, SYM, SYM2, waitUntil, type Recorded } from '../support/e2e.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.stop();
});

describe('account isolation', () => {
  it("answers bob's cancel/amend of alice's order exactly like a nonexistent one", async () => {
    const alice = await RawSocket.open(server.url);
    const bob = await RawSocket.open(server.url);
    await alice.request({ op: 'login', token: 'token-alice' }, 'l');
    await bob.request({ op: 'login', token: 'token-bob' }, 'l');
    const ack = await alice.request({ op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 100, qty: 5, cid: 'secret' }, 'p');
    const id = ack.id as number;
    const before = { bids: server.server.engine.levels(SYM, 'buy', 10), orders: server.server.engine.openOrders('alice', null) };

    const probes: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['cancel by id', { op: 'cancel', sym: SYM, id }, { op: 'cancel', sym: SYM, id: id + 1_000_000 }],
      ['cancel by cid', { op: 'cancel', sym: SYM, cid: 'secret' }, { op: 'cancel', sym: SYM, cid: 'no-such-cid' }],
      ['amend by id', { op: 'amend', sym: SYM, id, qty: 1 }, { op: 'amend', sym: SYM, id: id + 1_000_000, qty: 1 }],
      ['amend by cid', { op: 'amend', sym: SYM, cid: 'secret', px: 99 }, { op: 'amend', sym: SYM, cid: 'no-such-cid', px: 99 }],
    ];
    for (const [name, foreign, missing] of probes) {
      const a = await bob.request(foreign, `${name}/foreign`);
      const b = await bob.request(missing, `${name}/missing`);
      expect(a.code, name).toBe('unknown_order');
      const strip = (m: Record<string, unknown>): Record<string, unknown> => ({ ...m, rid: null });
      expect(strip(a), name).toEqual(strip(b));
    }
    // Bob's orders do not show alice's; nothing of alice's changed and alice got no exec.
    expect(await bob.request({ op: 'orders' }, 'o')).toEqual({ type: 'orders', rid: 'o', orders: [], more: false, next: null });
    expect(await bob.request({ op: 'orders', sym: SYM }, 'o2')).toEqual({ type: 'orders', rid: 'o2', orders: [], more: false, next: null });
    expect({ bids: server.server.engine.levels(SYM, 'buy', 10), orders: server.server.engine.openOrders('alice', null) }).toEqual(before);
    await alice.request({ op: 'ping' }, 'sync');
    expect(alice.messages.filter((m) => m.type === 'exec').map((m) => m.status)).toEqual(['new']);
    // Bob may use the same cid for an order of his own: cids are per account.
    const bobsOwn = await bob.request({ op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 200, qty: 1, cid: 'secret' }, 'own');
    expect(bobsOwn).toMatchObject({ type: 'ack', cid: 'secret' });
    const bobOrders = await bob.request({ op: 'orders' }, 'o3');
    expect((bobOrders.orders as { id: number }[]).map((o) => o.id)).toEqual([bobsOwn.id]);
    const aliceOrders = await alice.request({ op: 'orders' }, 'o4');
    expect((aliceOrders.orders as { id: number }[]).map((o) => o.id)).toEqual([id]);
    // cancel_all of bob cancels only bob's.
    expect(await bob.request({ op: 'cancel_all' }, 'ca')).toMatchObject({ type: 'ack', canceled: 1 });
    expect(server.server.engine.levels(SYM, 'buy', 10)).toEqual([[100, 5]]);
    await alice.request({ op: 'cancel_all' }, 'ca');
    await alice.close();
    await bob.close();
  });

  it("sends alice's execs to both of her connections and none to carol", async () => {
    const alice1 = await connect(server.url, 'token-alice');
    const alice2 = await connect(server.url, 'token-alice-2');
    const bob = await connect(server.url, 'token-bob');
    const carol = await connect(server.url, 'token-carol');
    const anon = await connect(server.url);
    const ask = await alice1.client.place({ sym: SYM2, side: 'sell', kind: 'limit', px: 3000, qty: 4, cid: 'two-conns' });
    await bob.client.place({ sym: SYM2, side: 'buy', kind: 'limit', px: 3000, qty: 1 });
    await alice2.client.amend(SYM2, 'two-conns', { qty: 3 });
    await alice2.client.cancel(SYM2, ask.id!);
    await barrier(alice1, alice2, bob, carol, anon);
    const summary = (r: Recorded): unknown[] => r.execs.map((e) => [e.id, e.status, e.filled, e.leaves, e.reason ?? null]);
    expect(summary(alice1)).toEqual([
      [ask.id, 'new', 0, 4, null],
      [ask.id, 'partial', 1, 3, null],
      [ask.id, 'partial', 1, 2, null],
      [ask.id, 'canceled', 1, 0, 'user'],
    ]);
    expect(alice1.execs[2]!.amended).toBe(true);
    expect(alice2.execs).toEqual(alice1.execs);
    expect(bob.execs.every((e) => e.side === 'buy')).toBe(true);
    expect(bob.execs).toHaveLength(2);
    expect(carol.execs).toEqual([]);
    expect(anon.execs).toEqual([]);
    // Replies go only to the connection that asked: alice2 never saw alice1's place ack.
    expect(alice2.messages.filter((m) => m.type === 'ack' && m.op === 'place')).toEqual([]);
    for (const r of [alice1, alice2, bob, carol, anon]) r.client.close();
  });
});

describe('cancelOnDisconnect', () => {
  it('cancels the account’s open orders when the flagged connection closes', async () => {
    const watcher = await connect(server.url);
    const book = await watcher.client.subscribeBook(SYM2, { depth: 10 });
    const flagged = await connect(server.url, 'token-alice', true);
    const other = await connect(server.url, 'token-alice-2');
    const bob = await connect(server.url, 'token-bob');
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(
        (
          await flagged.client.place({
            sym: i % 2 ? SYM : SYM2,
            side: i < 2 ? 'buy' : 'sell',
            kind: 'limit',
            px: 2000 + i * 100,
            qty: 1 + i,
          })
        ).id!,
      );
    }
    // An order placed from the other connection is the account's too: canceled as well.
    ids.push((await other.client.place({ sym: SYM2, side: 'buy', kind: 'limit', px: 1500, qty: 9 })).id!);
    const bobOrder = await bob.client.place({ sym: SYM2, side: 'buy', kind: 'limit', px: 1400, qty: 2 });
    await barrier(watcher);
    expect(book.bidCount + book.askCount).toBe(4); // SYM2: 2000, 2200, 1500 and bob's 1400
    const from = other.execs.length;
    flagged.client.close();
    await waitUntil(() => other.execs.length - from >= ids.length, 'disconnect cancels');
    await barrier(other, watcher, bob);
    const canceled = other.execs.slice(from);
    expect(canceled.map((e) => e.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(canceled.every((e) => e.status === 'canceled' && e.reason === 'disconnect' && e.leaves === 0)).toBe(true);
    expect((await other.client.orders()).orders).toEqual([]);
    // Only bob's bid is left in the book, and the subscriber's book agrees.
    expect(server.server.engine.levels(SYM, 'buy', 10)).toEqual([]);
    expect(server.server.engine.levels(SYM, 'sell', 10)).toEqual([]);
    expect(server.server.engine.levels(SYM2, 'buy', 10)).toEqual([[1400, 2]]);
    expect(book.bids()).toEqual([[1400, 2]]);
    expect(book.asks()).toEqual([]);
    expect(watcher.client.resyncs).toBe(0);
    expect((await bob.client.orders()).orders.map((o) => o.id)).toEqual([bobOrder.id]);
    expect(bob.execs.filter((e) => e.status === 'canceled')).toEqual([]);
    await bob.client.cancelAll();
    for (const r of [watcher, other, bob]) r.client.close();
  });

  it('a connection without the flag leaves the orders when it closes', async () => {
    const plain = await connect(server.url, 'token-carol');
    const order = await plain.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 42, qty: 1 });
    plain.client.close();
    const check = await connect(server.url, 'token-carol');
    // Wait until the server has seen the close: only `check` is left connected.
    await waitUntilAsync(
      async () => (JSON.parse((await httpGet(`${server.httpUrl}/health`)).body) as { connections: number }).connections === 1,
    );
    expect((await check.client.orders()).orders.map((o) => o.id)).toEqual([order.id]);
    await check.client.cancelAll();
    check.client.close();
  });
});

async function waitUntilAsync(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
