// Everything the candles, ticker and recent-trades channels show, built from trades in engine time
// (the `ts` journaled with each command), so that a replay of the journal rebuilds it exactly. It is
// fed one journaled batch at a time — live at seal, in recovery and in replay per journal record —
// and engine time is the latest such `ts` (never moving back, should the wall clock have). Any such
// batch, in any market, closes every open candle whose interval it has passed.
import { CANDLE_INTERVALS, CANDLE_INTERVAL_MS, MAX_CANDLES, MAX_RECENT_TRADES, type CandleInterval } from '../../protocol/constants.js';
import type { CandleMessage, CandlesSnapshot, RecentTrade, TickerMessage, TradesSnapshot } from '../../protocol/messages.js';
import type { CommandResult } from '../engine/types.js';
import type { JournalEntry } from '../journal/command-codec.js';
import type { BookSource } from './book-feed.js';
import { CandleSeries, type CandleSeriesState } from './candle-series.js';
import { RecentTrades } from './recent-trades.js';
import { RollingWindow, type WindowBucket } from './rolling-window.js';

/** A trade as market data reads it (the gateway's `trade` message has these fields). */
export interface TradePrint {
  readonly sym: string;
  readonly tradeId: number;
  readonly px: number;
  readonly qty: number;
  readonly side: RecentTrade['side'];
  readonly ts: number;
}

export interface MarketSeriesState {
  readonly last: number | null;
  readonly candles: Readonly<Record<CandleInterval, CandleSeriesState>>;
  readonly window: readonly WindowBucket[];
  readonly recent: readonly RecentTrade[];
}

/** What snapshots keep of market data (snapshot-store.ts), so history outlives the journal segments a snapshot retires. */
export interface MarketDataState {
  readonly time: number;
  readonly markets: Readonly<Record<string, MarketSeriesState>>;
}

export interface BatchMarketData {
  /** Per interval: closes first, then the open candle's new state. */
  readonly candles: CandleMessage[];
  /** Markets whose ticker content may have changed (trades, or trades leaving the 24 h window). */
  readonly tickerChanges: Set<string>;
}

class MarketSeries {
  last: number | null;
  readonly candles = new Map<CandleInterval, CandleSeries>();
  readonly window: RollingWindow;
  readonly recent: RecentTrades;

  constructor(state: MarketSeriesState | undefined) {
    this.last = state?.last ?? null;
    for (const interval of CANDLE_INTERVALS)
      this.candles.set(interval, new CandleSeries(CANDLE_INTERVAL_MS[interval], MAX_CANDLES, state?.candles[interval]));
    this.window = new RollingWindow(undefined, state?.window);
    this.recent = new RecentTrades(MAX_RECENT_TRADES, state?.recent);
  }
}

export function candlesTopic(sym: string, interval: CandleInterval): string {
  return `candles/${sym}/${interval}`;
}

export function tickerTopic(sym: string): string {
  return `ticker/${sym}`;
}

/** The trades among a batch's command results, by market, in order. */
export function tradesOf(results: readonly CommandResult[]): Map<string, TradePrint[]> {
  const bySym = new Map<string, TradePrint[]>();
  for (const result of results) {
    for (const event of result.events) {
      if (event.kind !== 'trade') continue;
      const trade: TradePrint = {
        sym: event.sym,
        tradeId: event.tradeId,
        px: event.px,
        qty: event.qty,
        side: event.takerSide,
        ts: event.ts,
      };
      const list = bySym.get(event.sym);
      if (list) list.push(trade);
      else bySym.set(event.sym, [trade]);
    }
  }
  return bySym;
}

export class MarketStats {
  private readonly series = new Map<string, MarketSeries>();
  /** Engine time of the latest batch applied (ms). */
  private time: number;

  constructor(syms: readonly string[], state?: MarketDataState) {
    this.time = state?.time ?? 0;
    for (const sym of syms) this.series.set(sym, new MarketSeries(state?.markets[sym]));
  }

