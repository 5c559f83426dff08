// Typed shapes of the server's account and order messages: the logged-in session, order acks and
// execs, open-order and fill queries, balances and transfers.
import type { CancelReason, ExecStatus, Liquidity, OrderKind, Side, TransferOp, Tif } from './constants.js';
import type { Rid } from './messages-requests.js';

export interface BalanceView {
  asset: string;
  available: number;
  hold: number;
}

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
  /** [Spotwire] A stop order's trigger price, and whether it has triggered (false: it waits, outside the book). */
  trigger?: number;
  triggered?: boolean;
  /** [Spotwire] An iceberg's slice size: the most of it the book shows at once. */
  display?: number;
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
export interface OrdersReply {
  type: 'orders';
  rid?: Rid;
  orders: OrderView[];
  /** Spotwire sends both: `more` true when open orders are left past this page, `next` the cursor to ask for them. */
  more?: boolean;
  next?: string | null;
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
  /** Spotwire extension: present and true on the exec that reports a stop's trigger (before its fills). */
  triggered?: true;
  ts: number;
}
