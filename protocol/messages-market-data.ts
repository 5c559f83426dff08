// Typed shapes of the server's market messages: the markets list, subscriptions and what each
// channel sends (book, trades, candles, ticker).
import type { CandleInterval, Channel, Side } from './constants.js';
import type { Rid } from './messages-requests.js';

export interface MarketInfo {
  readonly sym: string;
  readonly base: string;
  readonly quote: string;
  readonly pxDecimals: number;
  readonly qtyDecimals: number;
  /** Parts per million of what the maker side of a fill receives. */
  readonly makerFee: number;
  /** Parts per million of what the taker side of a fill receives. */
  readonly takerFee: number;
}

/** An asset's ledger unit: an amount n means n / 10^decimals of the asset. */
export interface AssetInfo {
  readonly asset: string;
  readonly decimals: number;
}

/** A price level on the wire: [px, aggregate qty]; qty 0 in a delta means the level is gone. */
export type Level = [px: number, qty: number];

export interface MarketsReply {
  type: 'markets';
  rid?: Rid;
  markets: MarketInfo[];
  assets: AssetInfo[];
}
export interface SubbedReply {
  type: 'subbed';
  rid?: Rid;
  ch: Channel;
  sym: string;
  depth?: number;
  /** On `candles`. */
  interval?: CandleInterval;
}
export interface UnsubbedReply {
  type: 'unsubbed';
  rid?: Rid;
  ch: Channel;
  sym: string;
  /** On `candles`. */
  interval?: CandleInterval;
}
export interface BookMessage {
  type: 'book';
  sym: string;
  seq: number;
  /** On a merged delta of a subscription with an `interval`: the first seq it covers (`seq` is the last). */
  seqFrom?: number;
  snapshot?: true;
  bids: Level[];
  asks: Level[];
  cs: number;
}
export interface TradeMessage {
  type: 'trade';
  sym: string;
  tradeId: number;
  px: number;
  qty: number;
  side: Side;
  ts: number;
}

/** A trade as the `recent` snapshot lists it: the `trade` message without type and sym. */
export interface RecentTrade {
  tradeId: number;
  px: number;
  qty: number;
  side: Side;
  ts: number;
}
/** The `recent` snapshot of the trades channel, oldest first; live `trade` messages follow. */
export interface TradesSnapshot {
  type: 'trades';
  sym: string;
  snapshot: true;
  trades: RecentTrade[];
}
/** OHLCV of one interval: `t` its start (engine ms, aligned in UTC), prices in ticks, `v` lots, `n` trades. */
export interface Candle {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
}
/** The last candles of a series, oldest first; the last may be the open one. */
export interface CandlesSnapshot {
  type: 'candles';
  sym: string;
  interval: CandleInterval;
  snapshot: true;
  candles: Candle[];
}
/** One candle's new state: the open candle after a batch's trades, or a candle's final state (`closed`). */
export interface CandleMessage extends Candle {
  type: 'candle';
  sym: string;
  interval: CandleInterval;
  closed: boolean;
}
/** Best bid/ask with their level qty, last trade price and the rolling 24 h window, as of engine time `ts`. */
export interface TickerMessage {
  type: 'ticker';
  sym: string;
  bid: number | null;
  bidQty: number | null;
  ask: number | null;
  askQty: number | null;
  last: number | null;
  open: number | null;
  high: number | null;
  low: number | null;
  volume: number;
  change: number | null;
  ts: number;
}

export type MarketDataMessage = TradesSnapshot | CandlesSnapshot | CandleMessage | TickerMessage;
