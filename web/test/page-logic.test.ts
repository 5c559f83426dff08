// The page's logic without a browser: the book check and its resync, the flash marks, the
// candles built from trades, the decimal entry, and the one-render-per-frame scheduler.
import { describe, expect, it } from 'vitest';
import { bookChecksum } from '../../protocol/checksum.js';
import type { BookMessage, Level } from '../../protocol/messages.js';
import { BookSync, FLASH_MS } from '../src/book-sync.js';
import { parseUnits } from '../src/format.js';
import { MAX_CANDLES, foldTrade, pageTicker, upsertCandle, type Candle } from '../src/market-data.js';
import { FrameScheduler } from '../src/state.js';

function message(seq: number, bids: Level[], asks: Level[], full: { bids: Level[]; asks: Level[] }, snapshot = false): BookMessage {
  return {
    type: 'book',
    sym: 'BTC-USD',
    seq,
    ...(snapshot ? { snapshot: true as const } : {}),
    bids,
    asks,
    cs: bookChecksum(full.asks, full.bids),
  };
}

function harness(): { sync: BookSync; resubscribes: number[]; clock: { now: number } } {
  const clock = { now: 1_000 };
  const resubscribes: number[] = [];
  const sync = new BookSync(
    'BTC-USD',
    20,
    () => {
      resubscribes.push(clock.now);
      return Promise.resolve();
    },
    () => clock.now,
  );
  return { sync, resubscribes, clock };
}

describe('BookSync', () => {
  const snapshot = message(5, [[100, 3]], [[101, 2]], { bids: [[100, 3]], asks: [[101, 2]] }, true);

  it('applies a snapshot and good deltas, counting each checked message', () => {
    const { sync, resubscribes } = harness();
    expect(sync.apply(snapshot)).toBe(true);
    expect(
      sync.apply(
        message(6, [[99, 4]], [], {
          bids: [
            [100, 3],
            [99, 4],
          ],
          asks: [[101, 2]],
        }),
      ),
    ).toBe(true);
    expect(sync.state).toBe('synced');
    expect(sync.checksumsVerified).toBe(2);
    expect(sync.book.bids()).toEqual([
      [100, 3],
      [99, 4],
    ]);
    expect(resubscribes).toEqual([]);
  });

  it('resubscribes once on a seq gap, and takes the next snapshot', () => {
    const { sync, resubscribes } = harness();
    sync.apply(snapshot);
    sync.apply(
      message(8, [[99, 4]], [], {
        bids: [
          [100, 3],
          [99, 4],
        ],
        asks: [[101, 2]],
      }),
    );
    expect(sync.state).toBe('resyncing');
    expect(sync.lastResync?.reason).toBe('gap');
    // Deltas in flight from the old subscription are ignored, and start no second resubscribe.
    expect(sync.apply(message(9, [[98, 1]], [], { bids: [], asks: [] }))).toBe(false);
    expect(resubscribes.length).toBe(1);
    sync.apply(message(9, [[100, 3]], [[101, 1]], { bids: [[100, 3]], asks: [[101, 1]] }, true));
    expect(sync.state).toBe('synced');
    expect(sync.resyncs).toBe(1);
  });

  it('resubscribes on a checksum mismatch, and again when the new snapshot is bad too', () => {
    const { sync, resubscribes } = harness();
    sync.apply(snapshot);
    sync.apply({
      ...message(6, [[99, 4]], [], {
        bids: [
          [100, 3],
          [99, 4],
        ],
        asks: [[101, 2]],
      }),
      cs: 12345,
    });
    expect(sync.lastResync?.reason).toBe('checksum');
    sync.apply({ ...snapshot, seq: 7, cs: 1 });
    expect(resubscribes.length).toBe(2);
    expect(sync.resyncs).toBe(2);
  });

  it('loses deltas on request (the tests force a gap with it), never a snapshot', () => {
    const { sync, resubscribes } = harness();
    sync.dropNextDeltas = 1;
    sync.apply(snapshot);
    expect(sync.state).toBe('synced');
    expect(
      sync.apply(
        message(6, [[99, 4]], [], {
          bids: [
            [100, 3],
            [99, 4],
          ],
          asks: [[101, 2]],
        }),
      ),
    ).toBe(false);
    sync.apply(
      message(7, [[98, 1]], [], {
        bids: [
          [100, 3],
          [99, 4],
          [98, 1],
        ],
        asks: [[101, 2]],
      }),
    );
    expect(sync.lastResync?.reason).toBe('gap');
    expect(resubscribes.length).toBe(1);
  });

  it('marks changed levels for the flash period', () => {
    const { sync, clock } = harness();
    sync.apply(snapshot);
    expect(sync.flashing(100, clock.now)).toBe(false);
    clock.now = 2_000;
    sync.apply(message(6, [[100, 5]], [], { bids: [[100, 5]], asks: [[101, 2]] }));
    expect(sync.flashing(100, 2_000 + FLASH_MS - 1)).toBe(true);
    expect(sync.flashing(100, 2_000 + FLASH_MS)).toBe(false);
    expect(sync.flashing(101, 2_000)).toBe(false);
  });
});

