// amend (docs/PROTOCOL.md "Matching rules"): qty is the new total; lowering keeps time priority, raising
// or a new px goes to the back of the (new) level, a crossing px matches (or is refused for
// post-only), and a qty at or below the filled part cancels with reason amend.
import { describe, expect, it } from 'vitest';
import { amend, execs, outline, place, trades } from '../support/engine-fixtures.js';
import { EngineHarness } from '../support/engine-harness.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** Who gets filled first when alice sells into the bids at 100. */
function firstMakerAt100(h: EngineHarness): number {
  return trades(h.ok(place('alice', 'sell', 100, 1, { tif: 'ioc' })))[0]!.makerOrderId;
}

describe('amend', () => {
  it('lowering qty keeps time priority and reports the amended order', () => {
    const h = new EngineHarness();
    const first = h.ok(place('bob', 'buy', 100, 5)).id!;
    h.ok(place('carol', 'buy', 100, 5));
    const result = h.ok(amend('bob', { id: first }, { qty: 3 }));
    expect(result).toMatchObject({ ok: true, id: first, cid: null });
    expect(outline(result.events)).toEqual(['level:buy:100=8', `exec:${first}:new`]);
    expect(execs(result)[0]).toMatchObject({ qty: 3, leaves: 3, filled: 0, px: 100, amended: true });
    expect(firstMakerAt100(h)).toBe(first);
  });

  it('raising qty loses time priority', () => {
    const h = new EngineHarness();
    const first = h.ok(place('bob', 'buy', 100, 5)).id!;
    const second = h.ok(place('carol', 'buy', 100, 5)).id!;
    const result = h.ok(amend('bob', { id: first }, { qty: 6 }));
    expect(outline(result.events)).toEqual(['level:buy:100=11', `exec:${first}:new`]);
    expect(firstMakerAt100(h)).toBe(second);
  });

  it('qty is the total including what has traded: a partial order reports partial', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 10)).id!;
    h.ok(place('alice', 'sell', 100, 4));
    const result = h.ok(amend('bob', { id }, { qty: 6 }));
    expect(execs(result)[0]).toMatchObject({ status: 'partial', qty: 6, filled: 4, leaves: 2, amended: true });
    expect(h.bids()).toEqual([[100, 2]]);
    expect(h.orders('bob')).toMatchObject([{ qty: 6, filled: 4, leaves: 2, status: 'partial' }]);
  });

  it('a qty at or below the filled part cancels the order with reason amend', () => {
    for (const qty of [4, 1]) {
      const h = new EngineHarness();
      const id = h.ok(place('bob', 'buy', 100, 10)).id!;
      h.ok(place('alice', 'sell', 100, 4));
      const result = h.ok(amend('bob', { id }, { qty, px: 95 }));
      expect(outline(result.events)).toEqual(['level:buy:100=0', `exec:${id}:canceled:amend`]);
      expect(execs(result)[0]).toMatchObject({ leaves: 0, filled: 4 });
      expect(h.orders('bob')).toEqual([]);
      expect(h.bids()).toEqual([]);
    }
  });

  it('a new px moves the order to the back of its new level', () => {
    const h = new EngineHarness();
    const moved = h.ok(place('bob', 'buy', 99, 5)).id!;
    const waiting = h.ok(place('carol', 'buy', 100, 5)).id!;
    const result = h.ok(amend('bob', { id: moved }, { px: 100 }));
    expect(outline(result.events)).toEqual(['level:buy:99=0', `exec:${moved}:new`, 'level:buy:100=10']);
    expect(execs(result)[0]).toMatchObject({ px: 100, qty: 5, amended: true });
    expect(h.bids()).toEqual([[100, 10]]);
    expect(firstMakerAt100(h)).toBe(waiting);
  });

  it('a new px that crosses matches like a new order, at the makers’ prices, and rests the rest', () => {
    const h = new EngineHarness();
    const ask = h.ok(place('alice', 'sell', 101, 3)).id!;
    const bid = h.ok(place('bob', 'buy', 99, 5)).id!;
    const result = h.ok(amend('bob', { id: bid }, { px: 102 }));
    expect(outline(result.events)).toEqual([
      'level:buy:99=0',
      `exec:${bid}:new`,
      `exec:${ask}:filled`,
      `exec:${bid}:partial`,
      'trade:101x3',
      'level:sell:101=0',
      'level:buy:102=2',
    ]);
    expect(trades(result)[0]).toMatchObject({ takerOrderId: bid, makerOrderId: ask, px: 101, takerSide: 'buy' });
    expect(h.orders('bob')).toMatchObject([{ id: bid, px: 102, qty: 5, filled: 3, leaves: 2 }]);
  });

  it('a crossing amend applies the order’s own stp mode', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 101, 3));
    const bid = h.ok(place('bob', 'buy', 99, 5, { stp: 'cancel_taker' })).id!;
    const result = h.ok(amend('bob', { id: bid }, { px: 101 }));
    expect(execs(result).at(-1)).toMatchObject({ id: bid, status: 'canceled', reason: 'stp' });
    expect(trades(result)).toEqual([]);
    expect(h.bids()).toEqual([]);
    expect(h.asks()).toEqual([[101, 3]]);
  });

  it('a post-only order whose new px would cross is rejected and stays as it was', () => {
    const h = new EngineHarness();
    h.ok(place('alice', 'sell', 101, 3));
    const bid = h.ok(place('bob', 'buy', 99, 5, { post: true })).id!;
    h.rejects(amend('bob', { id: bid }, { px: 101 }), 'post_would_take');
    h.rejects(amend('bob', { id: bid }, { px: 105, qty: 1 }), 'post_would_take');
    // Moving without crossing is fine.
    h.ok(amend('bob', { id: bid }, { px: 100 }));
    expect(h.bids()).toEqual([[100, 5]]);
  });

  it('the same qty and px is accepted with nothing to report', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5)).id!;
    const result = h.ok(amend('bob', { id }, { qty: 5, px: 100 }));
    expect(result.events).toEqual([]);
  });

  it('finds the order by cid and answers with its id', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5, { cid: 'b-1' })).id!;
    const result = h.ok(amend('bob', { cid: 'b-1' }, { qty: 2 }));
    expect(result).toMatchObject({ id, cid: 'b-1' });
    expect(h.bids()).toEqual([[100, 2]]);
  });

  it('another account’s order, by id or cid, is an unknown order', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5, { cid: 'b-1' })).id!;
    h.rejects(amend('alice', { id }, { qty: 2 }), 'unknown_order');
    h.rejects(amend('alice', { cid: 'b-1' }, { qty: 2 }), 'unknown_order');
    h.rejects(amend('bob', { id: id + 1 }, { qty: 2 }), 'unknown_order');
    h.rejects(amend('bob', { id }, { qty: 2 }, 'ETH-USD'), 'unknown_order');
    h.rejects(amend('bob', { id }, { qty: 2 }, 'NOPE-USD'), 'unknown_market');
  });

  it('an order that has left the book can no longer be amended', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5)).id!;
    h.ok(place('alice', 'sell', 100, 5));
    h.rejects(amend('bob', { id }, { qty: 9 }), 'unknown_order');
  });

  it('bad_number when the amended level would pass 2^53-1', () => {
    // At px 1 a lot holds 1 USD unit, so a full level is all the USD the ledger allows.
    const h = new EngineHarness(undefined, 0);
    h.fund('carol', 'USD', MAX - 10);
    h.fund('bob', 'USD', 10);
    h.ok(place('carol', 'buy', 1, MAX - 10));
    const id = h.ok(place('bob', 'buy', 1, 5)).id!;
    h.rejects(amend('bob', { id }, { qty: 11 }), 'bad_number');
    h.ok(amend('bob', { id }, { qty: 10 }));
    expect(h.bids()).toEqual([[1, MAX]]);
  });

  it('keeps the account’s orders in acceptance order after a px change', () => {
    const h = new EngineHarness();
    const first = h.ok(place('bob', 'buy', 90, 1)).id!;
    const second = h.ok(place('bob', 'buy', 91, 1)).id!;
    h.ok(amend('bob', { id: first }, { px: 92 }));
    expect(h.orders('bob').map((o) => o.id)).toEqual([first, second]);
    const all = h.ok({ op: 'cancel_all', ts: 1, account: 'bob', sym: null, reason: 'user' });
    expect(execs(all).map((e) => e.id)).toEqual([first, second]);
  });
});
