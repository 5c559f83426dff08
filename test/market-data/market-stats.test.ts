// The candle, rolling-window and recent-trade aggregation on its own: interval alignment in UTC,
// day boundaries, closes, the 24 h eviction, the bounds, and a snapshot round trip.
import { describe, expect, it } from 'vitest';
import { CandleSeries, intervalStart } from '../../server/market-data/candle-series.js';
import { MarketStats, type TradePrint } from '../../server/market-data/market-stats.js';
import { RecentTrades } from '../../server/market-data/recent-trades.js';
import { RollingWindow } from '../../server/market-data/rolling-window.js';
import { TickerConflator } from '../../server/market-data/ticker-conflator.js';
import type { TickerMessage } from '../../protocol/messages.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 11, 3, 23, 58, 30, 250);
const EMPTY_BOOK = { top: () => [] };

let tradeId = 0;
function print(px: number, qty: number, ts: number, sym = 'BTC-USD'): TradePrint {
  return { sym, tradeId: ++tradeId, px, qty, side: 'buy', ts };
}
function batchOf(...prints: TradePrint[]): Map<string, TradePrint[]> {
  const bySym = new Map<string, TradePrint[]>();
  for (const p of prints) bySym.set(p.sym, [...(bySym.get(p.sym) ?? []), p]);
  return bySym;
}

describe('candle series', () => {
  it('aligns starts to the interval in UTC, days at midnight UTC', () => {
    expect(intervalStart(T0, MINUTE)).toBe(Date.UTC(2026, 11, 3, 23, 58));
    expect(intervalStart(T0, 15 * MINUTE)).toBe(Date.UTC(2026, 11, 3, 23, 45));
    expect(intervalStart(T0, HOUR)).toBe(Date.UTC(2026, 11, 3, 23));
    expect(intervalStart(T0, DAY)).toBe(Date.UTC(2026, 11, 3));
    expect(intervalStart(Date.UTC(2026, 11, 4), DAY)).toBe(Date.UTC(2026, 11, 4));
    expect(intervalStart(Date.UTC(2026, 11, 4) - 1, DAY)).toBe(Date.UTC(2026, 11, 3));
  });

  it('builds OHLCV, closes at the end of the interval, skips empty intervals', () => {
    const series = new CandleSeries(MINUTE);
    const start = intervalStart(T0, MINUTE);
    series.add(100, 2, T0);
    series.add(105, 1, T0 + 1000);
    series.add(98, 3, T0 + 2000);
    expect(series.openCandle()).toEqual({ t: start, o: 100, h: 105, l: 98, c: 98, v: 6, n: 3 });
    expect(series.closeIfEnded(start + MINUTE - 1)).toBeNull();
    expect(series.closeIfEnded(start + MINUTE)).toEqual({ t: start, o: 100, h: 105, l: 98, c: 98, v: 6, n: 3 });
    expect(series.closeIfEnded(start + 5 * MINUTE)).toBeNull();
    series.add(110, 1, start + 3 * MINUTE + 5);
    expect(series.openCandle()).toEqual({ t: start + 3 * MINUTE, o: 110, h: 110, l: 110, c: 110, v: 1, n: 1 });
    expect(series.latest(10).map((c) => c.t)).toEqual([start, start + 3 * MINUTE]);
  });

  it('keeps at most its bound, the newest', () => {
    const series = new CandleSeries(MINUTE, 1000);
    for (let i = 0; i < 1005; i++) {
      series.closeIfEnded(i * MINUTE);
      series.add(100 + i, 1, i * MINUTE);
    }
    const all = series.latest(5000);
    expect(all).toHaveLength(1000);
    expect(all[0]!.t).toBe(5 * MINUTE);
    expect(all.at(-1)!.t).toBe(1004 * MINUTE);
    expect(series.latest(3).map((c) => c.o)).toEqual([1102, 1103, 1104]);
  });
});

