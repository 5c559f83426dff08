// Icebergs (docs/PROTOCOL.md "Iceberg orders"): a gtc limit order with `display` shows only
// min(display, leaves) in its level (level totals, deltas, depth and checksums); when that slice
// is filled up and leaves remain, a new slice goes to the back of the same level, losing time
// priority, where the same taker may reach it again. The hold covers the whole order.
import { describe, expect, it } from 'vitest';
import { amend, execs, outline, place, trades } from '../support/engine-fixtures.js';
import { EngineHarness } from '../support/engine-harness.js';

function iceberg(account: string, side: 'buy' | 'sell', px: number, qty: number, display: number, options = {}) {
  return place(account, side, px, qty, { display, ...options });
}

function balance(h: EngineHarness, account: string, asset: string): { available: number; hold: number } {
  const { available, hold } = h.engine.balances(account).find((b) => b.asset === asset)!;
  return { available, hold };
}

function funded(): EngineHarness {
  return new EngineHarness(undefined, 1_000_000);
}

describe('an iceberg', () => {
  it('shows only its slice in the level, holds its whole qty, and lists its display', () => {
    const h = funded();
    const placed = h.ok(iceberg('bob', 'sell', 100, 10, 3));
    expect(outline(placed.events)).toEqual([`exec:${placed.id}:new`, 'level:sell:100=3']);
    expect(execs(placed)[0]).toMatchObject({ qty: 10, leaves: 10 });
    expect(h.asks()).toEqual([[100, 3]]);
    expect(balance(h, 'bob', 'BTC')).toEqual({ available: 1_000_000 - 10, hold: 10 });
    expect(h.orders('bob')).toEqual([expect.objectContaining({ kind: 'limit', tif: 'gtc', qty: 10, leaves: 10, display: 3 })]);
    h.ok(place('carol', 'sell', 100, 2));
    expect(h.asks()).toEqual([[100, 5]]);
  });

  it('a filled slice is renewed at the back of its level: it loses time priority', () => {
    const h = funded();
    const ice = h.ok(iceberg('bob', 'sell', 100, 10, 3)).id!;
    const plain = h.ok(place('carol', 'sell', 100, 2)).id!;
    const taker = h.ok(place('alice', 'buy', 100, 4));
    expect(outline(taker.events)).toEqual([
      `exec:${taker.id}:new`,
      `exec:${ice}:partial`,
      `exec:${taker.id}:partial`,
      'trade:100x3',
      `exec:${plain}:partial`,
      `exec:${taker.id}:filled`,
      'trade:100x1',
      'level:sell:100=4',
    ]);
    // carol's 1 is now ahead of the iceberg's new slice of 3.
    const next = h.ok(place('alice', 'buy', 100, 2));
    expect(trades(next).map((t) => [t.makerOrderId, t.qty])).toEqual([
      [plain, 1],
      [ice, 1],
    ]);
    expect(h.asks()).toEqual([[100, 2]]);
  });

  it('one taker reaches a renewed slice again (as on Binance): slice after slice, the last one smaller', () => {
    const h = funded();
    const ice = h.ok(iceberg('bob', 'sell', 100, 10, 4)).id!;
    const taker = h.ok(place('alice', 'buy', 101, 9));
    expect(trades(taker).map((t) => [t.makerOrderId, t.px, t.qty])).toEqual([
      [ice, 100, 4],
      [ice, 100, 4],
      [ice, 100, 1],
    ]);
    expect(h.asks()).toEqual([[100, 1]]);
    expect(h.orders('bob')).toMatchObject([{ filled: 9, leaves: 1 }]);
    expect(balance(h, 'bob', 'BTC')).toEqual({ available: 1_000_000 - 10, hold: 1 });
  });

  it('as a taker it matches with all its qty, then rests showing a slice', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 100, 5));
    const taker = h.ok(iceberg('alice', 'buy', 100, 12, 2));
    expect(trades(taker).map((t) => t.qty)).toEqual([5]);
    expect(h.bids()).toEqual([[100, 2]]);
    expect(h.orders('alice')).toMatchObject([{ filled: 5, leaves: 7, display: 2 }]);
    expect(balance(h, 'alice', 'USD').hold).toBe(7 * 100);
  });

  it('may be post-only', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 101, 5));
    h.rejects(iceberg('alice', 'buy', 101, 10, 2, { post: true }), 'post_would_take');
    h.ok(iceberg('alice', 'buy', 100, 10, 2, { post: true }));
    expect(h.bids()).toEqual([[100, 2]]);
  });
});

