// Stop orders (docs/PROTOCOL.md "Stop orders"): a stop waits outside the book, open and holding,
// until a trade of its market prints at or through its trigger; it then enters as a taker in the
// command whose trade reached it, once that command's taker has finished matching: a market order
// without px, a limit order at px with one. Triggers come only from trades, in a fixed order.
import { describe, expect, it } from 'vitest';
import { amend, cancel, cancelAll, execs, moneyOutline, outline, place, stop, trades } from '../support/engine-fixtures.js';
import { EngineHarness } from '../support/engine-harness.js';

function balance(h: EngineHarness, account: string, asset: string): { available: number; hold: number } {
  const { available, hold } = h.engine.balances(account).find((b) => b.asset === asset)!;
  return { available, hold };
}

/** A harness whose accounts hold 1,000,000 units of every asset (BTC-USD: a lot is a unit, a tick·lot a USD unit). */
function funded(): EngineHarness {
  return new EngineHarness(undefined, 1_000_000);
}

describe('a waiting stop', () => {
  it('is accepted with exec new, holds what the order it becomes holds, and is in no level', () => {
    const h = funded();
    const sell = h.ok(stop('carol', 'sell', 95, null, 7));
    expect(outline(sell.events)).toEqual([`exec:${sell.id}:new`]);
    expect(execs(sell)[0]).toMatchObject({ status: 'new', px: null, qty: 7, leaves: 7, filled: 0 });
    expect(balance(h, 'carol', 'BTC')).toEqual({ available: 1_000_000 - 7, hold: 7 });
    const buy = h.ok(stop('carol', 'buy', 105, 106, 10));
    expect(balance(h, 'carol', 'USD')).toEqual({ available: 1_000_000 - 1_060, hold: 1_060 });
    expect(h.bids()).toEqual([]);
    expect(h.asks()).toEqual([]);
    expect(h.orders('carol')).toEqual([
      expect.objectContaining({ id: sell.id, kind: 'stop', px: null, trigger: 95, triggered: false, status: 'new', leaves: 7 }),
      expect.objectContaining({ id: buy.id, kind: 'stop', px: 106, trigger: 105, triggered: false }),
    ]);
    expect(h.engine.openOrder('carol', 'BTC-USD', { id: buy.id! })).toMatchObject({ trigger: 105, triggered: false });
  });

  it('a buy stop without px (stop-market) waits holding nothing, then holds and pays its exact cost as a market buy', () => {
    const h = funded();
    const buy = h.ok(stop('carol', 'buy', 105, null, 3)).id!;
    expect(balance(h, 'carol', 'USD')).toEqual({ available: 1_000_000, hold: 0 });
    h.ok(place('bob', 'sell', 106, 2));
    h.ok(place('bob', 'sell', 107, 5));
    // alice's trade at 106 reaches the trigger; carol then takes bob's last lot at 106 and two at 107.
    const triggering = h.ok(place('alice', 'buy', 106, 1));
    const carol = execs(triggering).filter((e) => e.id === buy);
    expect(carol.map((e) => e.status)).toEqual(['new', 'partial', 'filled']);
    expect(carol[0]).toMatchObject({ triggered: true });
    expect(balance(h, 'carol', 'USD')).toEqual({ available: 1_000_000 - 106 - 2 * 107, hold: 0 });
    expect(balance(h, 'carol', 'BTC')).toEqual({ available: 1_000_000 + 3, hold: 0 });
    expect(h.orders('carol')).toEqual([]);
  });

  it('a stop-market buy its account cannot pay when it triggers is canceled insufficient_funds and moves no money', () => {
    const h = funded();
    const buy = h.ok(stop('carol', 'buy', 105, null, 10_000)).id!;
    h.ok(place('bob', 'sell', 106, 10_000));
    const triggering = h.ok(place('alice', 'buy', 106, 1));
    // 9,999 lots at 106 would cost 1,059,894 USD units; carol has 1,000,000.
    const carol = execs(triggering).filter((e) => e.id === buy);
    expect(carol.map((e) => [e.status, e.reason])).toEqual([
      ['new', undefined],
      ['canceled', 'insufficient_funds'],
    ]);
    expect(balance(h, 'carol', 'USD')).toEqual({ available: 1_000_000, hold: 0 });
    expect(balance(h, 'carol', 'BTC')).toEqual({ available: 1_000_000, hold: 0 });
    expect(h.orders('carol')).toEqual([]);
    expect(h.asks()).toEqual([[106, 9_999]]);
  });

  it('a stop the account cannot hold is insufficient_funds and changes nothing', () => {
    const h = funded();
    h.rejects(stop('carol', 'sell', 95, null, 1_000_001), 'insufficient_funds');
    h.rejects(stop('carol', 'buy', 105, 1_000, 1_001), 'insufficient_funds');
  });

  it('counts toward the open-order cap, ioc or gtc', () => {
    const h = new EngineHarness({ maxOpenOrdersPerAccount: 2 }, 1_000_000);
    h.ok(stop('carol', 'sell', 95, null, 1, { tif: 'ioc' }));
    h.ok(place('carol', 'buy', 90, 1));
    h.rejects(stop('carol', 'sell', 95, 94, 1), 'too_many_orders');
    h.rejects(place('carol', 'buy', 90, 1), 'too_many_orders');
  });

  it('is canceled by cancel (no level changes), cancel_all and a disconnect, releasing its hold', () => {
    const h = funded();
    const a = h.ok(stop('carol', 'sell', 95, null, 7, { cid: 's-1' })).id!;
    const canceled = h.ok(cancel('carol', { cid: 's-1' }));
    expect(outline(canceled.events)).toEqual([`exec:${a}:canceled:user`]);
    expect(moneyOutline(canceled.events)).toEqual(['balance:carol:BTC=1000000+0']);
    const b = h.ok(stop('carol', 'sell', 95, null, 1)).id!;
    const c = h.ok(stop('carol', 'buy', 105, 106, 1)).id!;
    expect(outline(h.ok(cancelAll('carol', null, 'disconnect')).events)).toEqual([
      `exec:${b}:canceled:disconnect`,
      `exec:${c}:canceled:disconnect`,
    ]);
    expect(h.orders('carol')).toEqual([]);
  });

  it('never triggers at its place, even with its trigger passed: only a later trade reaches it', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 100, 5));
    h.ok(place('alice', 'buy', 100, 1)); // last trade at 100
    const id = h.ok(stop('carol', 'buy', 90, 101, 2)).id!;
    expect(h.orders('carol')).toMatchObject([{ triggered: false }]);
    const next = h.ok(place('alice', 'buy', 100, 1));
    expect(outline(next.events)).toEqual([
      `exec:${next.id}:new`,
      'exec:1:partial',
      `exec:${next.id}:filled`,
      'trade:100x1',
      'level:sell:100=3',
      `exec:${id}:new:triggered`,
      'exec:1:partial',
      `exec:${id}:filled`,
      'trade:100x2',
      'level:sell:100=1',
    ]);
  });
});

