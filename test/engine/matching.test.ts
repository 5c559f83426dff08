// docs/PROTOCOL.md "Matching rules", one rule at a time: price-time priority, maker-price fills,
// partial fills, gtc/ioc/fok, market orders, post-only, ids and the numeric limits. Self-trade
// prevention is in stp.test.ts, amend in amend.test.ts, cancel and cid rules in cancel.test.ts.
import { describe, expect, it } from 'vitest';
import { BTC, ETH, execs, levelEvents, outline, place, trades } from '../support/engine-fixtures.js';
import { EngineHarness } from '../support/engine-harness.js';

const MAX = Number.MAX_SAFE_INTEGER;

describe('price-time priority', () => {
  it('fills the best price first, then the oldest order at each price', () => {
    const h = new EngineHarness();
    const first101 = h.ok(place('bob', 'sell', 101, 5)).id;
    const second101 = h.ok(place('carol', 'sell', 101, 5)).id;
    const best100 = h.ok(place('bob', 'sell', 100, 5)).id;
    h.ok(place('carol', 'sell', 102, 5));

    const result = h.ok(place('alice', 'buy', 101, 12));

    expect(trades(result).map((t) => [t.makerOrderId, t.px, t.qty])).toEqual([
      [best100, 100, 5],
      [first101, 101, 5],
      [second101, 101, 2],
    ]);
    expect(h.asks()).toEqual([
      [101, 3],
      [102, 5],
    ]);
    expect(h.bids()).toEqual([]);
  });

  it('queues orders at one price in arrival order and the book aggregates them', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'buy', 99, 2));
    h.ok(place('carol', 'buy', 99, 3));
    h.ok(place('bob', 'buy', 98, 4));
    expect(h.bids()).toEqual([
      [99, 5],
      [98, 4],
    ]);
    const result = h.ok(place('alice', 'sell', 99, 4));
    expect(trades(result).map((t) => t.makerAccount)).toEqual(['bob', 'carol']);
    expect(h.bids()).toEqual([
      [99, 1],
      [98, 4],
    ]);
  });

  it('does not trade past the limit price', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 101, 5));
    h.ok(place('bob', 'sell', 103, 5));
    const result = h.ok(place('alice', 'buy', 102, 8));
    expect(trades(result).map((t) => t.px)).toEqual([101]);
    expect(h.bids()).toEqual([[102, 3]]);
    expect(h.asks()).toEqual([[103, 5]]);
  });
});

