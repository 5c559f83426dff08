// Per-socket state: who is logged in, what it subscribes to, its request budget and the requests
// waiting for their turn.
import type { WebSocket } from 'uWebSockets.js';
import type { CandleInterval, Role } from '../../protocol/constants.js';

export interface SocketData {
  connection: Connection | null;
}

export class Connection {
  account: string | null = null;
  role: Role = 'trader';
  cancelOnDisconnect = false;
  /** sym → subscribed depth. */
  readonly bookSubs = new Map<string, number>();
  readonly tradeSubs = new Set<string>();
  /** sym → subscribed candle intervals. */
  readonly candleSubs = new Map<string, Set<CandleInterval>>();
  readonly tickerSubs = new Set<string>();
  closed = false;
  /** The decoded frame being handled (request-intake.ts), from `inboxHead` on. */
  inbox: unknown[] = [];
  inboxHead = 0;
  /** Frames waiting behind it, as bytes (null: a text frame), and their size. */
  frames: (Uint8Array | null)[] = [];
  waitingBytes = 0;
  /** Work units of this connection's replies in batches not yet released. */
  unreleasedUnits = 0;
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly id: number,
    readonly ws: WebSocket<SocketData>,
    /** Remote address as text: connections per address are capped. */
    readonly ip: string,
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = ratePerSecond;
    this.refilledAt = now;
  }

  /** Subscriptions held, over all channels. */
  get subscriptionCount(): number {
    let candles = 0;
    for (const intervals of this.candleSubs.values()) candles += intervals.size;
    return this.bookSubs.size + this.tradeSubs.size + this.tickerSubs.size + candles;
  }

  /** Token bucket, burst of one second's worth: false when the request must be rate_limited. */
  takeToken(now: number): boolean {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** After a refused takeToken: ms until the bucket holds a whole token again (≥ 1). */
  retryAfterMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }
}
