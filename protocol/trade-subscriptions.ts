// The client's trades subscriptions: listeners per market, one `sub` per market however many
// listeners, and every market subscribed again after a reconnect (trades published while the
// client was away are not resent).
import type { RawRequest } from './client-api.js';
import { Emitter, type Listener } from './emitter.js';
import type { SubbedReply, TradeMessage } from './messages.js';

/** Sends a `sub` and resolves on `subbed`; `internal` lets it out while the client restores a connection. */
export type Subscribe = (message: RawRequest, internal: boolean) => Promise<SubbedReply>;

export class TradeSubscriptions {
  readonly #markets = new Map<string, Emitter<TradeMessage>>();

  constructor(private readonly subscribeOnServer: Subscribe) {}

  async subscribe(sym: string, listener: Listener<TradeMessage>): Promise<SubbedReply> {
    let emitter = this.#markets.get(sym);
    const first = emitter === undefined;
    emitter ??= new Emitter<TradeMessage>();
    this.#markets.set(sym, emitter);
    const off = emitter.on(listener);
    if (!first) return { type: 'subbed', ch: 'trades', sym };
    try {
      return await this.subscribeOnServer({ op: 'sub', ch: 'trades', sym }, false);
    } catch (error) {
      off();
      if (this.#markets.get(sym) === emitter) this.#markets.delete(sym);
      throw error;
    }
  }

  /** Adds a listener without a `sub` (the caller sends its own, e.g. with `recent`); returns its removal. */
  listen(sym: string, listener: Listener<TradeMessage>): () => void {
    let emitter = this.#markets.get(sym);
    if (emitter === undefined) this.#markets.set(sym, (emitter = new Emitter<TradeMessage>()));
    return emitter.on(listener);
  }

  /** Drops a market's listeners at once (the caller sends the `unsub`). */
  remove(sym: string): void {
    this.#markets.get(sym)?.clear();
    this.#markets.delete(sym);
  }

  emit(trade: TradeMessage): void {
    this.#markets.get(trade.sym)?.emit(trade);
  }

  /** On a new connection: subscribes every market again; resolves once all are `subbed`. */
  async resubscribeAll(): Promise<void> {
    await Promise.all([...this.#markets.keys()].map((sym) => this.subscribeOnServer({ op: 'sub', ch: 'trades', sym }, true)));
  }
}
