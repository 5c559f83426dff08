// The client's events: an emitter per kind, and the on* methods that listen to them, each returning
// its unsubscribe function. SpotwireClient extends ClientEvents to keep this half of its public API
// out of client.ts; it emits on the same ClientEmitters it passes in here, so nothing is protected.
import type { CloseInfo, GapEvent, ReconnectingEvent, ResumedEvent } from './client-api.js';
import { Emitter, type Listener } from './emitter.js';
import type { BalanceMessage, BookMessage, ErrorMessage, Exec, ServerMessage, TradeMessage } from './messages.js';

export class ClientEmitters {
  readonly message = new Emitter<ServerMessage>();
  readonly exec = new Emitter<Exec>();
  readonly trade = new Emitter<TradeMessage>();
  readonly book = new Emitter<BookMessage>();
  readonly error = new Emitter<ErrorMessage>();
  readonly balance = new Emitter<BalanceMessage>();
  readonly close = new Emitter<CloseInfo>();
  readonly reconnecting = new Emitter<ReconnectingEvent>();
  readonly resumed = new Emitter<ResumedEvent>();
  readonly gap = new Emitter<GapEvent>();
}

export class ClientEvents {
  readonly #emitters: ClientEmitters;

  constructor(emitters: ClientEmitters) {
    this.#emitters = emitters;
  }

  onExec(listener: Listener<Exec>): () => void {
    return this.#emitters.exec.on(listener);
  }

  onTrade(listener: Listener<TradeMessage>): () => void {
    return this.#emitters.trade.on(listener);
  }

  /** Every raw `book` message, snapshots and deltas, of every market. */
  onBook(listener: Listener<BookMessage>): () => void {
    return this.#emitters.book.on(listener);
  }

  /** Server `error` messages (e.g. `bad_frame`), which answer no particular request. */
  onError(listener: Listener<ErrorMessage>): () => void {
    return this.#emitters.error.on(listener);
  }

  /** `balance` pushes: one per asset whose balance a batch changed, after that batch's execs. */
  onBalance(listener: Listener<BalanceMessage>): () => void {
    return this.#emitters.balance.on(listener);
  }

  /** The client is closed for good (with reconnect: by close(), or after maxAttempts). */
  onClose(listener: Listener<CloseInfo>): () => void {
    return this.#emitters.close.on(listener);
  }

  /** Reconnect option: the connection dropped (or an attempt failed) and attempt `attempt` starts in `delayMs`. */
  onReconnecting(listener: Listener<ReconnectingEvent>): () => void {
    return this.#emitters.reconnecting.on(listener);
  }

  /** Reconnect option: the session is restored and requests work again. */
  onResumed(listener: Listener<ResumedEvent>): () => void {
    return this.#emitters.resumed.on(listener);
  }

  /** Reconnect option: what was missed could not be replayed; snapshots were refetched instead. */
  onGap(listener: Listener<GapEvent>): () => void {
    return this.#emitters.gap.on(listener);
  }

  /** Every message the server sends, before it is dispatched. */
  onMessage(listener: Listener<ServerMessage>): () => void {
    return this.#emitters.message.on(listener);
  }
}
