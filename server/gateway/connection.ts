// Per-socket state: who is logged in, what it subscribes to, its request budgets and the requests
// waiting for their turn.
import type { WebSocket } from 'uWebSockets.js';
import type { BookInterval, CandleInterval, Role } from '../../protocol/constants.js';
import { TokenBucket } from './token-bucket.js';

export interface SocketData {
  connection: Connection | null;
}

export class Connection {
  account: string | null = null;
  role: Role = 'trader';
  cancelOnDisconnect = false;
  /** sym → the subscribed book view. */
  readonly bookSubs = new Map<string, { readonly depth: number; readonly interval: BookInterval }>();
  readonly tradeSubs = new Set<string>();
  /** sym → subscribed candle intervals. */
  readonly candleSubs = new Map<string, Set<CandleInterval>>();
  readonly tickerSubs = new Set<string>();
  /** Book views left while the socket was backed up: each gets a fresh snapshot once it drains. */
  readonly suspendedBooks = new Map<string, { readonly depth: number; readonly interval: BookInterval }>();
  closed = false;
  /** The decoded frame being handled (request-intake.ts), from `inboxHead` on. */
  inbox: unknown[] = [];
  inboxHead = 0;
  /** Frames waiting behind it, as bytes (null: a text frame), and their size. */
  frames: (Uint8Array | null)[] = [];
  waitingBytes = 0;
  /** `my_trades`/`order` queries of this connection waiting for Postgres. */
  historyQueries = 0;
  /** Work units of this connection's replies in batches not yet released. */
  unreleasedUnits = 0;
  /** The per-connection request limit. */
  readonly requests: TokenBucket;
  /** The account's limit across its connections, shared by them once logged in (null: none). */
  accountRequests: TokenBucket | null = null;

  constructor(
    readonly id: number,
    readonly ws: WebSocket<SocketData>,
    /** Remote address as text: connections per address are capped. */
    readonly ip: string,
    ratePerSecond: number,
    now: number,
  ) {
    this.requests = new TokenBucket(ratePerSecond, now);
  }

  /** Subscriptions held, over all channels. */
  get subscriptionCount(): number {
    let candles = 0;
    for (const intervals of this.candleSubs.values()) candles += intervals.size;
    return this.bookSubs.size + this.tradeSubs.size + this.tickerSubs.size + candles;
  }
}