describe('market stats', () => {
  it('closes candles of every interval in order, before the next candle, on any later batch', () => {
    const stats = new MarketStats(['BTC-USD', 'ETH-USD']);
    const first = stats.apply(T0, batchOf(print(100, 1, T0)));
    expect(first.candles.map((c) => [c.interval, c.closed])).toEqual([
      ['1m', false],
      ['5m', false],
      ['15m', false],
      ['1h', false],
      ['1d', false],
    ]);
    // A minute later (23:59:30), a batch of another market's trade closes BTC's 1m only.
    const later = T0 + MINUTE;
    const other = stats.apply(later, batchOf(print(7, 1, later, 'ETH-USD')));
    expect(other.candles.filter((c) => c.sym === 'BTC-USD').map((c) => [c.interval, c.closed])).toEqual([['1m', true]]);
    // Past midnight UTC: every BTC interval closes; a trade then opens new candles, each after its close.
    const nextDay = Date.UTC(2026, 11, 4, 0, 0, 1);
    const crossing = stats.apply(nextDay, batchOf(print(120, 2, nextDay))).candles.filter((c) => c.sym === 'BTC-USD');
    expect(crossing.map((c) => `${c.interval}:${c.closed}`)).toEqual(
      ['5m:true', '5m:false', '15m:true', '15m:false', '1h:true', '1h:false', '1d:true', '1d:false', '1m:false'].sort(
        (a, b) => order(a) - order(b),
      ),
    );
    const day = crossing.filter((c) => c.interval === '1d');
    expect(day[0]).toMatchObject({ t: Date.UTC(2026, 11, 3), o: 100, c: 100, v: 1, n: 1, closed: true });
    expect(day[1]).toMatchObject({ t: Date.UTC(2026, 11, 4), o: 120, v: 2, n: 1, closed: false });
    expect(stats.candles('BTC-USD', '1d', 500).candles.map((c) => c.t)).toEqual([Date.UTC(2026, 11, 3), Date.UTC(2026, 11, 4)]);
  });

  it('never moves engine time back', () => {
    const stats = new MarketStats(['BTC-USD']);
    stats.apply(T0 + MINUTE, batchOf(print(100, 1, T0 + MINUTE)));
    const back = stats.apply(T0, batchOf(print(90, 1, T0)));
    expect(back.candles.find((c) => c.interval === '1m')).toMatchObject({ t: intervalStart(T0 + MINUTE, MINUTE), l: 90, n: 2 });
    expect(stats.ticker('BTC-USD', EMPTY_BOOK).ts).toBe(T0 + MINUTE);
  });

  it('ticker: rolling 24 h open/high/low/volume/change, evicted by minute, book top, nulls when empty', () => {
    const stats = new MarketStats(['BTC-USD']);
    const book = { top: (side: 'buy' | 'sell') => (side === 'buy' ? [[99, 5] as [number, number]] : []) };
    expect(stats.ticker('BTC-USD', book)).toEqual({
      type: 'ticker',
      sym: 'BTC-USD',
      bid: 99,
      bidQty: 5,
      ask: null,
      askQty: null,
      last: null,
      open: null,
      high: null,
      low: null,
      volume: 0,
      change: null,
      ts: 0,
    });
    stats.apply(T0, batchOf(print(100, 2, T0), print(130, 1, T0)));
    stats.apply(T0 + HOUR, batchOf(print(80, 4, T0 + HOUR)));
    expect(stats.ticker('BTC-USD', book)).toMatchObject({ last: 80, open: 100, high: 130, low: 80, volume: 7, change: -20, ts: T0 + HOUR });
    // The minute of T0 is in the window until 1439 minutes after it (1440 buckets, the current one included).
    const minuteOfT0 = intervalStart(T0, MINUTE);
    expect(stats.apply(minuteOfT0 + 1439 * MINUTE + 59_999, new Map()).tickerChanges.size).toBe(0);
    const evicted = stats.apply(minuteOfT0 + 1440 * MINUTE, new Map());
    expect([...evicted.tickerChanges]).toEqual(['BTC-USD']);
    expect(stats.ticker('BTC-USD', book)).toMatchObject({ last: 80, open: 80, high: 80, low: 80, volume: 4, change: 0 });
    stats.apply(T0 + HOUR + DAY, new Map());
    expect(stats.ticker('BTC-USD', book)).toMatchObject({ last: 80, open: null, high: null, low: null, volume: 0, change: null });
  });

  it('survives a snapshot round trip (export → restore) unchanged', () => {
    const stats = new MarketStats(['BTC-USD']);
    for (let i = 0; i < 50; i++) stats.apply(T0 + i * 7 * MINUTE, batchOf(print(100 + i, 1 + i, T0 + i * 7 * MINUTE)));
    const restored = new MarketStats(['BTC-USD', 'NEW-USD'], structuredClone(stats.export()));
    expect(restored.export().markets['BTC-USD']).toEqual(stats.export().markets['BTC-USD']);
    const ts = T0 + 400 * MINUTE;
    expect(restored.apply(ts, batchOf(print(1, 1, ts)))).toEqual(stats.apply(ts, batchOf({ ...print(1, 1, ts), tradeId: tradeId })));
    expect(restored.candles('NEW-USD', '1m', 10).candles).toEqual([]);
  });
});