describe('candles', () => {
  it('folds trades into bars aligned to the interval', () => {
    const candles: Candle[] = [];
    foldTrade(candles, { px: 100, qty: 2, ts: 60_500 }, 60_000);
    foldTrade(candles, { px: 104, qty: 1, ts: 61_000 }, 60_000);
    foldTrade(candles, { px: 98, qty: 3, ts: 119_999 }, 60_000);
    foldTrade(candles, { px: 101, qty: 1, ts: 120_000 }, 60_000);
    // A trade older than the open bar (out of order) is not folded into it.
    foldTrade(candles, { px: 1, qty: 1, ts: 100_000 }, 60_000);
    expect(candles).toEqual([
      { t: 60_000, o: 100, h: 104, l: 98, c: 98, v: 6, n: 3 },
      { t: 120_000, o: 101, h: 101, l: 101, c: 101, v: 1, n: 1 },
    ]);
  });

  it('upserts server candles in time order and keeps at most MAX_CANDLES', () => {
    const bar = (t: number, c = 1): Candle => ({ t, o: 1, h: 1, l: 1, c, v: 1, n: 1 });
    const candles = [bar(0), bar(120)];
    upsertCandle(candles, bar(120, 2));
    upsertCandle(candles, bar(60));
    upsertCandle(candles, bar(180));
    expect(candles.map((c) => [c.t, c.c])).toEqual([
      [0, 1],
      [60, 1],
      [120, 2],
      [180, 1],
    ]);
    for (let i = 0; i < MAX_CANDLES + 10; i++) upsertCandle(candles, bar(1_000 + i));
    expect(candles.length).toBe(MAX_CANDLES);
    expect(candles[candles.length - 1]!.t).toBe(1_000 + MAX_CANDLES + 9);
  });
});

describe('pageTicker', () => {
  it('takes bid and ask from the checked book and last from the tape when the server has no ticker', () => {
    const { sync } = harness();
    sync.apply(message(1, [[100, 3]], [[101, 2]], { bids: [[100, 3]], asks: [[101, 2]] }, true));
    expect(pageTicker('BTC-USD', sync.book, { tradeId: 1, px: 100, qty: 1, side: 'sell', ts: 5 }, 9)).toMatchObject({
      bid: 100,
      bidQty: 3,
      ask: 101,
      askQty: 2,
      last: 100,
      change: null,
      ts: 9,
    });
    expect(pageTicker('BTC-USD', null, undefined, 9)).toMatchObject({ bid: null, bidQty: null, ask: null, last: null });
  });
});

describe('parseUnits', () => {
  it('turns typed decimals into ticks or lots exactly, or says why not', () => {
    expect(parseUnits('50000.25', 2, 'price')).toEqual({ ok: true, units: 5_000_025 });
    expect(parseUnits(' 0.1 ', 6, 'size')).toEqual({ ok: true, units: 100_000 });
    expect(parseUnits('0.123', 2, 'price')).toMatchObject({ ok: false, error: expect.stringContaining('smallest amount is 0.01') });
    expect(parseUnits('', 2, 'price')).toEqual({ ok: false, error: 'enter the price' });
    expect(parseUnits('0', 2, 'price')).toEqual({ ok: false, error: 'the price must be above zero' });
    expect(parseUnits('-1', 2, 'price')).toMatchObject({ ok: false });
    expect(parseUnits('1e3', 2, 'price')).toMatchObject({ ok: false });
  });
});

describe('FrameScheduler', () => {
  it('renders once per frame however many changes came before it', () => {
    const frames: (() => void)[] = [];
    let renders = 0;
    const scheduler = new FrameScheduler(
      () => renders++,
      (callback) => frames.push(callback),
    );
    scheduler.changed();
    scheduler.changed();
    scheduler.changed();
    expect(frames.length).toBe(1);
    frames.shift()!();
    expect(renders).toBe(1);
    scheduler.changed();
    expect(frames.length).toBe(1);
  });
});
