// End to end over real WebSockets: trading between two accounts — acks, exec sequences, trades,
// the `orders` view, tif/kind/post rejects, amend, cancel and cancel_all.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Exec, OrderView } from '../../protocol/messages.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { barrier, connect, SYM, type Recorded } from '../support/e2e.js';

let server: TestServer;
let alice: Recorded;
let bob: Recorded;
let watcher: Recorded;

beforeAll(async () => {
  server = await startTestServer();
  alice = await connect(server.url, 'token-alice');
  bob = await connect(server.url, 'token-bob');
  watcher = await connect(server.url);
  await watcher.client.subscribeTrades(SYM, () => undefined);
});

afterEach(async () => {
  await alice.client.cancelAll();
  await bob.client.cancelAll();
  await barrier(alice, bob, watcher);
  expect(server.server.engine.levels(SYM, 'buy', 100)).toEqual([]);
  expect(server.server.engine.levels(SYM, 'sell', 100)).toEqual([]);
});

afterAll(async () => {
  for (const c of [alice, bob, watcher]) c.client.close();
  await server.stop();
});

/** Execs of `who` for order `id` received since index `from`. */
function execsOf(who: Recorded, id: number, from = 0): Exec[] {
  return who.execs.slice(from).filter((e) => e.id === id && e.sym === SYM);
}

function bookState(): unknown {
  const engine = server.server.engine;
  return {
    bids: engine.levels(SYM, 'buy', 100),
    asks: engine.levels(SYM, 'sell', 100),
    alice: engine.openOrders('alice', null),
    bob: engine.openOrders('bob', null),
  };
}

