// Self-trade prevention (docs/PROTOCOL.md "Matching rules"): what happens when a taker reaches a resting
// order of its own account, for each of the four modes, in matching and in the fok/market dry runs.
import { describe, expect, it } from 'vitest';
import { execs, outline, place, trades } from '../support/engine-fixtures.js';
import { EngineHarness } from '../support/engine-harness.js';

/** bob 2@100, then alice's own 3@100, then carol 4@100 and carol 5@101: all asks. */
function bookWithOwnOrderInTheMiddle(): { h: EngineHarness; bob: number; own: number; carol: number; carol101: number } {
  const h = new EngineHarness();
  const bob = h.ok(place('bob', 'sell', 100, 2)).id!;
  const own = h.ok(place('alice', 'sell', 100, 3)).id!;
  const carol = h.ok(place('carol', 'sell', 100, 4)).id!;
  const carol101 = h.ok(place('carol', 'sell', 101, 5)).id!;
  return { h, bob, own, carol, carol101 };
}

describe('self-trade prevention', () => {
  it('none: the account trades with itself', () => {
    const { h, bob, own, carol } = bookWithOwnOrderInTheMiddle();
    const result = h.ok(place('alice', 'buy', 100, 9, { stp: 'none' }));
    expect(trades(result).map((t) => [t.makerOrderId, t.qty])).toEqual([
      [bob, 2],
      [own, 3],
      [carol, 4],
    ]);
    const selfTrade = trades(result)[1]!;
    expect([selfTrade.makerAccount, selfTrade.takerAccount]).toEqual(['alice', 'alice']);
    expect(h.asks()).toEqual([[101, 5]]);
  });

  it('cancel_taker: fills up to the own order, then cancels the rest of the taker; the maker stays', () => {
    const { h, bob, own } = bookWithOwnOrderInTheMiddle();
    const result = h.ok(place('alice', 'buy', 101, 9, { stp: 'cancel_taker' }));
    const t = result.id!;
    expect(outline(result.events)).toEqual([
      `exec:${t}:new`,
      `exec:${bob}:filled`,
      `exec:${t}:partial`,
      'trade:100x2',
      'level:sell:100=7',
      `exec:${t}:canceled:stp`,
    ]);
    expect(execs(result).at(-1)).toMatchObject({ filled: 2, leaves: 0, qty: 9 });
    // A gtc taker stopped by STP does not rest.
    expect(h.bids()).toEqual([]);
    expect(h.orders('alice').map((o) => o.id)).toEqual([own]);
    expect(h.asks()).toEqual([
      [100, 7],
      [101, 5],
    ]);
  });

  it('cancel_maker: cancels each own resting order it reaches and goes on matching', () => {
    const { h, bob, own, carol, carol101 } = bookWithOwnOrderInTheMiddle();
    const result = h.ok(place('alice', 'buy', 101, 8, { stp: 'cancel_maker' }));
    const t = result.id!;
    expect(outline(result.events)).toEqual([
      `exec:${t}:new`,
      `exec:${bob}:filled`,
      `exec:${t}:partial`,
      'trade:100x2',
      `exec:${own}:canceled:stp`,
      `exec:${carol}:filled`,
      `exec:${t}:partial`,
      'trade:100x4',
      'level:sell:100=0',
      `exec:${carol101}:partial`,
      `exec:${t}:filled`,
      'trade:101x2',
      'level:sell:101=3',
    ]);
    expect(execs(result).find((e) => e.id === own)).toMatchObject({ status: 'canceled', reason: 'stp', leaves: 0, filled: 0, qty: 3 });
    expect(h.orders('alice')).toEqual([]);
    expect(h.asks()).toEqual([[101, 3]]);
  });

  it('cancel_both: cancels the own maker and the rest of the taker', () => {
    const { h, bob, own, carol } = bookWithOwnOrderInTheMiddle();
    const result = h.ok(place('alice', 'buy', 101, 9, { stp: 'cancel_both' }));
    const t = result.id!;
    expect(outline(result.events)).toEqual([
      `exec:${t}:new`,
      `exec:${bob}:filled`,
      `exec:${t}:partial`,
      'trade:100x2',
      `exec:${own}:canceled:stp`,
      'level:sell:100=4',
      `exec:${t}:canceled:stp`,
    ]);
    expect(h.orders('alice')).toEqual([]);
    expect(h.orders('carol').map((o) => o.id)).toContain(carol);
    expect(h.asks()).toEqual([
      [100, 4],
      [101, 5],
    ]);
  });

  it('only applies to the same account', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'sell', 100, 3));
    const result = h.ok(place('alice', 'buy', 100, 3, { stp: 'cancel_both' }));
    expect(trades(result)).toHaveLength(1);
    expect(execs(result).at(-1)).toMatchObject({ status: 'filled' });
  });

  it('fok counts liquidity as matching would: cancel_maker skips own orders, the others stop at them', () => {
    for (const stp of ['cancel_taker', 'cancel_both'] as const) {
      const { h } = bookWithOwnOrderInTheMiddle();
      h.rejects(place('alice', 'buy', 101, 3, { tif: 'fok', stp }), 'fok_unfilled');
      expect(trades(h.ok(place('alice', 'buy', 101, 2, { tif: 'fok', stp })))).toHaveLength(1);
    }
    const { h } = bookWithOwnOrderInTheMiddle();
    // Others offer 2 + 4 + 5 = 11: enough without alice's own 3, not 12.
    h.rejects(place('alice', 'buy', 101, 12, { tif: 'fok', stp: 'cancel_maker' }), 'fok_unfilled');
    const result = h.ok(place('alice', 'buy', 101, 11, { tif: 'fok', stp: 'cancel_maker' }));
    expect(trades(result).reduce((sum, t) => sum + t.qty, 0)).toBe(11);
    // stp none counts the own order too.
    const { h: h2 } = bookWithOwnOrderInTheMiddle();
    expect(execs(h2.ok(place('alice', 'buy', 101, 14, { tif: 'fok', stp: 'none' }))).at(-1)).toMatchObject({ status: 'filled' });
  });

  it('a market order whose only liquidity is its own is rejected with no_liquidity unless stp is none', () => {
    for (const stp of ['cancel_taker', 'cancel_maker', 'cancel_both'] as const) {
      const h = new EngineHarness();
      h.ok(place('alice', 'sell', 100, 3));
      h.rejects(place('alice', 'buy', null, 1, { stp }), 'no_liquidity');
    }
    const h = new EngineHarness();
    h.ok(place('alice', 'sell', 100, 3));
    expect(trades(h.ok(place('alice', 'buy', null, 1, { stp: 'none' })))).toHaveLength(1);
  });

  it('a market order stopped by cancel_taker is canceled with reason stp', () => {
    const { h, bob } = bookWithOwnOrderInTheMiddle();
    const result = h.ok(place('alice', 'buy', null, 9, { stp: 'cancel_taker' }));
    expect(trades(result).map((t) => t.makerOrderId)).toEqual([bob]);
    expect(execs(result).at(-1)).toMatchObject({ id: result.id, status: 'canceled', reason: 'stp', filled: 2 });
  });
});
