// A typed Spotwire client for Node and the browser. It speaks only the browser WebSocket API (pass
// `ws`'s WebSocket in Node) and uses no Node-only module, so the same file runs in both.
//
// Requests carry an auto-incrementing integer `rid`; replies are matched back by it. Typed calls
// (`place`, `login`, …) reject with a RejectError on a `reject` reply; the raw `request` and
// `send` resolve with whatever reply comes, for tests that want to look at rejects as values.
// Book subscriptions keep a LocalBook per market and resubscribe on a seq gap or a bad checksum,
// as the contract asks. With the `reconnect` option a dropped connection is not the end: the
// client reconnects, logs in again resuming the private stream by pseq (or refetches snapshots
// on a gap), resubscribes and re-arms the dead-man switch, then says `resumed`.
import { AccountView, type LocalOrder } from './account-view.js';
import { BookSubscriptions } from './book-subscriptions.js';
import { createCodec, type Codec } from './codec.js';
import type { Channel } from './constants.js';
import {
  ClientError,
  ConnectionLostError,
  DEFAULT_MAX_PENDING,
  DEFAULT_TIMEOUT_MS,
  RejectError,
  type AmendParams,
  type BookSubscribeOptions,
  type ClientOptions,
  type ClientState,
  type CloseInfo,
  type GapEvent,
  type LoginOptions,
  type OrderRefInput,
  type PlaceParams,
  type RawRequest,
  type ReconnectingEvent,
  type ResumedEvent,
  type WebSocketLike,
} from './client-api.js';
import { Emitter, type Listener } from './emitter.js';
import type { LocalBook } from './local-book.js';
import { openSocket } from './open-socket.js';
import { PendingRequests } from './pending-requests.js';
import { Reconnector } from './reconnector.js';
import type { TransferOp } from './constants.js';
import type {
  Ack,
  BalanceMessage,
  BalancesReply,
  BalanceView,
  BookMessage,
  CancelAfterAck,
  ErrorMessage,
  Exec,
  LoginReply,
  MarketsReply,
  MyTradesReply,
  OrderRef,
  OrderReply,
  OrdersReply,
  PongReply,
  Reply,
  ServerMessage,
  SubbedReply,
  TradeMessage,
  TransferAck,
  UnsubbedReply,
} from './messages.js';

export * from './client-api.js';
export type { LocalOrder } from './account-view.js';
export type { Listener } from './emitter.js';

const OPEN = 1;

type MessageMap = Record<string, unknown>;