describe('fills', () => {
  it('trade at the maker price, reported to both sides with the same trade id', () => {
    const h = new EngineHarness();
    const maker = h.ok(place('bob', 'sell', 101, 5, { cid: 'ask-1' }));
    const taker = h.ok(place('alice', 'buy', 105, 5, { cid: 'bid-1', ts: 7_777 }));

    const [trade] = trades(taker);
    expect(trade).toEqual({
      kind: 'trade',
      sym: BTC,
      tradeId: 1,
      px: 101,
      qty: 5,
      takerSide: 'buy',
      makerOrderId: maker.id,
      takerOrderId: taker.id,
      makerAccount: 'bob',
      takerAccount: 'alice',
      baseAmount: 5,
      quoteAmount: 505,
      makerFee: 0,
      takerFee: 0,
      ts: 7_777,
    });
    const [newExec, makerExec, takerExec] = execs(taker);
    expect(newExec).toMatchObject({ id: taker.id, status: 'new', px: 105, qty: 5, leaves: 5, filled: 0 });
    expect(makerExec).toEqual({
      type: 'exec',
      sym: BTC,
      id: maker.id,
      cid: 'ask-1',
      side: 'sell',
      status: 'filled',
      px: 101,
      qty: 5,
      leaves: 0,
      filled: 5,
      fill: { tradeId: 1, px: 101, qty: 5, liquidity: 'maker', fee: 0, feeAsset: 'USD' },
      ts: 7_777,
    });
    // The exec's px is the order's own limit; the fill's px is where it traded.
    expect(takerExec).toEqual({
      type: 'exec',
      sym: BTC,
      id: taker.id,
      cid: 'bid-1',
      side: 'buy',
      status: 'filled',
      px: 105,
      qty: 5,
      leaves: 0,
      filled: 5,
      fill: { tradeId: 1, px: 101, qty: 5, liquidity: 'taker', fee: 0, feeAsset: 'BTC' },
      ts: 7_777,
    });
    expect(h.orders('bob')).toEqual([]);
    expect(h.orders('alice')).toEqual([]);
  });

  it('emits new, then maker/taker/trade per fill, a level per touched level, then the rested level', () => {
    const h = new EngineHarness();
    const a = h.ok(place('bob', 'sell', 100, 2)).id!;
    const b = h.ok(place('carol', 'sell', 101, 2)).id!;
    const result = h.ok(place('alice', 'buy', 101, 6));
    const t = result.id!;
    expect(outline(result.events)).toEqual([
      `exec:${t}:new`,
      `exec:${a}:filled`,
      `exec:${t}:partial`,
      'trade:100x2',
      'level:sell:100=0',
      `exec:${b}:filled`,
      `exec:${t}:partial`,
      'trade:101x2',
      'level:sell:101=0',
      'level:buy:101=2',
    ]);
  });

  it('partially fills a maker, which keeps resting with its priority', () => {
    const h = new EngineHarness();
    const maker = h.ok(place('bob', 'sell', 100, 10)).id;
    h.ok(place('carol', 'sell', 100, 10));
    const result = h.ok(place('alice', 'buy', 100, 4));
    expect(execs(result)[1]).toMatchObject({ id: maker, status: 'partial', qty: 10, filled: 4, leaves: 6 });
    expect(levelEvents(result)).toEqual([{ kind: 'level', sym: BTC, side: 'sell', px: 100, qty: 16 }]);
    expect(h.orders('bob')).toMatchObject([{ id: maker, qty: 10, filled: 4, leaves: 6, status: 'partial' }]);
    const next = h.ok(place('alice', 'buy', 100, 1));
    expect(trades(next)[0]!.makerOrderId).toBe(maker);
  });

  it('rests the unfilled part of a gtc taker as a partial order', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 100, 3));
    const taker = h.ok(place('alice', 'buy', 100, 10));
    expect(h.orders('alice')).toMatchObject([
      { id: taker.id, px: 100, qty: 10, filled: 3, leaves: 7, status: 'partial', tif: 'gtc', kind: 'limit' },
    ]);
    expect(h.bids()).toEqual([[100, 7]]);
    expect(h.asks()).toEqual([]);
  });
});

describe('time in force', () => {
  it('gtc without a match rests and reports its level', () => {
    const h = new EngineHarness();
    const result = h.ok(place('alice', 'buy', 99, 5, { ts: 42 }));
    expect(outline(result.events)).toEqual([`exec:${result.id}:new`, 'level:buy:99=5']);
    expect(h.orders('alice')).toMatchObject([{ id: result.id, status: 'new', leaves: 5, ts: 42 }]);
  });

  it('ioc fills what it can and cancels the rest with reason ioc', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 100, 3));
    const result = h.ok(place('alice', 'buy', 100, 5, { tif: 'ioc' }));
    expect(execs(result).at(-1)).toMatchObject({ id: result.id, status: 'canceled', reason: 'ioc', leaves: 0, filled: 3, qty: 5 });
    expect(h.bids()).toEqual([]);
    expect(h.orders('alice')).toEqual([]);
  });

  it('ioc with nothing to match is accepted and canceled at once', () => {
    const h = new EngineHarness();
    const result = h.ok(place('alice', 'buy', 100, 5, { tif: 'ioc' }));
    expect(outline(result.events)).toEqual([`exec:${result.id}:new`, `exec:${result.id}:canceled:ioc`]);
    expect(h.bids()).toEqual([]);
  });

  it('fok fills completely across levels', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 100, 3));
    h.ok(place('carol', 'sell', 101, 3));
    const result = h.ok(place('alice', 'buy', 101, 6, { tif: 'fok' }));
    expect(trades(result).map((t) => t.qty)).toEqual([3, 3]);
    expect(execs(result).at(-1)).toMatchObject({ id: result.id, status: 'filled', leaves: 0 });
    expect(h.asks()).toEqual([]);
  });

  it('fok that cannot fill completely is rejected and changes nothing', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 100, 3));
    h.ok(place('carol', 'sell', 102, 3));
    // 6 are offered in all, but only 3 within the limit.
    h.rejects(place('alice', 'buy', 101, 6, { tif: 'fok' }), 'fok_unfilled');
    h.rejects(place('alice', 'buy', 102, 7, { tif: 'fok' }), 'fok_unfilled');
    h.rejects(place('alice', 'buy', null, 7, { tif: 'fok' }), 'fok_unfilled');
    // The rejects used no id: the next accepted order gets the next one.
    expect(h.ok(place('alice', 'buy', 102, 6, { tif: 'fok' })).id).toBe(3);
  });
});

