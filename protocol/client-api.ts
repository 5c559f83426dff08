// The typed client's public surface apart from the client itself: the WebSocket subset it needs,
// its options, its errors and the shapes of request parameters.
import type { OrderKind, RejectCode, Side, StpMode, Tif } from './constants.js';
import type { LocalBook } from './local-book.js';
import type { BalanceView, OrderView, OrderRef, Reject } from './messages.js';

// ---- the WebSocket we need: the browser API's subset that both browsers and `ws` provide ----

/** Handlers take `never` so that both the DOM's and `ws`'s event types are assignable. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface ClientOptions {
  /** Defaults to globalThis.WebSocket; in Node pass `WebSocket` from 'ws'. */
  readonly WebSocket?: WebSocketConstructor;
  readonly protocols?: string | string[];
  /** A request without a reply after this long is rejected with a ClientError 'timeout'. */
  readonly timeoutMs?: number;
  /** Requests awaiting a reply at once; one more is refused with a ClientError 'too_many_pending'. */
  readonly maxPending?: number;
  /**
   * Opt-in: on an unexpected close, reconnect and restore the session (see ReconnectOptions).
   * Without it a close is final, as it always was.
   */
  readonly reconnect?: ReconnectOptions;
}

/**
 * How the client comes back after an unexpected close. Attempt n waits a random time between 0
 * and min(maxDelayMs, initialDelayMs × 2^(n−1)) ("full jitter"), so that many clients dropped at
 * once do not come back in step. While it is away, requests fail at once with ClientError
 * 'disconnected' rather than queue: an order sent seconds late, at a stale price, is worse than
 * one refused.
 */
export interface ReconnectOptions {
  /** Ceiling of the first attempt's delay; default 100 ms. */
  readonly initialDelayMs?: number;
  /** Ceiling of any attempt's delay; default 10,000 ms. */
  readonly maxDelayMs?: number;
  /** Attempts in a row before giving up and closing for good; default Infinity (forever). */
  readonly maxAttempts?: number;
  /** A random number in [0, 1) per attempt; default Math.random (pass a seeded one in tests). */
  readonly random?: () => number;
  /**
   * After this long without a frame from the server the client pings; after twice this long it
   * takes the connection for dead (close code 4000) and reconnects. Default 15,000 ms; 0: off.
   */
  readonly heartbeatMs?: number;
}

export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 100;
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 10_000;
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** The close code a reconnecting client reports when the server fell silent (no frame in 2 heartbeats). */
export const HEARTBEAT_CLOSE_CODE = 4000;

/** `open`: usable; `reconnecting`: away, requests fail fast; `closed`: for good. */
export type ClientState = 'open' | 'reconnecting' | 'closed';

/** Emitted before each reconnect attempt, with the close that started the outage. */
export interface ReconnectingEvent {
  /** 1 for the first attempt after a drop. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly code: number;
  readonly reason: string;
}

/**
 * Emitted when a reconnect has restored the session: logged in again, private messages
 * `fromPseq`+1 … `toPseq` replayed (`replayed` of them; 0 after a gap, see GapEvent), channels
 * resubscribed, the dead-man switch re-armed. Requests work again from here.
 */
export interface ResumedEvent {
  readonly fromPseq: number;
  readonly toPseq: number;
  readonly epoch: string;
  readonly replayed: number;
}

/**
 * Emitted just before `resumed` when the server could not replay what was missed (it restarted,
 * or more than it keeps was missed): the client has refetched the open orders and balances that
 * follow (its openOrders() and balance() already show them); fills made meanwhile are only in
 * those totals and in myTrades().
 */
export interface GapEvent {
  readonly reason: string;
  readonly orders: readonly OrderView[];
  readonly balances: readonly BalanceView[];
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_PENDING = 10_000;

// ---- errors ----

/** A `reject` reply to a typed call. */
export class RejectError extends Error {
  readonly code: RejectCode;
  readonly msg: string;
  readonly op: string | null;
  readonly reject: Reject;

  constructor(reject: Reject) {
    super(`${reject.op ?? 'request'} rejected: ${reject.code}: ${reject.msg}`);
    this.name = 'RejectError';
    this.code = reject.code;
    this.msg = reject.msg;
    this.op = reject.op;
    this.reject = reject;
  }
}

export type ClientErrorKind =
  'timeout' | 'closed' | 'too_many_pending' | 'unexpected_reply' | 'connect_failed' | 'disconnected' | 'connection_lost';

/** A failure on the client's side of the wire: no reply in time, connection gone, and so on. */
export class ClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/**
 * A reconnecting client's request that was sent but had no reply when the connection dropped:
 * the server may or may not have acted on it. Resolve an order by its cid with `order()` once the
 * client has `resumed` (so give every order a cid).
 */
export class ConnectionLostError extends ClientError {
  constructor(readonly request: RawRequest & { readonly rid: number }) {
    super('connection_lost', `connection lost before a reply to ${request.op} (rid ${request.rid})`);
    this.name = 'ConnectionLostError';
  }
}

// ---- request parameters (the wire shape, before the server's defaults) ----

export interface PlaceParams {
  readonly sym: string;
  readonly side: Side;
  readonly kind: OrderKind;
  readonly px?: number;
  readonly qty: number;
  readonly tif?: Tif;
  readonly post?: boolean;
  readonly stp?: StpMode;
  readonly cid?: string;
  /** [Spotwire] kind `stop`: the trigger price in ticks (px optional: a stop-limit with it, a stop-market without; a buy stop needs it). */
  readonly trigger?: number;
  /** [Spotwire] A gtc limit order showing at most `display` lots at a time (an iceberg; display < qty, at least qty / 100). */
  readonly display?: number;
  /** Resending a place whose reply was lost (needs `cid`): an order with that cid is answered, not doubled. */
  readonly retry?: boolean;
}

/** An order by server id (number), by cid (string), or as an OrderRef. */
export type OrderRefInput = OrderRef | number | string;

export interface AmendParams {
  readonly qty?: number;
  readonly px?: number;
  /** [Spotwire] A waiting stop's new trigger. */
  readonly trigger?: number;
}

export interface LoginOptions {
  readonly cancelOnDisconnect?: boolean;
  /**
   * Resume the private stream after a reconnect: pass `client.privateStream` of the connection
   * that dropped; the server sends the execs and balances missed since, right after the reply
   * (or says `resumeGap`: then take snapshots with orders() and balances()).
   */
  readonly resume?: { readonly epoch: string; readonly pseq: number };
}

export interface BookSubscribeOptions {
  readonly depth?: number;
  /** ms between merged deltas (0, 100, 250, 500 or 1000; absent: a delta per batch). */
  readonly interval?: number;
  readonly onUpdate?: (book: LocalBook) => void;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** A request as sent: any map with an `op`; `rid` is set by the client. */
export type RawRequest = { readonly op: string } & Readonly<Record<string, unknown>>;
