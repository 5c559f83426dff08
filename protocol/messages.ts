// Typed shapes of everything on the wire. Requests are what the validator produces from an
// untrusted frame; server messages are what the gateway sends and the client receives.
import type {
  CancelReason,
  Channel,
  ExecStatus,
  Liquidity,
  OrderKind,
  RejectCode,
  Side,
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
}
export interface UnsubRequest {
  readonly op: 'unsub';
  readonly rid?: Rid;
  readonly ch: Channel;
  readonly sym: string;
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
}
export interface PingRequest {
  readonly op: 'ping';
  readonly rid?: Rid;
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
  | PingRequest;

// ---- server → client ----

export interface MarketInfo {
  readonly sym: string;
  readonly base: string;
  readonly quote: string;
  readonly pxDecimals: number;
  readonly qtyDecimals: number;
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

export interface Fill {
  tradeId: number;
  px: number;
  qty: number;
  liquidity: Liquidity;
  fee: number;
}

export interface LoginReply {
  type: 'login';
  rid?: Rid;
  account: string;
}
export interface MarketsReply {
  type: 'markets';
  rid?: Rid;
  markets: MarketInfo[];
}
export interface SubbedReply {
  type: 'subbed';
  rid?: Rid;
  ch: Channel;
  sym: string;
  depth?: number;
}
export interface UnsubbedReply {
  type: 'unsubbed';
  rid?: Rid;
  ch: Channel;
  sym: string;
}
export interface OrdersReply {
  type: 'orders';
  rid?: Rid;
  orders: OrderView[];
}
export interface PongReply {
  type: 'pong';
  rid?: Rid;
  ts: number;
}
export interface Ack {
  type: 'ack';
  rid?: Rid;
  op: 'place' | 'cancel' | 'cancel_all' | 'amend';
  id?: number;
  cid?: string | null;
  canceled?: number;
  ts?: number;
}
export interface Reject {
  type: 'reject';
  rid?: Rid;
  op: string | null;
  code: RejectCode;
  msg: string;
}
export interface ErrorMessage {
  type: 'error';
  code: RejectCode;
  msg: string;
}
export interface Exec {
  type: 'exec';
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

export type Reply =
  | LoginReply
  | MarketsReply
  | SubbedReply
  | UnsubbedReply
  | OrdersReply
  | PongReply
  | Ack
  | Reject;

export type ServerMessage = Reply | ErrorMessage | Exec | BookMessage | TradeMessage;