function order(label: string): number {
  const intervals = ['1m', '5m', '15m', '1h', '1d'];
  const [interval, closed] = label.split(':');
  return intervals.indexOf(interval!) * 2 + (closed === 'true' ? 0 : 1);
}

describe('rolling window and recent trades', () => {
  it('window high and low cover every trade of its first bucket', () => {
    const window = new RollingWindow();
    window.add(100, 1, T0);
    window.add(90, 1, T0 + 1);
    window.add(95, 1, T0 + 2);
    expect(window.stats()).toEqual({ open: 100, high: 100, low: 90, volume: 3 });
  });

  it('window holds at most 1440 buckets', () => {
    const window = new RollingWindow();
    for (let i = 0; i < 3000; i++) {
      window.evict(i * MINUTE);
      window.add(1000 + (i % 7), 1, i * MINUTE);
    }
    expect(window.export()).toHaveLength(1440);
    expect(window.stats()).toMatchObject({ volume: 1440, open: 1000 + (1560 % 7) });
  });

  it('recent trades: a ring of the newest, oldest first', () => {
    const recent = new RecentTrades(500);
    for (let i = 1; i <= 1234; i++) recent.add({ tradeId: i, px: i, qty: 1, side: 'sell', ts: i });
    expect(recent.latest(3).map((t) => t.tradeId)).toEqual([1232, 1233, 1234]);
    const all = recent.latest(10_000);
    expect(all).toHaveLength(500);
    expect(all[0]!.tradeId).toBe(735);
  });
});

describe('ticker conflation', () => {
  const ticker = (last: number, ts: number): TickerMessage => ({
    type: 'ticker',
    sym: 'BTC-USD',
    bid: null,
    bidQty: null,
    ask: null,
    askQty: null,
    last,
    open: last,
    high: last,
    low: last,
    volume: 1,
    change: 0,
    ts,
  });

  it('sends the latest at most once per interval, and only what changed (ts aside)', () => {
    const conflator = new TickerConflator(100);
    conflator.update(ticker(1, 1));
    conflator.update(ticker(2, 2));
    expect(conflator.take(1000).map((t) => t.last)).toEqual([2]);
    conflator.update(ticker(3, 3));
    expect(conflator.take(1099)).toEqual([]);
    expect(conflator.take(1100).map((t) => t.last)).toEqual([3]);
    conflator.update(ticker(3, 4));
    expect(conflator.take(5000)).toEqual([]);
    conflator.update(ticker(4, 5));
    conflator.update(ticker(3, 6));
    expect(conflator.take(6000)).toEqual([]);
  });
});