describe('a resting sell crossed by a buy', () => {
  it('acks, reports execs to both sides, publishes the trade and updates orders', async () => {
    const socket = await RawSocket.open(server.url);
    await socket.request({ op: 'login', token: 'token-alice' }, 'l');
    const aliceFrom = alice.execs.length;
    const sellAck = await socket.request(
      { op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 10_100, qty: 10, cid: 'ask-1' },
      'sell-rid',
    );
    expect(sellAck).toMatchObject({ type: 'ack', rid: 'sell-rid', op: 'place', cid: 'ask-1' });
    expect(Number.isInteger(sellAck.id)).toBe(true);
    expect(Number.isInteger(sellAck.ts)).toBe(true);
    const sellId = sellAck.id as number;
    await socket.close();

    // A second, better ask: bob's buy must take 10_050 first (price priority), then 10_100.
    const better = await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_050, qty: 3 });
    expect(better.cid).toBeNull();
    expect(better.id).toBeGreaterThan(sellId);

    const tradesFrom = watcher.trades.length;
    const bobFrom = bob.execs.length;
    const buyAck = await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_200, qty: 7, cid: 'bid-1' });
    expect(buyAck).toMatchObject({ type: 'ack', op: 'place', cid: 'bid-1' });
    expect(typeof buyAck.rid).toBe('number');
    const buyId = buyAck.id!;
    await barrier(alice, bob, watcher);

    // Taker: new, then one fill per maker at the maker's price; the limit px stays the order's.
    const taker = execsOf(bob, buyId, bobFrom);
    expect(taker.map((e) => [e.status, e.px, e.qty, e.filled, e.leaves, e.side, e.cid])).toEqual([
      ['new', 10_200, 7, 0, 7, 'buy', 'bid-1'],
      ['partial', 10_200, 7, 3, 4, 'buy', 'bid-1'],
      ['filled', 10_200, 7, 7, 0, 'buy', 'bid-1'],
    ]);
    expect(taker[0]!.fill).toBeUndefined();
    const [, f1, f2] = taker.map((e) => e.fill!);
    // Demo fees: taker 0.2% of the BTC it gets, rounded up per order: ceil(3 · 0.002) = 1 on the
    // first fill, ceil(7 · 0.002) − 1 = 0 on the second.
    expect(f1).toMatchObject({ px: 10_050, qty: 3, liquidity: 'taker', fee: 1, feeAsset: 'BTC' });
    expect(f2).toMatchObject({ px: 10_100, qty: 4, liquidity: 'taker', fee: 0, feeAsset: 'BTC' });
    expect(f2!.tradeId).toBe(f1!.tradeId + 1);

    // Makers: alice sees her new execs, then the fills as maker with the same trade ids.
    const makerBetter = execsOf(alice, better.id!, aliceFrom);
    expect(makerBetter.map((e) => [e.status, e.px, e.qty, e.filled, e.leaves, e.side])).toEqual([
      ['new', 10_050, 3, 0, 3, 'sell'],
      ['filled', 10_050, 3, 3, 0, 'sell'],
    ]);
    // Maker 0.1% of the USD notional (1 unit per tick·lot): ceil(30,150 · 0.001) = 31.
    expect(makerBetter[1]!.fill).toEqual({ tradeId: f1!.tradeId, px: 10_050, qty: 3, liquidity: 'maker', fee: 31, feeAsset: 'USD' });
    const makerFirst = execsOf(alice, sellId, aliceFrom);
    expect(makerFirst.map((e) => [e.status, e.px, e.qty, e.filled, e.leaves, e.cid])).toEqual([
      ['new', 10_100, 10, 0, 10, 'ask-1'],
      ['partial', 10_100, 10, 4, 6, 'ask-1'],
    ]);
    expect(makerFirst[1]!.fill).toEqual({ tradeId: f2!.tradeId, px: 10_100, qty: 4, liquidity: 'maker', fee: 41, feeAsset: 'USD' });
    for (const e of [...taker, ...makerBetter, ...makerFirst]) expect(Number.isInteger(e.ts)).toBe(true);

    // The trades channel: one trade per fill, taker side, same ids, prices and quantities.
    const trades = watcher.trades.slice(tradesFrom);
    expect(trades.map((t) => [t.sym, t.tradeId, t.px, t.qty, t.side])).toEqual([
      [SYM, f1!.tradeId, 10_050, 3, 'buy'],
      [SYM, f2!.tradeId, 10_100, 4, 'buy'],
    ]);

    // Orders: alice's sell rests partially; bob has nothing open.
    const aliceOrders = await alice.client.orders(SYM);
    expect(aliceOrders.orders).toHaveLength(1);
    expect(aliceOrders.orders[0]).toMatchObject({
      sym: SYM,
      id: sellId,
      cid: 'ask-1',
      side: 'sell',
      kind: 'limit',
      tif: 'gtc',
      post: false,
      px: 10_100,
      qty: 10,
      filled: 4,
      leaves: 6,
      status: 'partial',
    } satisfies Partial<OrderView>);
    expect(aliceOrders.orders[0]!.ts).toBe(sellAck.ts);
    expect((await bob.client.orders()).orders).toEqual([]);
    expect(server.server.engine.levels(SYM, 'sell', 10)).toEqual([[10_100, 6]]);

    // A market sell from bob hits nothing on the bid side: no_liquidity, and nothing changed.
    const before = bookState();
    await expect(bob.client.place({ sym: SYM, side: 'sell', kind: 'market', qty: 1 })).rejects.toMatchObject({ code: 'no_liquidity' });
    expect(bookState()).toEqual(before);
  });

  it('a market buy sweeps levels and cancels the rest with reason market; px is null', async () => {
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 200, qty: 2 });
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 201, qty: 3 });
    const from = bob.execs.length;
    const ack = await bob.client.place({ sym: SYM, side: 'buy', kind: 'market', qty: 10 });
    await barrier(bob);
    const execs = execsOf(bob, ack.id!, from);
    expect(execs.map((e) => [e.status, e.px, e.filled, e.leaves, e.fill?.px ?? null, e.reason ?? null])).toEqual([
      ['new', null, 0, 10, null, null],
      ['partial', null, 2, 8, 200, null],
      ['partial', null, 5, 5, 201, null],
      ['canceled', null, 5, 0, null, 'market'],
    ]);
  });
});