describe('triggering', () => {
  it('a sell stop-market triggers on a trade at its trigger, after the taker, and takes the bids as a market order', () => {
    const h = funded();
    const bids = [h.ok(place('bob', 'buy', 96, 1)).id!, h.ok(place('bob', 'buy', 95, 1)).id!, h.ok(place('bob', 'buy', 94, 5)).id!];
    const id = h.ok(stop('carol', 'sell', 95, null, 3)).id!;
    // A trade at 96 is above the trigger: nothing.
    expect(outline(h.ok(place('alice', 'sell', 96, 1)).events)).not.toContain(`exec:${id}:new:triggered`);
    const taker = h.ok(place('alice', 'sell', 95, 1));
    expect(outline(taker.events)).toEqual([
      `exec:${taker.id}:new`,
      `exec:${bids[1]}:filled`,
      `exec:${taker.id}:filled`,
      'trade:95x1',
      'level:buy:95=0',
      `exec:${id}:new:triggered`,
      `exec:${bids[2]}:partial`,
      `exec:${id}:filled`,
      'trade:94x3',
      'level:buy:94=2',
    ]);
    expect(execs(taker).find((e) => e.triggered)).toMatchObject({ status: 'new', px: null, qty: 3, leaves: 3, filled: 0, triggered: true });
    expect(trades(taker)[1]).toMatchObject({ takerOrderId: id, takerAccount: 'carol', px: 94 });
    expect(balance(h, 'carol', 'BTC')).toEqual({ available: 1_000_000 - 3, hold: 0 });
    expect(balance(h, 'carol', 'USD')).toEqual({ available: 1_000_000 + 3 * 94, hold: 0 });
    expect(h.orders('carol')).toEqual([]);
  });

  it('a buy stop-limit enters as a limit order at px: fills up to px and rests the rest, still kind stop', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 105, 1));
    h.ok(place('bob', 'sell', 106, 2));
    h.ok(place('bob', 'sell', 107, 5));
    const id = h.ok(stop('carol', 'buy', 105, 106, 10)).id!;
    const taker = h.ok(place('alice', 'buy', 105, 1));
    expect(outline(taker.events).slice(5)).toEqual([
      `exec:${id}:new:triggered`,
      'exec:2:filled',
      `exec:${id}:partial`,
      'trade:106x2',
      'level:sell:106=0',
      'level:buy:106=8',
    ]);
    expect(h.bids()).toEqual([[106, 8]]);
    expect(h.orders('carol')).toEqual([
      expect.objectContaining({ id, kind: 'stop', px: 106, trigger: 105, triggered: true, filled: 2, leaves: 8 }),
    ]);
    // The limit hold at 106 stays for what rests.
    expect(balance(h, 'carol', 'USD')).toEqual({ available: 1_000_000 - 2 * 106 - 8 * 106, hold: 8 * 106 });
    // Once triggered it is an ordinary resting order: it fills as a maker.
    expect(outline(h.ok(place('alice', 'sell', 106, 8)).events)).toContain(`exec:${id}:filled`);
  });

  it('an ioc stop-limit cancels what it cannot fill at once (reason ioc)', () => {
    const h = funded();
    h.ok(place('bob', 'buy', 95, 1));
    h.ok(place('bob', 'buy', 94, 1));
    const id = h.ok(stop('carol', 'sell', 95, 94, 5, { tif: 'ioc' })).id!;
    const taker = h.ok(place('alice', 'sell', 95, 1));
    expect(outline(taker.events).slice(5)).toEqual([
      `exec:${id}:new:triggered`,
      'exec:2:filled',
      `exec:${id}:partial`,
      'trade:94x1',
      'level:buy:94=0',
      `exec:${id}:canceled:ioc`,
    ]);
    expect(balance(h, 'carol', 'BTC')).toEqual({ available: 1_000_000 - 1, hold: 0 });
  });

  it('a triggered stop-market that finds no liquidity is canceled (reason market) and releases its hold', () => {
    const h = funded();
    h.ok(place('bob', 'buy', 95, 5));
    const id = h.ok(stop('carol', 'sell', 95, null, 3)).id!;
    const taker = h.ok(place('alice', 'sell', null, 5));
    expect(outline(taker.events).slice(-2)).toEqual([`exec:${id}:new:triggered`, `exec:${id}:canceled:market`]);
    expect(execs(taker).at(-1)).toMatchObject({ filled: 0, leaves: 0, reason: 'market' });
    expect(balance(h, 'carol', 'BTC')).toEqual({ available: 1_000_000, hold: 0 });
  });

  it('a triggered stop applies its own self-trade prevention', () => {
    const h = funded();
    h.ok(place('bob', 'buy', 95, 1));
    const own = h.ok(place('carol', 'buy', 94, 1)).id!;
    const id = h.ok(stop('carol', 'sell', 95, null, 2, { stp: 'cancel_taker' })).id!;
    const taker = h.ok(place('alice', 'sell', 95, 1));
    // It reaches carol's own bid first: cancel_taker stops it there, with nothing filled.
    expect(outline(taker.events).slice(-3)).toEqual([`exec:${id}:new:triggered`, 'level:buy:94=1', `exec:${id}:canceled:stp`]);
    expect(h.orders('carol')).toMatchObject([{ id: own }]);
  });

  it('due stops trigger in order: per side the trigger reached first, then the lower id', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 100, 1));
    h.ok(place('bob', 'sell', 110, 100));
    const first102 = h.ok(stop('carol', 'buy', 102, 110, 1)).id!;
    const at101 = h.ok(stop('carol', 'buy', 101, 110, 1)).id!;
    const second102 = h.ok(stop('alice', 'buy', 102, 110, 1)).id!;
    const unreached = h.ok(stop('carol', 'buy', 111, 120, 1)).id!; // the trades print at 100 and 110
    const taker = h.ok(place('alice', 'buy', 110, 2));
    const order = execs(taker)
      .filter((e) => e.triggered)
      .map((e) => e.id);
    expect(order).toEqual([at101, first102, second102]);
    expect(h.orders('carol')).toMatchObject([{ id: unreached, triggered: false }]);
  });

  it('sell stops trigger highest trigger first; across sides the lower id goes first', () => {
    const h = funded();
    h.ok(place('bob', 'buy', 100, 1));
    h.ok(place('bob', 'buy', 90, 100));
    h.ok(place('bob', 'sell', 105, 100));
    const sell99 = h.ok(stop('carol', 'sell', 99, 90, 1)).id!;
    const buy50 = h.ok(stop('carol', 'buy', 50, 105, 1)).id!; // passed long ago: due on any trade at 50 or above
    const sell100 = h.ok(stop('carol', 'sell', 100, 90, 1)).id!;
    const taker = h.ok(place('alice', 'sell', 100, 1));
    // The trade at 100 makes buy50 and sell100 due: the lower id, buy50, goes first (its buy
    // prints at 105); then sell100, whose sell prints at 90, which makes sell99 due.
    expect(
      execs(taker)
        .filter((e) => e.triggered)
        .map((e) => e.id),
    ).toEqual([buy50, sell100, sell99]);
  });

  it("a triggered stop's own trades trigger further stops in the same command", () => {
    const h = funded();
    for (const px of [99, 98, 97]) h.ok(place('bob', 'buy', px, 1));
    h.ok(place('bob', 'buy', 96, 5));
    const first = h.ok(stop('carol', 'sell', 99, null, 2)).id!;
    const second = h.ok(stop('carol', 'sell', 97, null, 2)).id!;
    const third = h.ok(stop('carol', 'sell', 90, null, 1)).id!;
    const taker = h.ok(place('alice', 'sell', 99, 1));
    expect(outline(taker.events).filter((e) => e.includes('trade') || e.includes('triggered'))).toEqual([
      'trade:99x1',
      `exec:${first}:new:triggered`,
      'trade:98x1',
      'trade:97x1',
      `exec:${second}:new:triggered`,
      'trade:96x2',
    ]);
    expect(h.orders('carol')).toMatchObject([{ id: third, triggered: false }]);
  });

  it('a crossing amend triggers stops too', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 101, 1));
    const bid = h.ok(place('alice', 'buy', 99, 1)).id!;
    const id = h.ok(stop('carol', 'buy', 101, 110, 1)).id!;
    const amended = h.ok(amend('alice', { id: bid }, { px: 101 }));
    expect(outline(amended.events)).toContain(`exec:${id}:new:triggered`);
  });
});

