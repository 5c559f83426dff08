// The market-data channels beyond book and trades (docs/PROTOCOL.md: candles, ticker, recent
// trades; the types are the client's), and what the page does without them: a server that does
// not know the candles or ticker channel rejects the sub, and the page then builds 1-minute candles
// and the ticker from the trades and the book it already has, and says so.
import type { Candle, CandleInterval, LocalBook, RecentTrade, TickerMessage, TradeMessage } from '@spotwire/client';

export type {
  Candle,
  CandleInterval,
  CandleMessage,
  CandlesSnapshot,
  MarketDataMessage,
  RecentTrade,
  TickerMessage as Ticker,
  TradesSnapshot,
} from '@spotwire/client';

export const INTERVAL_MS: Readonly<Record<CandleInterval, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

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
    upsertCandle(candles, {
      ...last,
      h: Math.max(last.h, trade.px),
      l: Math.min(last.l, trade.px),
      c: trade.px,
      v: last.v + trade.qty,
      n: last.n + 1,
    });
  } else if (last === undefined || last.t < t) {
    upsertCandle(candles, { t, o: trade.px, h: trade.px, l: trade.px, c: trade.px, v: trade.qty, n: 1 });
  }
}

/** The fallback ticker: best levels from the book, last from the trades seen, no 24 h window. */
export function pageTicker(sym: string, book: LocalBook | null, last: TradeMessage | RecentTrade | undefined, ts: number): TickerMessage {
  const bid = book?.bestBid;
  const ask = book?.bestAsk;
  return {
    type: 'ticker',
    sym,
    bid: bid?.[0] ?? null,
    bidQty: bid?.[1] ?? null,
    ask: ask?.[0] ?? null,
    askQty: ask?.[1] ?? null,
    last: last?.px ?? null,
    open: null,
    high: null,
    low: null,
    volume: 0,
    change: null,
    ts,
  };
}