describe('tif, kind and post over the wire', () => {
  it('ioc fills what it can and cancels the rest with reason ioc', async () => {
    const maker = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 300, qty: 2 });
    const from = bob.execs.length;
    const ack = await bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 299, qty: 5, tif: 'ioc' });
    await barrier(bob, alice);
    expect(execsOf(bob, ack.id!, from).map((e) => [e.status, e.filled, e.leaves, e.reason ?? null])).toEqual([
      ['new', 0, 5, null],
      ['partial', 2, 3, null],
      ['canceled', 2, 0, 'ioc'],
    ]);
    expect(execsOf(alice, maker.id!).at(-1)).toMatchObject({ status: 'filled', leaves: 0 });
    expect(server.server.engine.levels(SYM, 'sell', 10)).toEqual([]);
  });

  it('rejects fok, market, post and malformed orders without changing state', async () => {
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 400, qty: 5, cid: 'fok-maker' });
    await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 390, qty: 5 });
    const before = bookState();
    const bobFrom = bob.execs.length;
    const aliceFrom = alice.execs.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ side: 'buy', kind: 'limit', px: 400, qty: 6, tif: 'fok' }, 'fok_unfilled'],
      [{ side: 'buy', kind: 'market', qty: 6, tif: 'fok' }, 'fok_unfilled'],
      [{ side: 'buy', kind: 'limit', px: 400, qty: 1, post: true }, 'post_would_take'],
      [{ side: 'sell', kind: 'limit', px: 390, qty: 1, post: true }, 'post_would_take'],
      [{ side: 'buy', kind: 'limit', px: 401, qty: 1, post: true, tif: 'ioc' }, 'bad_request'],
      [{ side: 'buy', kind: 'market', px: 400, qty: 1 }, 'bad_request'],
      [{ side: 'buy', kind: 'limit', qty: 1 }, 'bad_request'],
      [{ side: 'buy', kind: 'limit', px: 400.5, qty: 1 }, 'bad_number'],
      [{ side: 'buy', kind: 'limit', px: 400, qty: 0 }, 'bad_number'],
      [{ side: 'buy', kind: 'limit', px: 400, qty: -3 }, 'bad_number'],
      [{ side: 'buy', kind: 'limit', px: 400, qty: 1, cid: 'x'.repeat(37) }, 'bad_request'],
    ];
    for (const [fields, code] of cases) {
      const reply = await bob.client.request({ op: 'place', sym: SYM, ...fields });
      expect(reply, JSON.stringify(fields)).toMatchObject({ type: 'reject', op: 'place', code });
    }
    // alice's cid is still in use by her open order.
    await expect(alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 500, qty: 1, cid: 'fok-maker' })).rejects.toMatchObject({
      code: 'duplicate_cid',
    });
    await barrier(alice, bob);
    expect(bob.execs.length).toBe(bobFrom);
    expect(alice.execs.length).toBe(aliceFrom);
    expect(bookState()).toEqual(before);
    // A fok that can fill does, completely.
    const fok = await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 400, qty: 5, tif: 'fok' });
    await barrier(bob);
    expect(execsOf(bob, fok.id!).at(-1)).toMatchObject({ status: 'filled', filled: 5, leaves: 0 });
  });
});