  /** One journaled batch stamped `ts`, with its trades by market: the candle messages and ticker changes it makes. */
  apply(ts: number, trades: ReadonlyMap<string, readonly TradePrint[]>): BatchMarketData {
    const out: BatchMarketData = { candles: [], tickerChanges: new Set() };
    this.advance(ts, trades, out);
    return out;
  }

  /** A replayed record's trades (recovery, from a trades-only listener), stamped with the record's first command's ts. */
  applyTrades(ts: number, prints: readonly TradePrint[]): void {
    const bySym = new Map<string, TradePrint[]>();
    for (const print of prints) {
      const list = bySym.get(print.sym);
      if (list) list.push(print);
      else bySym.set(print.sym, [print]);
    }
    this.advance(ts, bySym, null);
  }

  /** A replayed journal record (recovery): what the live batch it was did to market data, no messages built. */
  applyRecord(entries: readonly JournalEntry[], results: readonly CommandResult[]): void {
    const first = entries[0];
    if (first !== undefined) this.advance(first.command.ts, tradesOf(results), null);
  }

  private advance(ts: number, trades: ReadonlyMap<string, readonly TradePrint[]>, out: BatchMarketData | null): void {
    if (ts > this.time) this.time = ts;
    const now = this.time;
    for (const [sym, series] of this.series) {
      const prints = trades.get(sym);
      if (series.window.evict(now)) out?.tickerChanges.add(sym);
      for (const [interval, candles] of series.candles) {
        const closed = candles.closeIfEnded(now);
        if (closed && out) out.candles.push({ type: 'candle', sym, interval, ...closed, closed: true });
        if (prints === undefined || prints.length === 0) continue;
        for (const print of prints) candles.add(print.px, print.qty, now);
        if (out) out.candles.push({ type: 'candle', sym, interval, ...candles.openCandle()!, closed: false });
      }
      if (prints === undefined || prints.length === 0) continue;
      for (const print of prints) {
        series.window.add(print.px, print.qty, now);
        series.recent.add({ tradeId: print.tradeId, px: print.px, qty: print.qty, side: print.side, ts: print.ts });
        series.last = print.px;
      }
      out?.tickerChanges.add(sym);
    }
  }

  candles(sym: string, interval: CandleInterval, limit: number): CandlesSnapshot {
    const candles = this.market(sym).candles.get(interval)!.latest(limit);
    return { type: 'candles', sym, interval, snapshot: true, candles };
  }

  recentTrades(sym: string, n: number): TradesSnapshot {
    return { type: 'trades', sym, snapshot: true, trades: this.market(sym).recent.latest(n) };
  }

  /** The ticker as of the latest batch applied, with the best bid and ask `book` has now. */
  ticker(sym: string, book: BookSource): TickerMessage {
    const series = this.market(sym);
    const bid = book.top('buy', 1)[0];
    const ask = book.top('sell', 1)[0];
    const window = series.window.stats();
    return {
      type: 'ticker',
      sym,
      bid: bid?.[0] ?? null,
      bidQty: bid?.[1] ?? null,
      ask: ask?.[0] ?? null,
      askQty: ask?.[1] ?? null,
      last: series.last,
      open: window?.open ?? null,
      high: window?.high ?? null,
      low: window?.low ?? null,
      volume: window?.volume ?? 0,
      change: window && series.last !== null ? series.last - window.open : null,
      ts: this.time,
    };
  }

  export(): MarketDataState {
    const markets: Record<string, MarketSeriesState> = {};
    for (const [sym, series] of this.series) {
      const candles = {} as Record<CandleInterval, CandleSeriesState>;
      for (const [interval, list] of series.candles) candles[interval] = list.export();
      markets[sym] = { last: series.last, candles, window: series.window.export(), recent: series.recent.latest(MAX_RECENT_TRADES) };
    }
    return { time: this.time, markets };
  }

  private market(sym: string): MarketSeries {
    const series = this.series.get(sym);
    if (!series) throw new Error(`no market data for ${sym}`);
    return series;
  }
}
