// Typed shapes of everything on the wire. Requests are what the validator produces from an
// untrusted frame; server messages are what the gateway sends and the client receives.
import type {
  BookInterval,
  CancelReason,
  CandleInterval,
  Channel,
  ExecStatus,
  Liquidity,
  OrderKind,
  RejectCode,
  Side,
  TransferOp,
  StpMode,
  Tif,
} from './constants.js';

export type Rid = number | string;

/** Orders are addressed either by the server's id or by the account's own cid. */
export type OrderRef = { readonly id: number } | { readonly cid: string };

export interface LoginRequest {
  readonly op: 'login';
  readonly rid?: Rid;
  readonly token: string;
  /** Spotwire extension: cancel the account's open orders when this connection closes. */
  readonly cancelOnDisconnect: boolean;
  /** Spotwire extension: the last private `pseq` seen; the server sends what came after it. */
  readonly resumeFrom: number | null;
  /** The `epoch` of the login reply that `resumeFrom` counts in. */
  readonly epoch: string | null;
}
export interface MarketsRequest {
  readonly op: 'markets';
  readonly rid?: Rid;
}
export interface SubRequest {
  readonly op: 'sub';
  readonly rid?: Rid;
  readonly ch: Channel;
  readonly sym: string;
  readonly depth: number;
  /** book only: 0 = a delta per batch; otherwise at most one merged delta per interval (ms). */
  readonly interval: BookInterval;
  /** `candles` only (the wire's `interval` there): which series, and how many candles its snapshot may hold (else null / the default). */
  readonly candleInterval: CandleInterval | null;
  readonly limit: number;
  /** `trades` only: a snapshot of up to this many recent trades first; null: none (the contract's behaviour). */
  readonly recent: number | null;
}
export interface UnsubRequest {
  readonly op: 'unsub';
  readonly rid?: Rid;
  readonly ch: Channel;
  readonly sym: string;
  /** `candles` only (the wire's `interval`, required there); null on the other channels. */
  readonly candleInterval: CandleInterval | null;
}
export interface PlaceRequest {
  readonly op: 'place';
  readonly rid?: Rid;
  readonly sym: string;
  readonly side: Side;
  readonly kind: OrderKind;
  /** Limit price in ticks; null for market orders. */
  readonly px: number | null;
  readonly qty: number;
  readonly tif: Tif;
  readonly post: boolean;
  readonly stp: StpMode;
  readonly cid: string | null;
  /** [Spotwire] This place may repeat one whose reply was lost: an order with this cid answers instead. */
  readonly retry?: true;
}
export interface CancelRequest {
  readonly op: 'cancel';
  readonly rid?: Rid;
  readonly sym: string;
  readonly ref: OrderRef;
}
export interface CancelAllRequest {
  readonly op: 'cancel_all';
  readonly rid?: Rid;
  readonly sym: string | null;
}
export interface AmendRequest {
  readonly op: 'amend';
  readonly rid?: Rid;
  readonly sym: string;
  readonly ref: OrderRef;
  readonly qty: number | null;
  readonly px: number | null;
}
export interface OrdersRequest {
  readonly op: 'orders';
  readonly rid?: Rid;
  readonly sym: string | null;
  /** Orders per page, 1 to MAX_ORDERS_PAGE (the default). */
  readonly limit: number;
  /** The `next` of the previous page; null: from the oldest open order. */
  readonly after: string | null;
}
export interface PingRequest {
  readonly op: 'ping';
  readonly rid?: Rid;
}
export interface BalancesRequest {
  readonly op: 'balances';
  readonly rid?: Rid;
  /** Another account's balances (admin only); null: the connection's own. */
  readonly account: string | null;
}
export interface TransferRequest {
  readonly op: TransferOp;
  readonly rid?: Rid;
  readonly account: string;
  readonly asset: string;
  /** In the asset's ledger units (see `assets` in the markets reply). */
  readonly amount: number;
  readonly ref: string;
}

/** The dead-man switch: unless renewed within `timeout` ms, all the account's orders are canceled. */
export interface CancelAfterRequest {
  readonly op: 'cancel_after';
  readonly rid?: Rid;
  /** ms from now; 0 turns the switch off. */
  readonly timeout: number;
}
/** One order's current or final state, by id or cid (recently closed ones too). */
export interface OrderRequest {
  readonly op: 'order';
  readonly rid?: Rid;
  readonly sym: string;
  readonly ref: OrderRef;
}
/** The account's recent fills, newest first, paged by `before` (the `n` of the last one seen). */
export interface MyTradesRequest {
  readonly op: 'my_trades';
  readonly rid?: Rid;
  readonly sym: string | null;
  readonly limit: number;
  readonly before: number | null;
  /** A `next` cursor of an earlier reply (the page continues in the history). */
  readonly after: string | null;
  /** ts window [from, to) in ms; null: unbounded. */
  readonly from: number | null;
  readonly to: number | null;
}
export type Request =
  | LoginRequest
  | MarketsRequest
  | SubRequest
  | UnsubRequest
  | PlaceRequest
  | CancelRequest
  | CancelAllRequest
  | AmendRequest
  | OrdersRequest
  | PingRequest
  | BalancesRequest
  | TransferRequest
  | CancelAfterRequest
  | OrderRequest
  | MyTradesRequest;

// ---- server → client ----

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

