// The typed client's public surface apart from the client itself: the WebSocket subset it needs,
// its options, its errors and the shapes of request parameters.
import type { OrderKind, RejectCode, Side, StpMode, Tif } from './constants.js';
import type { LocalBook } from './local-book.js';
import type { OrderRef, Reject } from './messages.js';

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

export type ClientErrorKind = 'timeout' | 'closed' | 'too_many_pending' | 'unexpected_reply' | 'connect_failed';

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
  /** Resending a place whose reply was lost (needs `cid`): an order with that cid is answered, not doubled. */
  readonly retry?: boolean;
}

/** An order by server id (number), by cid (string), or as an OrderRef. */
export type OrderRefInput = OrderRef | number | string;

export interface AmendParams {
  readonly qty?: number;
  readonly px?: number;
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

