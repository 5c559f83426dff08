// The market-data messages beyond book and trades, as agreed for issue 10 (docs/PROTOCOL.md
// "Candles", "Ticker", "Recent trades"), and what the page does without them: a server that does
// not know the candles or ticker channel rejects the sub, and the page then builds 1-minute candles
// and the ticker from the trades and the book it already has, and says so.
import type { LocalBook, Side, TradeMessage } from '@spotwire/client';

export const CANDLE_INTERVALS = ['1m', '5m', '15m', '1h', '1d'] as const;
export type CandleInterval = (typeof CANDLE_INTERVALS)[number];
export const INTERVAL_MS: Readonly<Record<CandleInterval, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/** One OHLCV bar: t its interval's start (ms, UTC-aligned), prices in ticks, v in lots, n trades. */
export interface Candle {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
}
export interface CandlesSnapshot {
  type: 'candles';
  sym: string;
  interval: CandleInterval;
  snapshot: true;
  candles: Candle[];
}
export interface CandleUpdate extends Candle {
  type: 'candle';
  sym: string;
  interval: CandleInterval;
  closed: boolean;
}
export interface Ticker {
  type: 'ticker';
  sym: string;
  bid: number | null;
  bidQty: number;
  ask: number | null;
  askQty: number;
  last: number | null;
  open: number | null;
  high: number | null;
  low: number | null;
  volume: number;
  change: number | null;
  ts: number;
}
export interface RecentTrade {
  tradeId: number;
  px: number;
  qty: number;
  side: Side;
  ts: number;
}
export interface RecentTrades {
  type: 'trades';
  sym: string;
  snapshot: true;
  trades: RecentTrade[];
}
export type MarketDataMessage = CandlesSnapshot | CandleUpdate | Ticker | RecentTrades;

const TYPES = new Set(['candles', 'candle', 'ticker', 'trades']);
export function isMarketData(message: { type: string }): message is MarketDataMessage {
  return TYPES.has(message.type);
}

/** The most candles the page keeps for a market. */
export const MAX_CANDLES = 1000;

/** Puts `candle` in place in `candles` (oldest first): replaces the bar with its t, or appends. */
export function upsertCandle(candles: Candle[], candle: Candle): void {
  const last = candles[candles.length - 1];
  const bar = { t: candle.t, o: candle.o, h: candle.h, l: candle.l, c: candle.c, v: candle.v, n: candle.n };
  if (last !== undefined && last.t === bar.t) candles[candles.length - 1] = bar;
  else if (last === undefined || last.t < bar.t) candles.push(bar);
  else {
    const index = candles.findIndex((c) => c.t >= bar.t);
    if (candles[index]!.t === bar.t) candles[index] = bar;
    else candles.splice(index, 0, bar);
  }
  if (candles.length > MAX_CANDLES) candles.splice(0, candles.length - MAX_CANDLES);
}

/** The fallback: folds one trade into page-built candles of `intervalMs`. */
export function foldTrade(candles: Candle[], trade: Pick<TradeMessage, 'px' | 'qty' | 'ts'>, intervalMs: number): void {
  const t = trade.ts - (trade.ts % intervalMs);
  const last = candles[candles.length - 1];
  if (last !== undefined && last.t === t) {
    upsertCandle(candles, { ...last, h: Math.max(last.h, trade.px), l: Math.min(last.l, trade.px), c: trade.px, v: last.v + trade.qty, n: last.n + 1 });
  } else if (last === undefined || last.t < t) {
    upsertCandle(candles, { t, o: trade.px, h: trade.px, l: trade.px, c: trade.px, v: trade.qty, n: 1 });
  }
}

/** The fallback ticker: best levels from the book, last from the trades seen, no 24 h window. */
export function pageTicker(sym: string, book: LocalBook | null, last: TradeMessage | RecentTrade | undefined, ts: number): Ticker {
  const bid = book?.bestBid;
  const ask = book?.bestAsk;
  return {
    type: 'ticker',
    sym,
    bid: bid?.[0] ?? null,
    bidQty: bid?.[1] ?? 0,
    ask: ask?.[0] ?? null,
    askQty: ask?.[1] ?? 0,
    last: last?.px ?? null,
    open: null,
    high: null,
    low: null,
    volume: 0,
    change: null,
    ts,
  };
}