describe('market orders', () => {
  it('sweep levels at the makers’ prices and are canceled with reason market for the rest', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 100, 2));
    h.ok(place('bob', 'sell', 150, 2));
    const result = h.ok(place('alice', 'buy', null, 10));
    expect(trades(result).map((t) => [t.px, t.qty])).toEqual([
      [100, 2],
      [150, 2],
    ]);
    const last = execs(result).at(-1);
    expect(last).toMatchObject({ id: result.id, status: 'canceled', reason: 'market', px: null, qty: 10, filled: 4, leaves: 0 });
    expect(h.asks()).toEqual([]);
    expect(h.bids()).toEqual([]);
  });

  it('never rest, whatever their tif', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'buy', 100, 1));
    for (const tif of ['gtc', 'ioc'] as const) {
      h.ok(place('bob', 'buy', 100, 1));
      const result = h.ok(place('alice', 'sell', null, 3, { tif }));
      expect(execs(result).at(-1)).toMatchObject({ status: 'canceled', reason: 'market' });
    }
    expect(h.orders('alice')).toEqual([]);
  });

  it('are rejected with no_liquidity when nothing at all could fill', () => {
    const h = new EngineHarness();
    h.rejects(place('alice', 'buy', null, 1), 'no_liquidity');
    h.ok(place('bob', 'buy', 100, 5)); // same side: no help
    h.rejects(place('alice', 'buy', null, 1), 'no_liquidity');
    h.ok(place('bob', 'sell', 100, 5, { sym: ETH })); // other market: no help
    h.rejects(place('alice', 'buy', null, 1), 'no_liquidity');
  });
});

describe('post-only', () => {
  it('rests when it would not take', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 101, 5));
    const result = h.ok(place('alice', 'buy', 100, 5, { post: true }));
    expect(outline(result.events)).toEqual([`exec:${result.id}:new`, 'level:buy:100=5']);
    expect(h.orders('alice')).toMatchObject([{ post: true, px: 100 }]);
  });

  it('is rejected with post_would_take when it would take, even at an equal price', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 101, 5));
    h.ok(place('bob', 'buy', 99, 5));
    h.rejects(place('alice', 'buy', 101, 5, { post: true }), 'post_would_take');
    h.rejects(place('alice', 'buy', 120, 1, { post: true }), 'post_would_take');
    h.rejects(place('alice', 'sell', 99, 1, { post: true }), 'post_would_take');
    // Even against the account's own order: post-only never takes.
    h.rejects(place('bob', 'sell', 99, 1, { post: true, stp: 'cancel_maker' }), 'post_would_take');
  });
});

