// Typed shapes of the requests, client → server: what the validator produces from an untrusted
// frame (defaults filled in, absent fields null), not what a client puts on the wire.
import type { BookInterval, CandleInterval, Channel, OrderKind, Side, TransferOp, StpMode, Tif } from './constants.js';

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
  /** Limit price in ticks; null for market orders and stop-market orders. */
  readonly px: number | null;
  readonly qty: number;
  readonly tif: Tif;
  readonly post: boolean;
  readonly stp: StpMode;
  readonly cid: string | null;
  /** [Spotwire] A stop's trigger price in ticks (kind `stop` only; there px is optional). */
  readonly trigger?: number;
  /** [Spotwire] An iceberg's slice size in lots (gtc limit orders only; 1 ≤ display < qty). */
  readonly display?: number;
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
  /** [Spotwire] A waiting stop's new trigger. */
  readonly trigger?: number;
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
