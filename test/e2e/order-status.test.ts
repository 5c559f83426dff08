// `order`: an order's state by id or cid over real WebSockets — open, and after it closed (filled
// or canceled, with its reason), within the retention; another account's order is unknown.
// `my_trades`: the account's recent fills with fees, newest first, paged with `before`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { connect, SYM, type Recorded } from '../support/e2e.js';

let server: TestServer;
let alice: Recorded;
let bob: Recorded;
beforeAll(async () => {
  server = await startTestServer({ closedOrderRetention: 3 });
  alice = await connect(server.url, 'token-alice');
  bob = await connect(server.url, 'token-bob');
});
afterAll(async () => {
  for (const c of [alice, bob]) c.client.close();
  await server.stop();
});

describe('order', () => {
  it('answers an open order, then the same order filled, by id and by cid', async () => {
    const ack = await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 20_000, qty: 4, cid: 'st-1' });
    expect((await alice.client.order(SYM, ack.id!)).order).toMatchObject({
      id: ack.id,
      cid: 'st-1',
      status: 'new',
      qty: 4,
      filled: 0,
      leaves: 4,
      px: 20_000,
    });
    await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 20_000, qty: 1, tif: 'ioc' });
    expect((await alice.client.order(SYM, 'st-1')).order).toMatchObject({ status: 'partial', filled: 1, leaves: 3 });
    await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 20_000, qty: 3, tif: 'ioc' });
    const filled = (await alice.client.order(SYM, 'st-1')).order;
    expect(filled).toMatchObject({ id: ack.id, status: 'filled', filled: 4, leaves: 0 });
    expect(filled.reason).toBeUndefined();
  });

  it('answers a canceled order with its reason; another account cannot see it', async () => {
    const ack = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 1_000, qty: 2, cid: 'st-2' });
    await alice.client.cancel(SYM, ack.id!);
    expect((await alice.client.order(SYM, { cid: 'st-2' })).order).toMatchObject({
      id: ack.id,
      status: 'canceled',
      reason: 'user',
      filled: 0,
      leaves: 0,
    });
    expect(await bob.client.request({ op: 'order', sym: SYM, id: ack.id })).toMatchObject({ type: 'reject', code: 'unknown_order' });
    expect(await alice.client.request({ op: 'order', sym: 'NOPE-USD', id: 1 })).toMatchObject({ type: 'reject', code: 'unknown_market' });
  });

  it('forgets closed orders past the retention, oldest first', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      const ack = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 900 + i, qty: 1 });
      await alice.client.cancel(SYM, ack.id!);
      ids.push(ack.id!);
    }
    expect(await alice.client.request({ op: 'order', sym: SYM, id: ids[0] })).toMatchObject({ type: 'reject', code: 'unknown_order' });
    for (const id of ids.slice(1)) expect((await alice.client.order(SYM, id)).order).toMatchObject({ id, status: 'canceled' });
  });
});

describe('my_trades', () => {
  it('lists the account fills with fees, newest first, by market, paged with before; within the retention', async () => {
    const carol = await connect(server.url, 'token-carol');
    const buyer = await connect(server.url, 'token-bob');
    try {
      for (let i = 0; i < 5; i++) {
        await carol.client.place({ sym: 'ETH-USD', side: 'sell', kind: 'limit', px: 300_000 + i, qty: 10 + i, cid: `mt-${i}` });
        await buyer.client.place({ sym: 'ETH-USD', side: 'buy', kind: 'limit', px: 300_000 + i, qty: 10 + i, tif: 'ioc' });
      }
      const first = await carol.client.myTrades({ sym: 'ETH-USD', limit: 2 });
      // The retention (3, as for closed orders in this server) keeps the newest three.
      expect(first.trades.map((t) => [t.qty, t.liquidity, t.side, t.cid])).toEqual([
        [14, 'maker', 'sell', 'mt-4'],
        [13, 'maker', 'sell', 'mt-3'],
      ]);
      expect(first.more).toBe(true);
      expect(first.trades[0]).toMatchObject({ sym: 'ETH-USD', px: 300_004, feeAsset: 'USD' });
      expect(first.trades[0]!.fee).toBeGreaterThan(0);
      const second = await carol.client.myTrades({ sym: 'ETH-USD', limit: 2, before: first.trades[1]!.n! });
      expect(second.trades.map((t) => t.qty)).toEqual([12]);
      expect(second.more).toBe(false);
      expect((await carol.client.myTrades({ sym: SYM })).trades).toEqual([]);
      const taker = await buyer.client.myTrades({ limit: 1 });
      expect(taker.trades[0]).toMatchObject({ liquidity: 'taker', side: 'buy', qty: 14, feeAsset: 'ETH' });
      expect(await carol.client.request({ op: 'my_trades', limit: 1001 })).toMatchObject({ type: 'reject', code: 'bad_request' });
    } finally {
      carol.client.close();
      buyer.client.close();
    }
  });
});
