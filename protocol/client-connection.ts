// The typed client's connection: one WebSocket at a time, requests stamped with rids and matched
// to their replies, frames decoded into messages for the client to dispatch, and — with the
// reconnect option — the life across sockets: after an unexpected close the requests in flight
// fail with ConnectionLostError, a new socket is opened after a backoff, and the client restores
// its session on it with internal requests while the app's fail fast, until it says restored.
import { createCodec, type Codec } from './codec.js';
import {
  ClientError,
  ConnectionLostError,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_PENDING,
  HEARTBEAT_CLOSE_CODE,
  DEFAULT_TIMEOUT_MS,
  RejectError,
  type ClientOptions,
  type ClientState,
  type CloseInfo,
  type RawRequest,
  type ReconnectingEvent,
  type WebSocketLike,
} from './client-api.js';
import type { Reply, ServerMessage } from './messages.js';
import { openSocket } from './open-socket.js';
import { PendingRequests, type OnReply } from './pending-requests.js';
import { Heartbeat } from './heartbeat.js';
import { Reconnector } from './reconnector.js';

const OPEN = 1;

export interface ConnectionHooks {
  /** Every message of every frame, in order; replies included (then pass them to resolve()). */
  dispatch(message: ServerMessage): void;
  /** A fresh socket after a drop: restore the session with internal requests, then call restored(). */
  restore(generation: number): void;
  /** The connection dropped and will be retried; the requests in flight have been failed. */
  dropped(): void;
  reconnecting(event: ReconnectingEvent): void;
  /** Closed for good; the pending requests have been failed. Called once. */
  finished(info: CloseInfo): void;
}

function isMessageMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export class ClientConnection {
  #socket: WebSocketLike;
  /** Counts sockets: a restore of an older one that finishes late changes nothing. */
  #generation = 0;
  readonly #codec: Codec = createCodec();
  readonly #maxPending: number;
  readonly #pending: PendingRequests;
  readonly #reconnector: Reconnector | undefined;
  readonly #heartbeat: Heartbeat | undefined;
  /** 'reconnecting' covers the restore too: the socket is open but only internal requests go out. */
  #state: ClientState = 'open';
  #finished = false;
  /** Server frames that were not MessagePack or held something other than messages. */
  badFrames = 0;

  constructor(
    socket: WebSocketLike,
    url: string,
    options: ClientOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.#socket = socket;
    this.#pending = new PendingRequests(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    if (options.reconnect !== undefined) {
      this.#reconnector = new Reconnector(options.reconnect, {
        open: () => openSocket(url, options, this.#pending.timeoutMs),
        restore: (next) => {
          this.#attach(next);
          hooks.restore(this.#generation);
        },
        onReconnecting: (event) => hooks.reconnecting(event),
        onGiveUp: (info) => this.#finish(info),
      });
      const heartbeatMs = options.reconnect.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
      if (heartbeatMs > 0) {
        this.#heartbeat = new Heartbeat(heartbeatMs, {
          ping: () => {
            if (!this.socketUsable) return;
            for (const reply of this.send([{ op: 'ping' }], false, true)) reply.catch(() => undefined);
          },
          dead: (silentMs) => this.#serverSilent(silentMs),
        });
      }
    }
    this.#attach(socket);
  }

  get timeoutMs(): number {
    return this.#pending.timeoutMs;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** Open and restored: the app's requests go out. */
  get isOpen(): boolean {
    return this.#state === 'open' && this.#socket.readyState === OPEN;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Whether internal requests (the client's own, e.g. while restoring) can go out now. */
  get socketUsable(): boolean {
    return this.#state !== 'closed' && this.#socket.readyState === OPEN;
  }

  /** Closes for good (no reconnect); every pending request is rejected with a ClientError 'closed' now. */
  close(code: number, reason: string): void {
    const socketGone = this.#socket.readyState !== OPEN && this.#state !== 'closed';
    if (this.#state !== 'closed') this.#socket.close(code, reason);
    this.#state = 'closed';
    this.#heartbeat?.stop();
    this.#reconnector?.stop();
    this.#failAll('client closed the connection');
    // A reconnecting client has no socket whose close event would say so.
    if (socketGone) this.#finish({ code, reason });
  }

  /** App requests need an open, restored connection; internal ones only an open socket. */
  assertOpen(internal: boolean): void {
    if (internal ? this.socketUsable : this.isOpen) return;
    if (this.#state !== 'closed' && this.#reconnector !== undefined) {
      throw new ClientError('disconnected', 'reconnecting: requests fail until the client has resumed');
    }
    throw new ClientError('closed', 'connection is closed');
  }

  /** Sends `messages` as one frame (an array if `asArray`); one reply promise per message. */
  send(messages: readonly RawRequest[], asArray: boolean, internal: boolean, onReply?: OnReply): Promise<Reply>[] {
    try {
      this.assertOpen(internal);
      if (this.#pending.size + messages.length > this.#maxPending) {
        throw new ClientError('too_many_pending', `more than ${this.#maxPending} requests awaiting replies`);
      }
    } catch (error) {
      return messages.map(() => Promise.reject(error as Error));
    }
    const stamped = messages.map((message) => this.#pending.add(message, onReply));
    const requests = stamped.map((s) => s.request);
    this.#socket.send(this.#codec.encode(asArray ? requests : requests[0]));
    return stamped.map((s) => s.reply);
  }

  /**
   * A typed request: resolves with a reply of type `type`, rejects with RejectError on `reject`.
   * `onReply` sees a reply of that type as it is dispatched (see PendingRequests).
   */
  async expect<R extends Reply>(message: RawRequest, type: R['type'], internal = false, onReply?: (reply: R) => void): Promise<R> {
    const hook: OnReply | undefined =
      onReply === undefined
        ? undefined
        : (reply) => {
            if (reply.type === type) onReply(reply as R);
          };
    const [sent] = this.send([message], false, internal, hook);
    const reply = await sent!;
    if (reply.type === 'reject') throw new RejectError(reply);
    if (reply.type !== type) {
      throw new ClientError('unexpected_reply', `expected ${type} to ${message.op}, got ${String(reply.type)}`);
    }
    return reply as R;
  }

  sendRaw(data: Uint8Array | string): void {
    this.assertOpen(false);
    this.#socket.send(data);
  }

  /** Settles the request a reply answers. */
  resolve(reply: Reply): void {
    this.#pending.resolve(reply);
  }

  /** The restore of socket `generation` is done: app requests go out again. False if it came too late. */
  restored(generation: number): boolean {
    if (generation !== this.#generation || this.#state !== 'reconnecting' || !this.socketUsable) return false;
    this.#state = 'open';
    this.#reconnector?.succeeded();
    return true;
  }

  /**
   * The restore of socket `generation` failed: the socket is closed, which schedules the next
   * attempt; a refused login ends it all, since trying again would be refused again.
   */
  restoreFailed(generation: number, error: unknown): void {
    if (generation !== this.#generation || this.#state === 'closed') return;
    const socket = this.#socket;
    if (error instanceof RejectError && (error.code === 'unauthenticated' || error.code === 'bad_request')) {
      socket.onclose = null;
      socket.close(1000, '');
      this.#finish({ code: 1000, reason: `reconnect gave up: ${error.message}` });
    } else if (socket.readyState === OPEN) {
      socket.close(1000, 'session restore failed');
    }
  }

  #attach(socket: WebSocketLike): void {
    this.#socket = socket;
    this.#generation++;
    socket.onmessage = (event: { data: unknown }) => this.#onFrame(event.data);
    this.#heartbeat?.start();
    socket.onclose = (event: { code?: number; reason?: string }) =>
      this.#onSocketClosed(socket, { code: event.code ?? 1006, reason: event.reason ?? '' });
    socket.onerror = () => {
      // A close event always follows; that is where pending requests are failed.
    };
  }

  /** No frame for two heartbeats: the socket is taken for dead without waiting for TCP to say so. */
  #serverSilent(silentMs: number): void {
    const socket = this.#socket;
    if (this.#state === 'closed') return;
    const info = { code: HEARTBEAT_CLOSE_CODE, reason: `no frame from the server in ${silentMs} ms` };
    this.#onSocketClosed(socket, info);
    try {
      socket.close(HEARTBEAT_CLOSE_CODE, 'heartbeat');
    } catch {
      // Already closing: its close event is detached above.
    }
  }

  #onSocketClosed(socket: WebSocketLike, info: CloseInfo): void {
    socket.onmessage = null;
    socket.onclose = null;
    if (socket !== this.#socket) return;
    this.#heartbeat?.stop();
    if (this.#state === 'closed' || this.#reconnector === undefined) {
      this.#finish(info);
      return;
    }
    this.#state = 'reconnecting';
    this.#pending.failAll((request) => new ConnectionLostError(request));
    this.hooks.dropped();
    this.#reconnector.dropped(info);
  }

  #finish(info: CloseInfo): void {
    this.#state = 'closed';
    this.#heartbeat?.stop();
    this.#reconnector?.stop();
    this.#failAll('connection closed');
    if (this.#finished) return;
    this.#finished = true;
    this.hooks.finished(info);
  }

  #failAll(reason: string): void {
    this.#pending.failAll(() => new ClientError('closed', `${reason} before a reply came`));
  }

  #onFrame(data: unknown): void {
    this.#heartbeat?.frame();
    const bytes = bytesOf(data);
    if (bytes === undefined) {
      this.badFrames++;
      return;
    }
    let value: unknown;
    try {
      value = this.#codec.decode(bytes);
    } catch {
      this.badFrames++;
      return;
    }
    const messages = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const message of messages) {
      if (isMessageMap(message) && typeof message['type'] === 'string') {
        this.hooks.dispatch(message as unknown as ServerMessage);
      } else {
        this.badFrames++;
      }
    }
  }
}
