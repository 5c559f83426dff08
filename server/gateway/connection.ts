// Per-socket state: who is logged in, what it subscribes to, and its request budget.
import type { WebSocket } from 'uWebSockets.js';
import type { Role } from '../../protocol/constants.js';

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
  closed = false;
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly id: number,
    readonly ws: WebSocket<SocketData>,
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = ratePerSecond;
    this.refilledAt = now;
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
}
