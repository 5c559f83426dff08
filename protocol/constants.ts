// The protocol's closed vocabularies as `as const` tables; every type below is derived from them
// so that adding a value in one place is enough. What each one means on the wire: docs/PROTOCOL.md.

export const OPS = [
  'login',
  'markets',
  'sub',
  'unsub',
  'place',
  'cancel',
  'cancel_all',
  'amend',
  'orders',
  'ping',
  'balances',
  'deposit',
  'withdraw',
  'cancel_after',
  'order',
  'my_trades',
] as const;
export type Op = (typeof OPS)[number];

/** Ops that act on an account's orders and so need a logged-in connection. */
export const TRADING_OPS = ['place', 'cancel', 'cancel_all', 'amend', 'orders'] as const;
export type TradingOp = (typeof TRADING_OPS)[number];

/** Ops that move funds in or out of an account: admin only, journaled like orders. */
export const TRANSFER_OPS = ['deposit', 'withdraw'] as const;
export type TransferOp = (typeof TRANSFER_OPS)[number];

/** A keys-file role; `admin` may transfer funds and read any account's balances. */
export const ROLES = ['trader', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The reserved account that fees are credited to; no key may name it. */
export const FEES_ACCOUNT = '@fees';
/** Fee rates are parts per million of what the paying side receives. */
export const FEE_RATE_SCALE = 1_000_000;

export const SIDES = ['buy', 'sell'] as const;
export type Side = (typeof SIDES)[number];

/** Append only: the journal stores a kind as its index here. `stop` is Spotwire's. */
export const ORDER_KINDS = ['limit', 'market', 'stop'] as const;
export type OrderKind = (typeof ORDER_KINDS)[number];

/**
 * An iceberg (a gtc limit order with `display`) shows at most this many slices over its life:
 * ceil(leaves / display) may not pass it (Binance's ICEBERG_PARTS). It bounds the fills one
 * taker can make against one iceberg.
 */
export const MAX_ICEBERG_PARTS = 100;

export const TIFS = ['gtc', 'ioc', 'fok'] as const;
export type Tif = (typeof TIFS)[number];

export const STP_MODES = ['none', 'cancel_taker', 'cancel_maker', 'cancel_both'] as const;
export type StpMode = (typeof STP_MODES)[number];

export const CHANNELS = ['book', 'trades', 'candles', 'ticker'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Candle intervals and their length in ms; candles start at multiples of it since the epoch (UTC). */
export const CANDLE_INTERVAL_MS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type CandleInterval = keyof typeof CANDLE_INTERVAL_MS;
export const CANDLE_INTERVALS = Object.keys(CANDLE_INTERVAL_MS) as CandleInterval[];

export const EXEC_STATUSES = ['new', 'partial', 'filled', 'canceled', 'rejected'] as const;
export type ExecStatus = (typeof EXEC_STATUSES)[number];

export const CANCEL_REASONS = ['user', 'ioc', 'market', 'stp', 'disconnect', 'amend', 'timeout', 'insufficient_funds'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export const LIQUIDITY = ['maker', 'taker'] as const;
export type Liquidity = (typeof LIQUIDITY)[number];

/**
 * Every reject/error code with its default human message: one catalogue (as fastify keeps its
 * errors). The contract's codes come first (`forbidden` since 1.1); `too_many_orders`, `shutting_down`
 * and `too_many_connections` are Spotwire's.
 */
export const REJECT_CODES = {
  bad_frame: 'frame is not a MessagePack map or array of maps',
  bad_request: 'request is malformed',
  bad_number: 'must be a safe positive integer',
  unknown_market: 'unknown market',
  unknown_order: 'unknown order',
  unauthenticated: 'login required',
  rate_limited: 'too many requests',
  post_would_take: 'post-only order would take liquidity',
  fok_unfilled: 'fill-or-kill order cannot fill completely',
  no_liquidity: 'no liquidity to fill a market order',
  duplicate_cid: 'cid is already used by an open order of this account',
  insufficient_funds: 'insufficient funds',
  overloaded: 'server overloaded',
  forbidden: 'this connection may not do that (admin only)',
  internal: 'internal error',
  too_many_orders: 'too many open orders for this account',
  shutting_down: 'server is shutting down',
  too_many_connections: 'this account has too many connections logged in',
  unavailable: 'the matching core cannot be reached',
} as const;
export type RejectCode = keyof typeof REJECT_CODES;

export const DEFAULT_BOOK_DEPTH = 50;
export const MAX_BOOK_DEPTH = 1000;
/** `sub` book `interval` (ms): 0 sends a delta per batch; others merge a market's deltas over that time. */
export const BOOK_INTERVALS = [0, 100, 250, 500, 1000] as const;
export type BookInterval = (typeof BOOK_INTERVALS)[number];
/** Levels per side that the `cs` checksum covers. */
export const CHECKSUM_LEVELS = 10;
export const MAX_CID_LENGTH = 36;
export const MAX_TOKEN_LENGTH = 256;
export const MAX_RID_STRING_LENGTH = 64;
export const MAX_SYM_LENGTH = 32;
export const MAX_ACCOUNT_LENGTH = 64;
export const MAX_ASSET_LENGTH = 16;
export const MAX_REF_LENGTH = 64;
/** Messages one array frame may hold; a longer array is refused whole with `bad_frame`. */
export const MAX_MESSAGES_PER_FRAME = 1024;
/**
 * Orders one `orders` reply may carry (its `limit` default and maximum): a reply is then at most
 * ~250 KB, under a quarter of the socket's backpressure limit, whatever the open-order cap.
 */
export const MAX_ORDERS_PAGE = 1000;
/**
 * The dead-man switch's `timeout` (ms) when armed: long enough to outlast a slow round trip, and
 * at most a day. 0 disarms it.
 */
export const MIN_CANCEL_AFTER_MS = 100;
export const MAX_CANCEL_AFTER_MS = 86_400_000;
/** Fills one `my_trades` reply may carry (its `limit` maximum; 100 by default). */
export const MAX_MY_TRADES_PAGE = 1000;
/** Longest `after` cursor accepted (it names one order per market: sym ≤ 32 chars and an id). */
export const MAX_CURSOR_LENGTH = 16 * 1024;

/** Candles kept per market and interval, and the most a candles snapshot (`limit`) may ask for. */
export const MAX_CANDLES = 1000;
export const DEFAULT_CANDLES_LIMIT = 500;
/** Trades kept per market for the trades channel's `recent` snapshot (its maximum). */
export const MAX_RECENT_TRADES = 500;
/** A market's ticker is published at most once per this many ms (the latest state, when it changed). */
export const TICKER_INTERVAL_MS = 100;
/** The ticker's rolling window: this many one-minute buckets, the current one included (24 h). */
export const TICKER_WINDOW_MINUTES = 1440;

export function isOneOf<T extends string>(table: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (table as readonly string[]).includes(value);
}
