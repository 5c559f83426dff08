// Subscribing to the market-data channels (candles, ticker, trades with a `recent` snapshot): the
// `sub` each sends, the snapshot it resolves with, and the candles and ticker `sub`s that a
// reconnecting client sends again.
import type { RawRequest } from './client-api.js';
import type { CandleInterval } from './constants.js';
import type { Listener } from './emitter.js';
import { MarketDataEvents, type CandlesSubscribeOptions } from './market-data-events.js';
import type { CandlesSnapshot, Reply, SubbedReply, TickerMessage, TradeMessage, TradesSnapshot, UnsubbedReply } from './messages.js';
import type { TradeSubscriptions } from './trade-subscriptions.js';

/** A typed request; `internal` lets it out while the client restores a connection. */
export type Expect = <R extends Reply>(message: RawRequest, type: R['type'], internal?: boolean) => Promise<R>;

export class MarketDataSubscriptions {
  readonly events = new MarketDataEvents();

  constructor(
    private readonly expect: Expect,
    private readonly trades: TradeSubscriptions,
  ) {}

  async subscribeCandles(sym: string, interval: CandleInterval, options: CandlesSubscribeOptions): Promise<CandlesSnapshot> {
    const request =
      options.limit === undefined
        ? { op: 'sub', ch: 'candles', sym, interval }
        : { op: 'sub', ch: 'candles', sym, interval, limit: options.limit };
    const matches = (m: CandlesSnapshot): boolean => m.sym === sym && m.interval === interval;
    const snapshot = await this.events.withSnapshot(
      this.events.candles,
      matches,
      () => this.expect<SubbedReply>(request, 'subbed'),
      `candles ${sym} ${interval}`,
    );
    this.events.remember(`candles:${sym}:${interval}`, request);
    return snapshot;
  }

  unsubscribeCandles(sym: string, interval: CandleInterval): Promise<UnsubbedReply> {
    this.events.forget(`candles:${sym}:${interval}`);
    return this.expect<UnsubbedReply>({ op: 'unsub', ch: 'candles', sym, interval }, 'unsubbed');
  }

  async subscribeTicker(sym: string): Promise<TickerMessage> {
    const request = { op: 'sub', ch: 'ticker', sym };
    const matches = (m: TickerMessage): boolean => m.sym === sym;
    const first = await this.events.withSnapshot(
      this.events.ticker,
      matches,
      () => this.expect<SubbedReply>(request, 'subbed'),
      `ticker ${sym}`,
    );
    this.events.remember(`ticker:${sym}`, request);
    return first;
  }

  /** Stops resending a ticker `sub` after a reconnect (the caller sends the `unsub`). */
  forgetTicker(sym: string): void {
    this.events.forget(`ticker:${sym}`);
  }

  async subscribeTradesWithRecent(sym: string, recent: number, listener: Listener<TradeMessage>): Promise<TradesSnapshot> {
    const off = this.trades.listen(sym, listener);
    const matches = (m: TradesSnapshot): boolean => m.sym === sym;
    try {
      return await this.events.withSnapshot(
        this.events.trades,
        matches,
        () => this.expect<SubbedReply>({ op: 'sub', ch: 'trades', sym, recent }, 'subbed'),
        `trades ${sym}`,
      );
    } catch (error) {
      off();
      throw error;
    }
  }

  /**
   * On a new connection: sends every remembered candles and ticker `sub` again, now, and returns
   * a promise per `sub` (not one for all) so the caller awaits them beside its other resubscriptions.
   */
  resubscribeAll(): Promise<SubbedReply>[] {
    return this.events.subscriptions().map((request) => this.expect<SubbedReply>(request, 'subbed', true));
  }
}