function isMessageMap(value: unknown): value is MessageMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toRef(ref: OrderRefInput): OrderRef {
  if (typeof ref === 'number') return { id: ref };
  if (typeof ref === 'string') return { cid: ref };
  return ref;
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** Who this client logged in as: what a reconnect logs in with again. */
interface Session {
  readonly token: string;
  readonly cancelOnDisconnect: boolean | undefined;
}

export class SpotwireClient {
  #socket: WebSocketLike;
  readonly #codec: Codec = createCodec();
  readonly #maxPending: number;
  readonly #pending: PendingRequests;
  readonly #reconnector: Reconnector | undefined;
  /** 'reconnecting' covers the restore too: the socket is open but only the client's own requests go out. */
  #state: ClientState = 'open';
  #closeEmitted = false;
  #session: Session | undefined;
  /** The dead-man switch's timeout as last set by the app (0: off), re-armed after a reconnect. */
  #deadManMs = 0;
  /**
   * A resumeGap whose snapshots are not fetched yet: a restore that fails after its login still
   * owes them, even if the next login resumes cleanly from the new pseq.
   */
  #gapToFill: string | undefined;

  readonly #message = new Emitter<ServerMessage>();
  readonly #exec = new Emitter<Exec>();
  readonly #trade = new Emitter<TradeMessage>();
  readonly #bookEvents = new Emitter<BookMessage>();
  readonly #error = new Emitter<ErrorMessage>();
  readonly #balance = new Emitter<BalanceMessage>();
  readonly #close = new Emitter<CloseInfo>();
  readonly #reconnecting = new Emitter<ReconnectingEvent>();
  readonly #resumed = new Emitter<ResumedEvent>();
  readonly #gap = new Emitter<GapEvent>();
  #epoch = '';
  #pseq = 0;
  readonly #account = new AccountView();

  readonly #books: BookSubscriptions;
  readonly #trades = new Map<string, Emitter<TradeMessage>>();

  /** Server frames that were not MessagePack or held something other than messages. */
  badFrames = 0;

  private constructor(socket: WebSocketLike, url: string, options: ClientOptions) {
    this.#socket = socket;
    this.#pending = new PendingRequests(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.#books = new BookSubscriptions({
      timeoutMs: this.#pending.timeoutMs,
      send: (messages) => Promise.all(this.#sendFrame(messages, true, true)),
      expect: (message, type) => this.#expect(message, type, true),
      canSend: () => this.#socketUsable(),
    });
    if (options.reconnect !== undefined) {
      this.#reconnector = new Reconnector(options.reconnect, {
        open: () => openSocket(url, options, this.#pending.timeoutMs),
        restore: (next) => void this.#restore(next),
        onReconnecting: (event) => this.#reconnecting.emit(event),
        onGiveUp: (info) => this.#finish(info),
      });
    }
    this.#attach(socket);
  }

  /** Opens a connection; resolves once it is open. */
  static async connect(url: string, options: ClientOptions = {}): Promise<SpotwireClient> {
    return new SpotwireClient(await openSocket(url, options), url, options);
  }

  get isOpen(): boolean {
    return this.#state === 'open' && this.#socket.readyState === OPEN;
  }

  /** `open`, `reconnecting` (only with the reconnect option) or `closed` (for good). */
  get state(): ClientState {
    return this.#state;
  }

  /** Requests awaiting a reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Book resubscriptions after a seq gap or checksum mismatch, over all markets. */
  get resyncs(): number {
    return this.#books.resyncs;
  }

  /** Closes the connection for good (no reconnect); every pending request is rejected with a ClientError 'closed' now. */
  close(code = 1000, reason = ''): void {
    const socketGone = this.#socket.readyState !== OPEN && this.#state !== 'closed';
    if (this.#state !== 'closed') this.#socket.close(code, reason);
    this.#state = 'closed';
    this.#reconnector?.stop();
    this.#failAll('client closed the connection');
    // A reconnecting client has no socket whose close event would say so.
    if (socketGone) this.#finish({ code, reason });
  }

  // ---- events; each returns its unsubscribe function ----

  onExec(listener: Listener<Exec>): () => void {
    return this.#exec.on(listener);
  }

  onTrade(listener: Listener<TradeMessage>): () => void {
    return this.#trade.on(listener);
  }

  /** Every raw `book` message, snapshots and deltas, of every market. */
  onBook(listener: Listener<BookMessage>): () => void {
    return this.#bookEvents.on(listener);
  }

  /** Server `error` messages (e.g. `bad_frame`), which answer no particular request. */
  onError(listener: Listener<ErrorMessage>): () => void {
    return this.#error.on(listener);
  }

  /** `balance` pushes: one per asset whose balance a batch changed, after that batch's execs. */
  onBalance(listener: Listener<BalanceMessage>): () => void {
    return this.#balance.on(listener);
  }

  /** The client is closed for good (with reconnect: by close(), or after maxAttempts). */
  onClose(listener: Listener<CloseInfo>): () => void {
    return this.#close.on(listener);
  }

  /** Reconnect option: the connection dropped (or an attempt failed) and attempt `attempt` starts in `delayMs`. */
  onReconnecting(listener: Listener<ReconnectingEvent>): () => void {
    return this.#reconnecting.on(listener);
  }

  /** Reconnect option: the session is restored and requests work again. */
  onResumed(listener: Listener<ResumedEvent>): () => void {
    return this.#resumed.on(listener);
  }

  /** Reconnect option: what was missed could not be replayed; snapshots were refetched instead. */
  onGap(listener: Listener<GapEvent>): () => void {
    return this.#gap.on(listener);
  }

  /** Every message the server sends, before it is dispatched. */
  onMessage(listener: Listener<ServerMessage>): () => void {
    return this.#message.on(listener);
  }

  // ---- the account as last seen ----

  /**
   * The account's balance of an asset as last seen in a `balances` reply or a `balance` push
   * (undefined before either): a bot can size orders from it without a round trip.
   */
  balance(asset: string): BalanceView | undefined {
    return this.#account.balance(asset);
  }

  /**
   * The account's open orders (of `sym`, or all) as the last `orders()` snapshot and the execs
   * since leave them, oldest first. Complete once orders() was called after login (a reconnect
   * that finds a gap calls it by itself).
   */
  openOrders(sym?: string): LocalOrder[] {
    return this.#account.openOrders(sym);
  }

  /**
   * Where this connection's private stream stands: the server life (`epoch`) and the last `pseq`
   * received. Pass it to login's `resume` on a new connection after this one drops.
   */
  get privateStream(): { epoch: string; pseq: number } {
    return { epoch: this.#epoch, pseq: this.#pseq };
  }

  // ---- raw requests ----

  /** Sends one request and resolves with its reply, whatever it is (a reject too). */
  request(message: RawRequest): Promise<Reply> {
    const [reply] = this.#sendFrame([message], false, false);
    return reply!;
  }

  /** Pipelines several requests in one array frame; resolves with their replies in order. */
  send(messages: readonly RawRequest[]): Promise<Reply[]> {
    return Promise.all(this.#sendFrame(messages, true, false));
  }

  /**
   * Sends bytes as a binary frame or a string as a text frame, with no rid and no reply tracking:
   * for tests of what the server does with odd frames. Whatever comes back arrives via onMessage.
   */
  sendRaw(data: Uint8Array | string): void {
    this.#assertOpen(false);
    this.#socket.send(data);
  }

  // ---- typed requests ----

  async login(token: string, options: LoginOptions = {}): Promise<LoginReply> {
    const reply = await this.#login(token, options, false);
    this.#session = { token, cancelOnDisconnect: options.cancelOnDisconnect };
    return reply;
  }

  async markets(): Promise<MarketsReply> {
    return this.#expect({ op: 'markets' }, 'markets');
  }

  async place(params: PlaceParams): Promise<Ack> {
    return this.#expect({ op: 'place', ...params }, 'ack');
  }

  async cancel(sym: string, ref: OrderRefInput): Promise<Ack> {
    return this.#expect({ op: 'cancel', sym, ...toRef(ref) }, 'ack');
  }

  async cancelAll(sym?: string): Promise<Ack> {
    return this.#expect(sym === undefined ? { op: 'cancel_all' } : { op: 'cancel_all', sym }, 'ack');
  }

  async amend(sym: string, ref: OrderRefInput, change: AmendParams): Promise<Ack> {
    return this.#expect({ op: 'amend', sym, ...toRef(ref), ...change }, 'ack');
  }

  /**
   * Every open order (of `sym`, or all markets): follows the server's pages (`more`/`next`) to the
   * end, so the reply holds them all as the contract's `orders` does; openOrders() shows them too.
   */
  async orders(sym?: string): Promise<OrdersReply> {
    return this.#allOrders(sym, false);
  }

  /** One page of open orders: at most `limit` (server default and maximum 1000), after a `next` cursor. */
  async ordersPage(params: { sym?: string; limit?: number; after?: string }): Promise<OrdersReply> {
    return this.#expect({ op: 'orders', ...params }, 'orders');
  }

  /** One order's state by id or cid: open, or how it ended if it closed recently. */
  async order(sym: string, ref: OrderRefInput): Promise<OrderReply> {
    return this.#expect<OrderReply>({ op: 'order', sym, ...toRef(ref) }, 'order');
  }

  /** The account's recent fills, newest first; page on with `before` = the last one's `n`. */
  async myTrades(params: { sym?: string; limit?: number; before?: number } = {}): Promise<MyTradesReply> {
    return this.#expect<MyTradesReply>({ op: 'my_trades', ...params }, 'my_trades');
  }

  /**
   * The dead-man switch: unless this is called again within `timeoutMs`, the server cancels all
   * the account's orders (reason `timeout`). 0 turns it off. Resolves with when it would fire. A
   * reconnecting client arms it again, with the last timeout set, as soon as it has logged in.
   */
  async cancelAfter(timeoutMs: number): Promise<CancelAfterAck> {
    const ack = await this.#expect<CancelAfterAck>({ op: 'cancel_after', timeout: timeoutMs }, 'ack');
    this.#deadManMs = ack.timeout;
    return ack;
  }

  /** Own balances; with `account`, another account's (admin connections only). */
  async balances(account?: string): Promise<BalancesReply> {
    return this.#balances(account, false);
  }

  /** Admin: credits `amount` ledger units of `asset`; `ref` makes a retry safe. */
  async deposit(account: string, asset: string, amount: number, ref: string): Promise<TransferAck> {
    return this.#transfer('deposit', account, asset, amount, ref);
  }

  /** Admin: debits `amount` ledger units of `asset` from `available`; `ref` makes a retry safe. */
  async withdraw(account: string, asset: string, amount: number, ref: string): Promise<TransferAck> {
    return this.#transfer('withdraw', account, asset, amount, ref);
  }

  async #transfer(op: TransferOp, account: string, asset: string, amount: number, ref: string): Promise<TransferAck> {
    return this.#expect<TransferAck>({ op, account, asset, amount, ref }, 'ack');
  }

  async ping(): Promise<PongReply> {
    return this.#expect({ op: 'ping' }, 'pong');
  }

  // ---- subscriptions ----

  /**
   * Subscribes to a market's book and keeps it in a LocalBook; resolves with that book once the
   * first snapshot is applied. `onUpdate` runs after every message applied cleanly.
   */
  subscribeBook(sym: string, options: BookSubscribeOptions = {}): Promise<LocalBook> {
    try {
      this.#assertOpen(false);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.#books.subscribe(sym, options);
  }

  /** The LocalBook of a subscribed market. */
  book(sym: string): LocalBook | undefined {
    return this.#books.book(sym);
  }

  /** Subscribes to a market's trades; `listener` gets each; resolves on `subbed`. */
  async subscribeTrades(sym: string, listener: Listener<TradeMessage>): Promise<SubbedReply> {
    let emitter = this.#trades.get(sym);
    const first = emitter === undefined;
    emitter ??= new Emitter<TradeMessage>();
    this.#trades.set(sym, emitter);
    const off = emitter.on(listener);
    if (!first) return { type: 'subbed', ch: 'trades', sym };
    try {
      return await this.#expect<SubbedReply>({ op: 'sub', ch: 'trades', sym }, 'subbed');
    } catch (error) {
      off();
      if (this.#trades.get(sym) === emitter) this.#trades.delete(sym);
      throw error;
    }
  }

  /** Ends a subscription and drops its local state (LocalBook or trade listeners) at once. */
  async unsubscribe(ch: Channel, sym: string): Promise<UnsubbedReply> {
    if (ch === 'book') {
      this.#books.remove(sym);
    } else {
      this.#trades.get(sym)?.clear();
      this.#trades.delete(sym);
    }
    return this.#expect<UnsubbedReply>({ op: 'unsub', ch, sym }, 'unsubbed');
  }

  // ---- internals: requests ----

  #socketUsable(): boolean {
    return this.#state !== 'closed' && this.#socket.readyState === OPEN;
  }

  /** App requests need an open, restored connection; the client's own (`internal`) only an open socket. */
  #assertOpen(internal: boolean): void {
    if (internal ? this.#socketUsable() : this.isOpen) return;
    if (this.#state !== 'closed' && this.#reconnector !== undefined) {
      throw new ClientError('disconnected', 'reconnecting: requests fail until the client has resumed');
    }
    throw new ClientError('closed', 'connection is closed');
  }

  /** Sends `messages` as one frame (an array if `asArray`); one reply promise per message. */
  #sendFrame(messages: readonly RawRequest[], asArray: boolean, internal: boolean): Promise<Reply>[] {
    try {
      this.#assertOpen(internal);
      if (this.#pending.size + messages.length > this.#maxPending) {
        throw new ClientError('too_many_pending', `more than ${this.#maxPending} requests awaiting replies`);
      }
    } catch (error) {
      return messages.map(() => Promise.reject(error as Error));
    }
    const stamped = messages.map((message) => this.#pending.add(message));
    const requests = stamped.map((s) => s.request);
    this.#socket.send(this.#codec.encode(asArray ? requests : requests[0]));
    return stamped.map((s) => s.reply);
  }

  /** A typed request: resolves with a reply of type `type`, rejects with RejectError on `reject`. */
  async #expect<R extends Reply>(message: RawRequest, type: R['type'], internal = false): Promise<R> {
    const [sent] = this.#sendFrame([message], false, internal);
    const reply = await sent!;
    if (reply.type === 'reject') throw new RejectError(reply);
    if (reply.type !== type) {
      throw new ClientError('unexpected_reply', `expected ${type} to ${message.op}, got ${String(reply.type)}`);
    }
    return reply as R;
  }

  async #login(token: string, options: LoginOptions, internal: boolean): Promise<LoginReply> {
    const message: Record<string, unknown> = { op: 'login', token };
    if (options.cancelOnDisconnect !== undefined) message.cancelOnDisconnect = options.cancelOnDisconnect;
    if (options.resume !== undefined) {
      message.resumeFrom = options.resume.pseq;
      message.epoch = options.resume.epoch;
    }
    return this.#expect<LoginReply>(message as RawRequest, 'login', internal);
  }

  async #allOrders(sym: string | undefined, internal: boolean): Promise<OrdersReply> {
    const page = (after: string | undefined): Promise<OrdersReply> => {
      const params: Record<string, unknown> = { op: 'orders' };
      if (sym !== undefined) params.sym = sym;
      if (after !== undefined) params.after = after;
      return this.#expect<OrdersReply>(params as RawRequest, 'orders', internal);
    };
    const first = await page(undefined);
    this.#account.replaceOrders(first.orders, sym);
    const orders = [...first.orders];
    for (let next = first; next.more === true && typeof next.next === 'string'; ) {
      next = await page(next.next);
      this.#account.addOrders(next.orders);
      orders.push(...next.orders);
    }
    return { ...first, orders, more: false, next: null };
  }

  async #balances(account: string | undefined, internal: boolean): Promise<BalancesReply> {
    const message: RawRequest = account === undefined ? { op: 'balances' } : { op: 'balances', account };
    const reply = await this.#expect<BalancesReply>(message, 'balances', internal);
    if (account === undefined) this.#account.replaceBalances(reply.balances);
    return reply;
  }

  // ---- internals: the connection ----

  #attach(socket: WebSocketLike): void {
    this.#socket = socket;
    socket.onmessage = (event: { data: unknown }) => this.#onFrame(event.data);
    socket.onclose = (event: { code?: number; reason?: string }) =>
      this.#onSocketClosed(socket, { code: event.code ?? 1006, reason: event.reason ?? '' });
    socket.onerror = () => {
      // A close event always follows; that is where pending requests are failed.
    };
  }

  #onSocketClosed(socket: WebSocketLike, info: CloseInfo): void {
    socket.onmessage = null;
    socket.onclose = null;
    if (socket !== this.#socket) return;
    if (this.#state === 'closed' || this.#reconnector === undefined) {
      this.#finish(info);
      return;
    }
    this.#state = 'reconnecting';
    this.#pending.failAll((request) => new ConnectionLostError(request));
    this.#books.markAllStale();
    this.#reconnector.dropped(info);
  }

  /** Closed for good: whatever still waits fails, and onClose listeners hear it once. */
  #finish(info: CloseInfo): void {
    this.#state = 'closed';
    this.#reconnector?.stop();
    this.#failAll('connection closed');
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#close.emit(info);
  }

  #failAll(reason: string): void {
    this.#pending.failAll(() => new ClientError('closed', `${reason} before a reply came`));
    this.#books.failReady(new ClientError('closed', reason));
  }

  /**
   * On a fresh socket after a drop: log in again resuming the private stream, re-arm the dead-man
   * switch, refetch snapshots if the stream has a gap, resubscribe; then requests work again. Any
   * failure closes this socket, which schedules the next attempt; a refused token ends it all.
   */
  async #restore(socket: WebSocketLike): Promise<void> {
    this.#attach(socket);
    const fromPseq = this.#pseq;
    try {
      let replayed = 0;
      const session = this.#session;
      if (session !== undefined) {
        const resume = this.#epoch === '' ? undefined : { epoch: this.#epoch, pseq: this.#pseq };
        const options: LoginOptions = {
          ...(session.cancelOnDisconnect === undefined ? {} : { cancelOnDisconnect: session.cancelOnDisconnect }),
          ...(resume === undefined ? {} : { resume }),
        };
        const reply = await this.#login(session.token, options, true);
        this.#gapToFill ??= reply.resumeGap;
        replayed = reply.resumed ?? 0;
        if (this.#deadManMs > 0) await this.#expect<CancelAfterAck>({ op: 'cancel_after', timeout: this.#deadManMs }, 'ack', true);
      }
      const gap = this.#gapToFill;
      const snapshots = gap === undefined ? undefined : { orders: (await this.#allOrders(undefined, true)).orders, balances: (await this.#balances(undefined, true)).balances };
      this.#gapToFill = undefined;
      await Promise.all([this.#books.resubscribeAll(), this.#resubscribeTrades()]);
      if (socket !== this.#socket || this.#state !== 'reconnecting') return;
      this.#state = 'open';
      this.#reconnector?.succeeded();
      if (gap !== undefined) this.#gap.emit({ reason: gap, ...snapshots! });
      this.#resumed.emit({ fromPseq, toPseq: this.#pseq, epoch: this.#epoch, replayed });
    } catch (error) {
      if (socket !== this.#socket || this.#state === 'closed') return;
      if (error instanceof RejectError && (error.code === 'unauthenticated' || error.code === 'bad_request')) {
        // The token is no longer accepted: trying again would only be refused again.
        socket.onclose = null;
        socket.close(1000, '');
        this.#finish({ code: 1000, reason: `reconnect gave up: ${error.message}` });
      } else if (socket.readyState === OPEN) {
        socket.close(1000, 'session restore failed');
      }
    }
  }

  async #resubscribeTrades(): Promise<void> {
    const syms = [...this.#trades.keys()];
    if (syms.length === 0) return;
    const replies = await Promise.all(this.#sendFrame(syms.map((sym) => ({ op: 'sub', ch: 'trades', sym })), true, true));
    for (const reply of replies) {
      if (reply.type !== 'subbed') throw new ClientError('unexpected_reply', `resubscribe to trades: ${JSON.stringify(reply)}`);
    }
  }

  // ---- internals: incoming ----

  #onFrame(data: unknown): void {
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
        this.#dispatch(message as unknown as ServerMessage);
      } else {
        this.badFrames++;
      }
    }
  }

  #dispatch(message: ServerMessage): void {
    this.#message.emit(message);
    switch (message.type) {
      case 'exec':
        if (message.pseq !== undefined) this.#pseq = message.pseq;
        this.#account.applyExec(message);
        this.#exec.emit(message);
        return;
      case 'trade':
        this.#trade.emit(message);
        this.#trades.get(message.sym)?.emit(message);
        return;
      case 'book':
        this.#bookEvents.emit(message);
        this.#books.onBook(message);
        return;
      case 'error':
        this.#error.emit(message);
        return;
      case 'balance':
        if (message.pseq !== undefined) this.#pseq = message.pseq;
        this.#account.applyBalance(message);
        this.#balance.emit(message);
        return;
      case 'login':
        // Before any message of the same frame: the replayed ones that follow count from here.
        this.#epoch = message.epoch;
        this.#pseq = message.pseq - (message.resumed ?? 0);
        this.#pending.resolve(message);
        return;
      default:
        this.#pending.resolve(message);
    }
  }
}
