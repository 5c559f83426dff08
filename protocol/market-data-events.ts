// The typed client's market-data channels (candles, ticker, the trades channel's recent snapshot):
// their emitters and the wait for a subscription's snapshot, kept apart from client.ts. A snapshot
// comes in the same frame as its `subbed` (the server sends them together), so it has been
// dispatched by the time the `subbed` reply's awaiter resumes. The candles and ticker
// subscriptions are remembered, so that a reconnecting client can subscribe to them again.
import type { RawRequest } from './client-api.js';
import { Emitter, type Listener } from './emitter.js';
import type { CandleMessage, CandlesSnapshot, MarketDataMessage, TickerMessage, TradesSnapshot } from './messages.js';

export interface CandlesSubscribeOptions {
  /** Candles in the snapshot, 1–1000 (server default 500). */
  readonly limit?: number;
}

export class MarketDataEvents {
  readonly candle = new Emitter<CandleMessage>();
  readonly candles = new Emitter<CandlesSnapshot>();
  readonly ticker = new Emitter<TickerMessage>();
  readonly trades = new Emitter<TradesSnapshot>();
  /** `candles:sym:interval` or `ticker:sym` → the `sub` that made it. */
  readonly #subscriptions = new Map<string, RawRequest>();

  remember(key: string, request: RawRequest): void {
    this.#subscriptions.set(key, request);
  }

  forget(key: string): void {
    this.#subscriptions.delete(key);
  }

  /** The `sub`s to send again on a new connection. */
  subscriptions(): RawRequest[] {
    return [...this.#subscriptions.values()];
  }

  dispatch(message: MarketDataMessage): void {
    switch (message.type) {
      case 'candle':
        return this.candle.emit(message);
      case 'candles':
        return this.candles.emit(message);
      case 'ticker':
        return this.ticker.emit(message);
      case 'trades':
        return this.trades.emit(message);
    }
  }

  /**
   * Runs `subscribe` (which resolves on `subbed`) and returns the snapshot that `matches` and
   * came with it; throws when none did.
   */
  async withSnapshot<T>(
    emitter: Emitter<T>,
    matches: (message: T) => boolean,
    subscribe: () => Promise<unknown>,
    what: string,
  ): Promise<T> {
    let snapshot: T | undefined;
    const listener: Listener<T> = (message) => {
      if (matches(message)) snapshot = message;
    };
    const off = emitter.on(listener);
    try {
      await subscribe();
    } finally {
      off();
    }
    if (snapshot === undefined) throw new Error(`no ${what} snapshot came with subbed`);
    return snapshot;
  }
}