describe('amending a waiting stop', () => {
  it('changes qty, px (of a stop-limit) and trigger where it waits, re-holding; it never triggers by itself', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 100, 5));
    h.ok(place('alice', 'buy', 100, 1));
    const id = h.ok(stop('carol', 'buy', 105, 106, 10)).id!;
    const result = h.ok(amend('carol', { id }, { qty: 4, px: 108, trigger: 99 }));
    expect(outline(result.events)).toEqual([`exec:${id}:new`]);
    expect(execs(result)[0]).toMatchObject({ amended: true, qty: 4, px: 108, leaves: 4 });
    expect(balance(h, 'carol', 'USD')).toEqual({ available: 1_000_000 - 4 * 108, hold: 4 * 108 });
    expect(h.orders('carol')).toMatchObject([{ id, trigger: 99, px: 108, qty: 4, triggered: false }]);
    h.rejects(amend('carol', { id }, { qty: 1_000_000 }), 'insufficient_funds');
    // The same values again: acked, no exec.
    expect(h.ok(amend('carol', { id }, { qty: 4, trigger: 99 })).events).toEqual([]);
  });

  it('a stop-market has no px to amend; a trigger is only amended while the stop waits', () => {
    const h = funded();
    const id = h.ok(stop('carol', 'sell', 95, null, 3)).id!;
    h.rejects(amend('carol', { id }, { px: 94 }), 'bad_request');
    const limit = h.ok(place('carol', 'sell', 120, 1)).id!;
    h.rejects(amend('carol', { id: limit }, { trigger: 94 }), 'bad_request');
    // A stop-limit that triggered and rests is amended like any resting order, but not its trigger.
    h.ok(place('bob', 'buy', 95, 1));
    const rests = h.ok(stop('carol', 'sell', 95, 100, 2)).id!;
    h.ok(place('alice', 'sell', 95, 1));
    expect(h.orders('carol')).toContainEqual(expect.objectContaining({ id: rests, triggered: true }));
    h.rejects(amend('carol', { id: rests }, { trigger: 94 }), 'bad_request');
    expect(h.ok(amend('carol', { id: rests }, { qty: 1 })).events.length).toBeGreaterThan(0);
  });

  it('an amended trigger reorders the waiting stops; equal triggers keep id order', () => {
    const h = funded();
    h.ok(place('bob', 'sell', 100, 10));
    const a = h.ok(stop('carol', 'buy', 100, 100, 1)).id!;
    const b = h.ok(stop('carol', 'buy', 99, 100, 1)).id!;
    h.ok(amend('carol', { id: b }, { trigger: 100 }));
    const taker = h.ok(place('alice', 'buy', 100, 1));
    expect(
      execs(taker)
        .filter((e) => e.triggered)
        .map((e) => e.id),
    ).toEqual([a, b]);
  });
});
