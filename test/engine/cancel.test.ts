// cancel, cancel_all and the cid rules: orders addressed by id or cid, visible only to their own
// account (another account's order is answered exactly as an unknown one), cid unique among an
// account's open orders only.
import { describe, expect, it } from 'vitest';
import { BTC, ETH, FUNDED, amend, cancel, cancelAll, execs, outline, place } from '../support/engine-fixtures.js';
import { EngineHarness } from '../support/engine-harness.js';

describe('cancel', () => {
  it('by id: reports the level, then the canceled order with reason user', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5, { cid: 'x' })).id!;
    h.ok(place('carol', 'buy', 100, 2));
    const result = h.ok(cancel('bob', { id }));
    expect(result).toMatchObject({ ok: true, id, cid: 'x' });
    expect(result.events).toEqual([
      { kind: 'level', sym: BTC, side: 'buy', px: 100, qty: 2 },
      {
        kind: 'exec',
        account: 'bob',
        exec: {
          type: 'exec',
          sym: BTC,
          id,
          cid: 'x',
          side: 'buy',
          status: 'canceled',
          px: 100,
          qty: 5,
          leaves: 0,
          filled: 0,
          reason: 'user',
          ts: 2_000,
        },
      },
      // Last, the hold it gave back: 5 lots at 100 ticks.
      { kind: 'balance', account: 'bob', asset: 'USD', available: FUNDED, hold: 0 },
    ]);
    expect(h.orders('bob')).toEqual([]);
    expect(h.bids()).toEqual([[100, 2]]);
  });

  it('by cid, keeping what a partial order has filled', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'sell', 100, 5, { cid: 'x' })).id!;
    h.ok(place('alice', 'buy', 100, 2));
    const result = h.ok(cancel('bob', { cid: 'x' }));
    expect(outline(result.events)).toEqual(['level:sell:100=0', `exec:${id}:canceled:user`]);
    expect(execs(result)[0]).toMatchObject({ qty: 5, filled: 2, leaves: 0 });
    expect(h.asks()).toEqual([]);
  });

  it('an order that is gone, never was, or lives in another market is unknown', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5, { cid: 'x' })).id!;
    h.rejects(cancel('bob', { id: id + 1 }), 'unknown_order');
    h.rejects(cancel('bob', { cid: 'y' }), 'unknown_order');
    h.rejects(cancel('bob', { id }, ETH), 'unknown_order');
    h.rejects(cancel('bob', { cid: 'x' }, ETH), 'unknown_order');
    h.rejects(cancel('bob', { id }, 'NOPE-USD'), 'unknown_market');
    h.ok(cancel('bob', { id }));
    h.rejects(cancel('bob', { id }), 'unknown_order');
    h.rejects(cancel('bob', { cid: 'x' }), 'unknown_order');
  });

  it('a filled order can no longer be canceled', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5, { cid: 'x' })).id!;
    h.ok(place('alice', 'sell', 100, 5));
    h.rejects(cancel('bob', { id }), 'unknown_order');
    h.rejects(cancel('bob', { cid: 'x' }), 'unknown_order');
  });
});

describe('account isolation', () => {
  it('another account’s id or cid is answered exactly as an unknown one', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5, { cid: 'shared' })).id!;
    const unknownById = h.run(cancel('alice', { id: id + 100 }));
    const othersById = h.run(cancel('alice', { id }));
    const othersByCid = h.run(cancel('alice', { cid: 'shared' }));
    expect(othersById).toEqual(unknownById);
    expect(othersByCid).toEqual(unknownById);
    expect(othersById).toMatchObject({ ok: false, code: 'unknown_order' });
    h.rejects(cancel('alice', { id }), 'unknown_order');
    h.rejects(amend('alice', { cid: 'shared' }, { px: 99 }), 'unknown_order');
    expect(h.orders('bob')).toHaveLength(1);
  });

  it('the same cid in two accounts names two different orders', () => {
    const h = new EngineHarness();
    const bobs = h.ok(place('bob', 'buy', 100, 5, { cid: 'same' })).id!;
    const alices = h.ok(place('alice', 'buy', 99, 5, { cid: 'same' })).id!;
    expect(h.ok(cancel('alice', { cid: 'same' })).id).toBe(alices);
    expect(h.orders('bob').map((o) => o.id)).toEqual([bobs]);
  });
});