describe('what a taker can reach in an iceberg', () => {
  it('fok and a market buy count the hidden part: the slices come one after another', () => {
    const h = funded();
    h.ok(iceberg('bob', 'sell', 100, 10, 3));
    h.ok(place('bob', 'sell', 101, 5));
    h.rejects(place('alice', 'buy', 101, 16, { tif: 'fok' }), 'fok_unfilled');
    const fok = h.ok(place('alice', 'buy', 100, 10, { tif: 'fok' }));
    expect(trades(fok).map((t) => t.qty)).toEqual([3, 3, 3, 1]);
    h.ok(iceberg('bob', 'sell', 100, 10, 3));
    // A market buy holds exactly what it pays: 10 at 100 and 2 at 101.
    const before = balance(h, 'alice', 'USD').available;
    h.ok(place('alice', 'buy', null, 12));
    expect(balance(h, 'alice', 'USD')).toEqual({ available: before - 10 * 100 - 2 * 101, hold: 0 });
  });

  it('a taker stopped by its own order (cancel_taker) reaches only the slices shown before it', () => {
    const h = funded();
    h.ok(iceberg('bob', 'sell', 100, 10, 3));
    h.ok(place('alice', 'sell', 100, 1)); // alice's own, behind bob's slice
    // alice's buy can take bob's slice of 3, then meets her own order: bob's new slice is behind it.
    h.rejects(place('alice', 'buy', 100, 4, { tif: 'fok', stp: 'cancel_taker' }), 'fok_unfilled');
    const ioc = h.ok(place('alice', 'buy', 100, 4, { tif: 'ioc', stp: 'cancel_taker' }));
    expect(trades(ioc).map((t) => t.qty)).toEqual([3]);
    expect(outline(ioc.events).at(-1)).toBe(`exec:${ioc.id}:canceled:stp`);
    // cancel_maker skips (cancels) the own order and goes on through every slice.
    const all = h.ok(place('alice', 'buy', 100, 7, { tif: 'fok', stp: 'cancel_maker' }));
    expect(trades(all).map((t) => t.qty)).toEqual([3, 3, 1]);
  });

  it('self-trade prevention cancels an own iceberg whole, hidden part included', () => {
    const h = funded();
    const ice = h.ok(iceberg('bob', 'sell', 100, 10, 3)).id!;
    const result = h.ok(place('bob', 'buy', 100, 1, { stp: 'cancel_maker' }));
    expect(outline(result.events)).toContain(`exec:${ice}:canceled:stp`);
    expect(balance(h, 'bob', 'BTC')).toEqual({ available: 1_000_000, hold: 0 });
  });
});

describe('amending an iceberg', () => {
  it('lowering qty keeps its place; below display it shows all its leaves', () => {
    const h = funded();
    const ice = h.ok(iceberg('bob', 'sell', 100, 10, 4)).id!;
    h.ok(place('carol', 'sell', 100, 1));
    expect(outline(h.ok(amend('bob', { id: ice }, { qty: 8 })).events)).toEqual(['level:sell:100=5', `exec:${ice}:new`]);
    const down = h.ok(amend('bob', { id: ice }, { qty: 3 }));
    expect(outline(down.events)).toEqual(['level:sell:100=4', `exec:${ice}:new`]);
    expect(h.orders('bob')).toMatchObject([{ qty: 3, leaves: 3, display: 4 }]);
    expect(trades(h.ok(place('alice', 'buy', 100, 1)))[0]!.makerOrderId).toBe(ice);
  });

  it('raising qty goes to the back of the level with a new slice, within its parts', () => {
    const h = funded();
    const ice = h.ok(iceberg('bob', 'sell', 100, 10, 4)).id!;
    const plain = h.ok(place('carol', 'sell', 100, 1)).id!;
    h.ok(place('alice', 'buy', 100, 3)); // the slice has 1 left
    expect(h.asks()).toEqual([[100, 2]]);
    expect(outline(h.ok(amend('bob', { id: ice }, { qty: 12 })).events)).toEqual(['level:sell:100=5', `exec:${ice}:partial`]);
    expect(trades(h.ok(place('alice', 'buy', 100, 1)))[0]!.makerOrderId).toBe(plain);
    // 100 slices of 4 at most: leaves 401 would need 101.
    h.rejects(amend('bob', { id: ice }, { qty: 3 + 401 }), 'bad_request');
    h.ok(amend('bob', { id: ice }, { qty: 3 + 400 }));
  });

  it('a new px moves it to the back of that level; crossing, it matches with all its leaves first', () => {
    const h = funded();
    const ice = h.ok(iceberg('bob', 'sell', 105, 10, 2)).id!;
    h.ok(place('alice', 'buy', 101, 6));
    const moved = h.ok(amend('bob', { id: ice }, { px: 101 }));
    expect(trades(moved).map((t) => [t.takerOrderId, t.qty])).toEqual([[ice, 6]]);
    expect(h.asks()).toEqual([[101, 2]]);
    expect(h.orders('bob')).toMatchObject([{ px: 101, filled: 6, leaves: 4, display: 2 }]);
  });
});