export interface BalanceView {
  asset: string;
  available: number;
  hold: number;
}

/** A price level on the wire: [px, aggregate qty]; qty 0 in a delta means the level is gone. */
export type Level = [px: number, qty: number];

export interface OrderView {
  sym: string;
  id: number;
  cid: string | null;
  side: Side;
  kind: OrderKind;
  tif: Tif;
  post: boolean;
  px: number | null;
  qty: number;
  filled: number;
  leaves: number;
  status: 'new' | 'partial';
  ts: number;
}

/**
 * An order as its last exec left it: open (`new`/`partial`; `ts` when it was accepted) or closed
 * (`filled`/`canceled`; `ts` when it closed, and a canceled one's `reason`).
 */
export type OrderStateView = Pick<Exec, 'sym' | 'id' | 'cid' | 'side' | 'status' | 'px' | 'qty' | 'filled' | 'leaves' | 'reason' | 'ts'>;
/** One of the account's fills; `n` numbers it in the account's fill history of this server life (for paging); fills from Postgres have none. */
export interface MyTrade {
  n?: number;
  sym: string;
  tradeId: number;
  orderId: number;
  cid: string | null;
  side: Side;
  px: number;
  qty: number;
  liquidity: Liquidity;
  fee: number;
  feeAsset: string;
  ts: number;
}
export interface MyTradesReply {
  type: 'my_trades';
  rid?: Rid;
  trades: MyTrade[];
  /** More fills match past this page: ask again with `before` = the last one's `n`, or with `after` = `next` when it is given. */
  more: boolean;
  /** [Spotwire] The cursor to pass as `after` when the next page comes from the history in Postgres. */
  next?: string;
}
export interface OrderReply {
  type: 'order';
  rid?: Rid;
  order: OrderStateView;
}

export interface Fill {
  tradeId: number;
  px: number;
  qty: number;
  liquidity: Liquidity;
  fee: number;
  /** The asset the fee is charged in: the one this side received. */
  feeAsset: string;
}

export interface LoginReply {
  type: 'login';
  rid?: Rid;
  account: string;
  /** The account's last private-stream pseq so far (0: none) and the server life it counts in. */
  pseq: number;
  epoch: string;
  /** With resumeFrom: how many missed messages follow this reply, or why they cannot (then take snapshots). */
  resumed?: number;
  resumeGap?: string;
}
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
export interface OrdersReply {
  type: 'orders';
  rid?: Rid;
  orders: OrderView[];
  /** Spotwire sends both: `more` true when open orders are left past this page, `next` the cursor to ask for them. */
  more?: boolean;
  next?: string | null;
}
export interface PongReply {
  type: 'pong';
  rid?: Rid;
  ts: number;
}
/** The switch as it now stands: `triggerAt` (server ms) unless renewed, or null when off. */
export interface CancelAfterAck {
  type: 'ack';
  rid?: Rid;
  op: 'cancel_after';
  timeout: number;
  triggerAt: number | null;
}
export interface Ack {
  type: 'ack';
  rid?: Rid;
  op: 'place' | 'cancel' | 'cancel_all' | 'amend';
  id?: number;
  cid?: string | null;
  canceled?: number;
  ts?: number;
  /** [Spotwire] A `place` with `retry` whose cid names an order already placed: that order, no new one. */
  duplicate?: true;
  order?: OrderStateView;
}
export interface BalancesReply {
  type: 'balances';
  rid?: Rid;
  balances: BalanceView[];
}
export interface TransferAck {
  type: 'ack';
  rid?: Rid;
  op: TransferOp;
  ref: string;
  account: string;
  asset: string;
  available: number;
  hold: number;
  /** Present when this ref was applied before: nothing changed this time. */
  duplicate?: true;
}
/** Sent after each batch that changed one of the account's balances, after that batch's execs. */
export interface BalanceMessage {
  type: 'balance';
  /** Position in the account's private stream (execs and balances), rising by 1. */
  pseq?: number;
  asset: string;
  available: number;
  hold: number;
  ts: number;
}
export interface Reject {
  type: 'reject';
  rid?: Rid;
  op: string | null;
  code: RejectCode;
  msg: string;
  /** On `rate_limited`: ms until the connection may send one more request. */
  retryAfterMs?: number;
}
export interface ErrorMessage {
  type: 'error';
  code: RejectCode;
  msg: string;
}
export interface Exec {
  type: 'exec';
  /** Position in the account's private stream, set by the gateway (never by the engine). */
  pseq?: number;
  sym: string;
  id: number;
  cid: string | null;
  side: Side;
  status: ExecStatus;
  px: number | null;
  qty: number;
  leaves: number;
  filled: number;
  fill?: Fill;
  reason?: CancelReason;
  /** Spotwire extension: present and true on the exec that reports an amend. */
  amended?: true;
  ts: number;
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

export type Reply =
  | LoginReply
  | MarketsReply
  | SubbedReply
  | UnsubbedReply
  | OrdersReply
  | PongReply
  | Ack
  | BalancesReply
  | TransferAck
  | CancelAfterAck
  | OrderReply
  | MyTradesReply
  | Reject;

export type MarketDataMessage = TradesSnapshot | CandlesSnapshot | CandleMessage | TickerMessage;

export type ServerMessage = Reply | ErrorMessage | Exec | BookMessage | TradeMessage | BalanceMessage | MarketDataMessage;