describe('duplicate_cid', () => {
  it('a cid in use by an open order of the account is refused, in any market', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'buy', 100, 5, { cid: 'x' }));
    h.rejects(place('bob', 'buy', 99, 1, { cid: 'x' }), 'duplicate_cid');
    h.rejects(place('bob', 'sell', 120, 1, { cid: 'x', sym: ETH }), 'duplicate_cid');
    h.rejects(place('bob', 'sell', null, 1, { cid: 'x', tif: 'ioc' }), 'duplicate_cid');
    expect(h.ok(place('bob', 'buy', 99, 1, { cid: 'z' })).id).toBe(2);
  });

  it('a cid may be reused once its order is canceled', () => {
    const h = new EngineHarness();
    const id = h.ok(place('bob', 'buy', 100, 5, { cid: 'x' })).id!;
    h.ok(cancel('bob', { cid: 'x' }));
    const again = h.ok(place('bob', 'buy', 100, 5, { cid: 'x' })).id!;
    expect(again).not.toBe(id);
    expect(h.ok(cancel('bob', { cid: 'x' })).id).toBe(again);
  });

  it('a cid may be reused once its order is filled, or right after an ioc used it', () => {
    const h = new EngineHarness();
    h.ok(place('bob', 'buy', 100, 5, { cid: 'x' }));
    h.ok(place('alice', 'sell', 100, 5));
    h.ok(place('bob', 'buy', 90, 1, { cid: 'x', tif: 'ioc' }));
    const resting = h.ok(place('bob', 'buy', 90, 1, { cid: 'x' })).id!;
    expect(h.orders('bob')).toMatchObject([{ id: resting, cid: 'x' }]);
  });
});

describe('cancel_all', () => {
  function twoMarkets(): EngineHarness {
    const h = new EngineHarness();
    h.ok(place('bob', 'buy', 100, 1)); // BTC 1
    h.ok(place('bob', 'sell', 110, 2, { sym: ETH })); // ETH 1
    h.ok(place('bob', 'sell', 105, 3)); // BTC 2
    h.ok(place('carol', 'buy', 100, 4)); // BTC 3
    h.ok(place('bob', 'buy', 99, 5)); // BTC 4
    return h;
  }

  it('in one market cancels only that market’s orders of the account, in acceptance order', () => {
    const h = twoMarkets();
    const result = h.ok(cancelAll('bob', BTC));
    expect(result.canceled).toBe(3);
    expect(outline(result.events)).toEqual([
      'level:buy:100=4',
      'exec:1:canceled:user',
      'level:sell:105=0',
      'exec:2:canceled:user',
      'level:buy:99=0',
      'exec:4:canceled:user',
    ]);
    expect(h.orders('bob').map((o) => [o.sym, o.id])).toEqual([[ETH, 1]]);
    expect(h.orders('carol')).toHaveLength(1);
  });

  it('with no market cancels everything of the account, with the given reason', () => {
    const h = twoMarkets();
    const result = h.ok(cancelAll('bob', null, 'disconnect'));
    expect(result.canceled).toBe(4);
    expect(execs(result).map((e) => [e.sym, e.id, e.reason])).toEqual([
      [BTC, 1, 'disconnect'],
      [ETH, 1, 'disconnect'],
      [BTC, 2, 'disconnect'],
      [BTC, 4, 'disconnect'],
    ]);
    expect(h.orders('bob')).toEqual([]);
    expect(h.bids()).toEqual([[100, 4]]);
    expect(h.asks(ETH)).toEqual([]);
  });

  it('with nothing open answers canceled 0; an unknown market is rejected', () => {
    const h = twoMarkets();
    expect(h.ok(cancelAll('alice', null))).toEqual({ ok: true, canceled: 0, events: [] });
    expect(h.ok(cancelAll('carol', ETH))).toEqual({ ok: true, canceled: 0, events: [] });
    h.rejects(cancelAll('bob', 'NOPE-USD'), 'unknown_market');
  });
});
