// Typed shapes of everything on the wire. Requests are what the validator produces from an
// untrusted frame; server messages are what the gateway sends and the client receives. The shapes
// live by topic in messages-*.ts; this module is the one to import them from.
import type { RejectCode } from './constants.js';
import type {
  Ack,
  BalanceMessage,
  BalancesReply,
  CancelAfterAck,
  Exec,
  LoginReply,
  MyTradesReply,
  OrderReply,
  OrdersReply,
  TransferAck,
} from './messages-account.js';
import type { BookMessage, MarketDataMessage, MarketsReply, SubbedReply, TradeMessage, UnsubbedReply } from './messages-market-data.js';
import type { Rid } from './messages-requests.js';

export type * from './messages-account.js';
export type * from './messages-market-data.js';
export type * from './messages-requests.js';

export interface PongReply {
  type: 'pong';
  rid?: Rid;
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

export type ServerMessage = Reply | ErrorMessage | Exec | BookMessage | TradeMessage | BalanceMessage | MarketDataMessage;