describe('ids', () => {
  it('order ids and trade ids start at 1 and rise by one per market', () => {
    const h = new EngineHarness();
    expect(h.ok(place('bob', 'sell', 100, 1)).id).toBe(1);
    expect(h.ok(place('bob', 'sell', 100, 1)).id).toBe(2);
    expect(h.ok(place('bob', 'sell', 100, 1, { sym: ETH })).id).toBe(1);
    const btc = h.ok(place('alice', 'buy', 100, 2));
    expect(btc.id).toBe(3);
    expect(trades(btc).map((t) => t.tradeId)).toEqual([1, 2]);
    const eth = h.ok(place('alice', 'buy', 100, 1, { sym: ETH }));
    expect(eth.id).toBe(2);
    expect(trades(eth).map((t) => t.tradeId)).toEqual([1]);
    h.ok(place('bob', 'sell', 100, 1));
    expect(trades(h.ok(place('alice', 'buy', null, 1))).map((t) => t.tradeId)).toEqual([3]);
  });

  it('rejects for an unknown market change nothing', () => {
    const h = new EngineHarness();
    h.rejects(place('alice', 'buy', 100, 1, { sym: 'NOPE-USD' }), 'unknown_market');
    expect(h.ok(place('alice', 'buy', 100, 1)).id).toBe(1);
  });
});

describe('limits', () => {
  it('too_many_orders caps an account’s resting orders across markets, only for orders that may rest', () => {
    const h = new EngineHarness({ maxOpenOrdersPerAccount: 2 });
    h.ok(place('alice', 'buy', 90, 1));
    const eth = h.ok(place('alice', 'buy', 90, 1, { sym: ETH }));
    h.rejects(place('alice', 'buy', 91, 1), 'too_many_orders');
    // The check does not look at whether the order would rest: a fully crossing gtc is refused too.
    h.ok(place('bob', 'sell', 95, 1));
    h.rejects(place('alice', 'buy', 95, 1), 'too_many_orders');
    // ioc, fok and market orders never rest, so they are not counted against the cap.
    h.ok(place('alice', 'buy', 95, 1, { tif: 'ioc' }));
    h.ok(place('bob', 'sell', 95, 1));
    h.ok(place('alice', 'buy', 95, 1, { tif: 'fok' }));
    h.ok(place('bob', 'sell', 95, 1));
    h.ok(place('alice', 'buy', null, 1));
    // Other accounts have their own cap; freeing a slot makes room again.
    h.ok(place('bob', 'buy', 80, 1));
    h.ok({ op: 'cancel', ts: 5, account: 'alice', sym: ETH, ref: { id: eth.id! } });
    h.ok(place('alice', 'buy', 91, 1));
  });

  it('bad_number when a level total would pass 2^53-1, at the boundary exactly', () => {
    // A level of 2^53-1 lots holds 2^53-1 units of one asset, the whole supply the ledger allows:
    // at px 1 a buy holds 1 USD unit per lot, so the level is full exactly when USD is.
    const h = new EngineHarness(undefined, 0);
    h.fund('bob', 'USD', MAX - 1);
    h.fund('carol', 'USD', 1);
    h.ok(place('bob', 'buy', 1, MAX - 1));
    h.rejects(place('carol', 'buy', 1, 2), 'bad_number');
    h.ok(place('carol', 'buy', 1, 1));
    expect(h.bids()).toEqual([[1, MAX]]);
    h.rejects(place('carol', 'buy', 1, 1), 'bad_number');
    h.rejects(place('carol', 'buy', 1, 1, { tif: 'ioc' }), 'bad_number');
    // A full level still trades exactly.
    h.fund('alice', 'BTC', MAX);
    const sweep = h.ok(place('alice', 'sell', null, MAX));
    expect(trades(sweep).map((t) => t.qty)).toEqual([MAX - 1, 1]);
    expect(h.bids()).toEqual([]);
    expect(h.engine.balances('alice')).toEqual([
      { asset: 'BTC', available: 0, hold: 0 },
      { asset: 'ETH', available: 0, hold: 0 },
      { asset: 'USD', available: MAX, hold: 0 },
    ]);
  });
});
