// The reconnect loop of a client whose connection dropped: waits a backoff delay, opens a new
// socket, hands it to the client to restore the session, and on any failure (the socket did not
// open, or closed again before the session was back) waits longer and tries again — up to
// maxAttempts in a row, then gives up. A restored session resets the count.
import { backoffDelay, type Backoff } from './backoff.js';
import {
  DEFAULT_RECONNECT_INITIAL_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
  type CloseInfo,
  type ReconnectingEvent,
  type ReconnectOptions,
  type WebSocketLike,
} from './client-api.js';

export interface ReconnectHooks {
  open(): Promise<WebSocketLike>;
  /** Restores the session on `socket`; calls `succeeded()` when done, or closes the socket (→ dropped()). */
  restore(socket: WebSocketLike): void;
  onReconnecting(event: ReconnectingEvent): void;
  onGiveUp(info: CloseInfo): void;
}

export class Reconnector {
  readonly #backoff: Backoff;
  readonly #maxAttempts: number;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    options: ReconnectOptions,
    private readonly hooks: ReconnectHooks,
  ) {
    this.#backoff = {
      initialDelayMs: options.initialDelayMs ?? DEFAULT_RECONNECT_INITIAL_DELAY_MS,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS,
      random: options.random ?? Math.random,
    };
    this.#maxAttempts = options.maxAttempts ?? Infinity;
  }

  /** The connection (or an attempt at one) ended: schedules the next attempt, or gives up. */
  dropped(info: CloseInfo): void {
    if (this.#stopped) return;
    this.#attempt++;
    if (this.#attempt > this.#maxAttempts) {
      this.#stopped = true;
      this.hooks.onGiveUp(info);
      return;
    }
    const delayMs = backoffDelay(this.#backoff, this.#attempt);
    this.hooks.onReconnecting({ attempt: this.#attempt, delayMs, code: info.code, reason: info.reason });
    this.#timer = setTimeout(() => void this.#connect(info), delayMs);
  }

  succeeded(): void {
    this.#attempt = 0;
  }

  /** The user closed the client: no further attempt. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #connect(info: CloseInfo): Promise<void> {
    this.#timer = undefined;
    let socket: WebSocketLike;
    try {
      socket = await this.hooks.open();
    } catch (error) {
      this.dropped({ code: info.code, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (this.#stopped) {
      socket.close(1000, '');
      return;
    }
    this.hooks.restore(socket);
  }
}