describe('amend, cancel and cancel_all', () => {
  it('amend acks and reports new qty/px; lowering keeps priority, repricing loses it', async () => {
    const a1 = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 700, qty: 10, cid: 'am-1' });
    const a2 = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 700, qty: 4, cid: 'am-2' });
    const from = alice.execs.length;
    const ack = await alice.client.amend(SYM, 'am-1', { qty: 6 });
    expect(ack).toMatchObject({ type: 'ack', op: 'amend', id: a1.id, cid: 'am-1' });
    await barrier(alice);
    expect(execsOf(alice, a1.id!, from)).toEqual([
      expect.objectContaining({ status: 'new', px: 700, qty: 6, filled: 0, leaves: 6, amended: true }),
    ]);
    expect(server.server.engine.levels(SYM, 'buy', 10)).toEqual([[700, 10]]);
    // An amend that changes nothing is acked with no exec.
    const noop = await alice.client.amend(SYM, a1.id!, { qty: 6, px: 700 });
    expect(noop).toMatchObject({ type: 'ack', op: 'amend', id: a1.id });
    await barrier(alice);
    expect(execsOf(alice, a1.id!, from)).toHaveLength(1);
    // A sell of 6 at 700 takes am-1 first (kept its priority).
    const sell = await bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 700, qty: 6 });
    await barrier(alice, bob);
    expect(execsOf(alice, a1.id!, from).at(-1)).toMatchObject({ status: 'filled', filled: 6 });
    expect(execsOf(alice, a2.id!, from)).toEqual([]);
    expect(execsOf(bob, sell.id!).at(-1)).toMatchObject({ status: 'filled' });
    // Repricing a2 upward so that it crosses a resting ask matches like a new order.
    await bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 710, qty: 1 });
    const aliceFrom = alice.execs.length;
    await alice.client.amend(SYM, { cid: 'am-2' }, { px: 720 });
    await barrier(alice);
    const after = execsOf(alice, a2.id!, aliceFrom);
    expect(
      after.map((e) => [e.status, e.px, e.qty, e.filled, e.leaves, e.amended ?? false, e.fill?.px ?? null, e.fill?.liquidity ?? null]),
    ).toEqual([
      ['new', 720, 4, 0, 4, true, null, null],
      ['partial', 720, 4, 1, 3, false, 710, 'taker'],
    ]);
    expect(server.server.engine.levels(SYM, 'buy', 10)).toEqual([[720, 3]]);
    // Amending qty to at or below filled cancels with reason amend.
    const amendFrom = alice.execs.length;
    await alice.client.amend(SYM, a2.id!, { qty: 1 });
    await barrier(alice);
    expect(execsOf(alice, a2.id!, amendFrom)).toEqual([
      expect.objectContaining({ status: 'canceled', reason: 'amend', filled: 1, leaves: 0 }),
    ]);
  });

  it('cancel acks and reports canceled/user; cancel_all reports its count', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 800 + i, qty: 1 + i, cid: `c-${i}` })).id!);
    await alice.client.place({ sym: 'ETH-USD', side: 'sell', kind: 'limit', px: 800, qty: 1 });
    const from = alice.execs.length;
    const byId = await alice.client.cancel(SYM, ids[0]!);
    expect(byId).toMatchObject({ type: 'ack', op: 'cancel', id: ids[0], cid: 'c-0' });
    const byCid = await alice.client.cancel(SYM, 'c-1');
    expect(byCid).toMatchObject({ type: 'ack', op: 'cancel', id: ids[1], cid: 'c-1' });
    await barrier(alice);
    expect(alice.execs.slice(from).map((e) => [e.id, e.status, e.reason, e.qty, e.filled, e.leaves])).toEqual([
      [ids[0], 'canceled', 'user', 1, 0, 0],
      [ids[1], 'canceled', 'user', 2, 0, 0],
    ]);
    await expect(alice.client.cancel(SYM, ids[0]!)).rejects.toMatchObject({ code: 'unknown_order' });
    // The cid of a canceled order may be reused.
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 850, qty: 1, cid: 'c-0' });
    const allFrom = alice.execs.length;
    const all = await alice.client.cancelAll(SYM);
    expect(all).toMatchObject({ type: 'ack', op: 'cancel_all', canceled: 4 });
    await barrier(alice);
    const canceled = alice.execs.slice(allFrom);
    expect(canceled).toHaveLength(4);
    expect(canceled.every((e) => e.status === 'canceled' && e.reason === 'user' && e.sym === SYM)).toBe(true);
    expect((await alice.client.orders()).orders.map((o) => o.sym)).toEqual(['ETH-USD']);
    expect(await alice.client.cancelAll()).toMatchObject({ canceled: 1 });
    expect(await alice.client.cancelAll()).toMatchObject({ canceled: 0 });
  });
});
