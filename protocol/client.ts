// A typed Spotwire client for Node and the browser. It speaks only the browser WebSocket API (pass
// `ws`'s WebSocket in Node) and uses no Node-only module, so the same file runs in both.
//
// Requests carry an auto-incrementing integer `rid`; replies are matched back by it. Typed calls
// (`place`, `login`, …) reject with a RejectError on a `reject` reply; the raw `request` and
// `send` resolve with whatever reply comes, for tests that want to look at rejects as values.
// Book subscriptions keep a LocalBook per market and resubscribe on a seq gap or a bad checksum,
// as the contract asks.
import { createCodec, type Codec } from './codec.js';
import type { Channel } from './constants.js';
import {
  ClientError,
  DEFAULT_MAX_PENDING,
  DEFAULT_TIMEOUT_MS,
  RejectError,
  type AmendParams,
  type BookSubscribeOptions,
  type ClientOptions,
  type CloseInfo,
  type LoginOptions,
  type OrderRefInput,
  type PlaceParams,
  type RawRequest,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client-api.js';
import { Emitter, type Listener } from './emitter.js';
import { LocalBook } from './local-book.js';
import { MarketDataEvents, type CandlesSubscribeOptions } from './market-data-events.js';
import type {
  Ack,
  BalanceMessage,
  BalancesReply,
  CancelAfterAck,
  OrderReply,
  MyTradesReply,
  BalanceView,
  BookMessage,
  ErrorMessage,
  Exec,
  LoginReply,
  MarketsReply,
  OrderRef,
  OrdersReply,
  PongReply,
  Reply,
  ServerMessage,
  SubbedReply,
  TradeMessage,
  TransferAck,
  UnsubbedReply,
} from './messages.js';
import type { CandleInterval, TransferOp } from './constants.js';
import type { CandleMessage, CandlesSnapshot, TickerMessage, TradesSnapshot } from './messages.js';

export * from './client-api.js';
export type { Listener } from './emitter.js';
export type { CandlesSubscribeOptions } from './market-data-events.js';

const OPEN = 1;

// ---- internal state ----

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface BookSubscription {
  readonly sym: string;
  readonly depth: number | undefined;
  readonly interval: number | undefined;
  readonly book: LocalBook;
  readonly onUpdate: ((book: LocalBook) => void) | undefined;
  /** Settles the promise subscribeBook returned, on the first good snapshot. */
  ready: { resolve: (book: LocalBook) => void; reject: (error: Error) => void } | undefined;
  readyTimer: ReturnType<typeof setTimeout> | undefined;
  resyncing: boolean;
}

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

export class SpotwireClient {
  readonly #socket: WebSocketLike;
  readonly #codec: Codec;
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #pending = new Map<number, Pending>();
  #nextRid = 1;
  #closed = false;

  readonly #message = new Emitter<ServerMessage>();
  readonly #exec = new Emitter<Exec>();
  readonly #trade = new Emitter<TradeMessage>();
  readonly #bookEvents = new Emitter<BookMessage>();
  readonly #error = new Emitter<ErrorMessage>();
  readonly #balance = new Emitter<BalanceMessage>();
  #epoch = '';
  #pseq = 0;
  /** The logged-in account's balances as the server last reported them, by asset. */
  readonly #balances = new Map<string, BalanceView>();
  readonly #close = new Emitter<CloseInfo>();

  readonly #books = new Map<string, BookSubscription>();
  readonly #trades = new Map<string, Emitter<TradeMessage>>();
  readonly #marketData = new MarketDataEvents();

  /** Book resubscriptions after a seq gap or checksum mismatch, over all markets. */
  resyncs = 0;
  /** Server frames that were not MessagePack or held something other than messages. */
  badFrames = 0;

  private constructor(socket: WebSocketLike, options: ClientOptions) {
    this.#socket = socket;
    this.#codec = createCodec();
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    socket.onmessage = (event: { data: unknown }) => this.#onFrame(event.data);
    socket.onclose = (event: { code?: number; reason?: string }) =>
      this.#onClosed({ code: event.code ?? 1006, reason: event.reason ?? '' });
    socket.onerror = () => {
      // A close event always follows; that is where pending requests are failed.
    };
  }

  /** Opens a connection; resolves once it is open. */
  static connect(url: string, options: ClientOptions = {}): Promise<SpotwireClient> {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Ctor === undefined) {
      return Promise.reject(new ClientError('connect_failed', 'no WebSocket implementation: pass options.WebSocket'));
    }
    return new Promise<SpotwireClient>((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = options.protocols === undefined ? new Ctor(url) : new Ctor(url, options.protocols);
      } catch (error) {
        reject(new ClientError('connect_failed', `cannot connect to ${url}: ${String(error)}`));
        return;
      }
      socket.binaryType = 'arraybuffer';
      socket.onopen = () => {
        socket.onopen = null;
        resolve(new SpotwireClient(socket, options));
      };
      socket.onerror = () => {
        reject(new ClientError('connect_failed', `cannot connect to ${url}`));
      };
      socket.onclose = (event: { code?: number }) => {
        reject(new ClientError('connect_failed', `connection to ${url} closed before open (${event.code ?? 1006})`));
      };
    });
  }

  get isOpen(): boolean {
    return !this.#closed && this.#socket.readyState === OPEN;
  }

  /** Requests awaiting a reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Closes the connection; every pending request is rejected with a ClientError 'closed' now. */
  close(code = 1000, reason = ''): void {
    if (!this.#closed) this.#socket.close(code, reason);
    this.#failAll('client closed the connection');
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

  /**
   * The account's balance of an asset as last seen in a `balances` reply or a `balance` push
   * (undefined before either): a bot can size orders from it without a round trip.
   */
  balance(asset: string): BalanceView | undefined {
    return this.#balances.get(asset);
  }

  onClose(listener: Listener<CloseInfo>): () => void {
    return this.#close.on(listener);
  }

  /** Every message the server sends, before it is dispatched. */
  onMessage(listener: Listener<ServerMessage>): () => void {
    return this.#message.on(listener);
  }

  // ---- raw requests ----

  /** Sends one request and resolves with its reply, whatever it is (a reject too). */
  request(message: RawRequest): Promise<Reply> {
    const [reply] = this.#sendFrame([message], false);
    return reply!;
  }

  /** Pipelines several requests in one array frame; resolves with their replies in order. */
  send(messages: readonly RawRequest[]): Promise<Reply[]> {
    return Promise.all(this.#sendFrame(messages, true));
  }

  /**
   * Sends bytes as a binary frame or a string as a text frame, with no rid and no reply tracking:
   * for tests of what the server does with odd frames. Whatever comes back arrives via onMessage.
   */
  sendRaw(data: Uint8Array | string): void {
    this.#assertOpen();
    this.#socket.send(data);
  }

  // ---- typed requests ----

  async login(token: string, options: LoginOptions = {}): Promise<LoginReply> {
    const message: Record<string, unknown> = { op: 'login', token };
    if (options.cancelOnDisconnect !== undefined) message.cancelOnDisconnect = options.cancelOnDisconnect;
    if (options.resume !== undefined) {
      message.resumeFrom = options.resume.pseq;
      message.epoch = options.resume.epoch;
    }
    const reply = await this.#expect<LoginReply>(message as RawRequest, 'login');
    this.#epoch = reply.epoch;
    // Messages in the reply's frame (resumed ones included) were dispatched before this runs and
    // may already have moved pseq past the reply's.
    this.#pseq = Math.max(this.#pseq, reply.pseq);
    return reply;
  }

  /**
   * Where this connection's private stream stands: the server life (`epoch`) and the last `pseq`
   * received. Pass it to login's `resume` on a new connection after this one drops.
   */
  get privateStream(): { epoch: string; pseq: number } {
    return { epoch: this.#epoch, pseq: this.#pseq };
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
   * end, so the reply holds them all as the contract's `orders` does.
   */
  async orders(sym?: string): Promise<OrdersReply> {
    const first = await this.ordersPage(sym === undefined ? {} : { sym });
    const orders = [...first.orders];
    for (let page = first; page.more === true && typeof page.next === 'string'; ) {
      page = await this.ordersPage(sym === undefined ? { after: page.next } : { sym, after: page.next });
      orders.push(...page.orders);
    }
    return { ...first, orders, more: false, next: null };
  }

  /** One page of open orders: at most `limit` (server default and maximum 1000), after a `next` cursor. */
  async ordersPage(params: { sym?: string; limit?: number; after?: string }): Promise<OrdersReply> {
    return this.#expect({ op: 'orders', ...params }, 'orders');
  }

  /**
   * The dead-man switch: unless this is called again within `timeoutMs`, the server cancels all
   * the account's orders (reason `timeout`). 0 turns it off. Resolves with when it would fire.
   */
  /** One order's state by id or cid: open, or how it ended if it closed recently. */
  async order(sym: string, ref: OrderRefInput): Promise<OrderReply> {
    return this.#expect<OrderReply>({ op: 'order', sym, ...toRef(ref) }, 'order');
  }

  /** The account's recent fills, newest first; page on with `before` = the last one's `n`. */
  async myTrades(params: { sym?: string; limit?: number; before?: number } = {}): Promise<MyTradesReply> {
    return this.#expect<MyTradesReply>({ op: 'my_trades', ...params }, 'my_trades');
  }

  async cancelAfter(timeoutMs: number): Promise<CancelAfterAck> {
    return this.#expect<CancelAfterAck>({ op: 'cancel_after', timeout: timeoutMs }, 'ack');
  }

  /** Own balances; with `account`, another account's (admin connections only). */
  async balances(account?: string): Promise<BalancesReply> {
    const reply = await this.#expect<BalancesReply>(account === undefined ? { op: 'balances' } : { op: 'balances', account }, 'balances');
    if (account === undefined) for (const view of reply.balances) this.#balances.set(view.asset, { ...view });
    return reply;
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

  /**
   * The server clock against this one, from the pings with the shortest round trip of `samples`:
   * `offsetMs` is what to add to Date.now() to get server time (acks', execs', trades' `ts`).
   */
  async clockOffset(samples = 5): Promise<{ offsetMs: number; rttMs: number }> {
    let best = { offsetMs: 0, rttMs: Infinity };
    for (let i = 0; i < samples; i++) {
      const sentAt = Date.now();
      const pong = await this.ping();
      const receivedAt = Date.now();
      const rttMs = receivedAt - sentAt;
      if (rttMs < best.rttMs) best = { offsetMs: pong.ts - (sentAt + receivedAt) / 2, rttMs };
    }
    return best;
  }

  // ---- subscriptions ----

  /**
   * Subscribes to a market's book and keeps it in a LocalBook; resolves with that book once the
   * first snapshot is applied. `onUpdate` runs after every message applied cleanly.
   */
  subscribeBook(sym: string, options: BookSubscribeOptions = {}): Promise<LocalBook> {
    if (this.#books.has(sym)) return Promise.reject(new Error(`already subscribed to the book of ${sym}`));
    const sub: BookSubscription = {
      sym,
      depth: options.depth,
      interval: options.interval,
      book: new LocalBook(sym),
      onUpdate: options.onUpdate,
      ready: undefined,
      readyTimer: undefined,
      resyncing: false,
    };
    const ready = new Promise<LocalBook>((resolve, reject) => {
      sub.ready = { resolve, reject };
    });
    this.#books.set(sym, sub);
    // The snapshot may come in a later frame than `subbed`, so the wait for it has its own timer.
    sub.readyTimer = setTimeout(
      () => this.#settleReady(sub, new ClientError('timeout', `no book snapshot for ${sym} in ${this.#timeoutMs} ms`)),
      this.#timeoutMs,
    );
    this.#expect<SubbedReply>(this.#subMessage(sub), 'subbed').catch((error: unknown) => {
      if (this.#books.get(sym) === sub) this.#books.delete(sym);
      this.#settleReady(sub, error instanceof Error ? error : new Error(String(error)));
    });
    return ready;
  }

  /** The LocalBook of a subscribed market. */
  book(sym: string): LocalBook | undefined {
    return this.#books.get(sym)?.book;
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
      const sub = this.#books.get(sym);
      if (sub !== undefined) {
        this.#books.delete(sym);
        this.#settleReady(sub, new Error(`unsubscribed from the book of ${sym}`));
      }
    } else if (ch === 'trades') {
      this.#trades.get(sym)?.clear();
      this.#trades.delete(sym);
    }
    return this.#expect<UnsubbedReply>({ op: 'unsub', ch, sym }, 'unsubbed');
  }

  // ---- market-data channels: candles, ticker, recent trades ----

  /** Subscribes to a market's candles of `interval`; resolves with the snapshot. Updates: onCandle. */
  subscribeCandles(sym: string, interval: CandleInterval, options: CandlesSubscribeOptions = {}): Promise<CandlesSnapshot> {
    const request = options.limit === undefined ? { op: 'sub', ch: 'candles', sym, interval } : { op: 'sub', ch: 'candles', sym, interval, limit: options.limit };
    const matches = (m: CandlesSnapshot): boolean => m.sym === sym && m.interval === interval;
    return this.#marketData.withSnapshot(this.#marketData.candles, matches, () => this.#expect<SubbedReply>(request, 'subbed'), `candles ${sym} ${interval}`);
  }

  unsubscribeCandles(sym: string, interval: CandleInterval): Promise<UnsubbedReply> {
    return this.#expect<UnsubbedReply>({ op: 'unsub', ch: 'candles', sym, interval }, 'unsubbed');
  }

  /** Subscribes to a market's ticker; resolves with the first one. Later ones: onTicker (unsubscribe('ticker', sym) ends it). */
  subscribeTicker(sym: string): Promise<TickerMessage> {
    const matches = (m: TickerMessage): boolean => m.sym === sym;
    return this.#marketData.withSnapshot(this.#marketData.ticker, matches, () => this.#expect<SubbedReply>({ op: 'sub', ch: 'ticker', sym }, 'subbed'), `ticker ${sym}`);
  }

  /**
   * Subscribes to a market's trades with a snapshot of the last `recent` (1–500) first; resolves
   * with it. `listener` gets each live trade after it, none missing or repeated.
   */
  async subscribeTradesWithRecent(sym: string, recent: number, listener: Listener<TradeMessage>): Promise<TradesSnapshot> {
    const emitter = this.#trades.get(sym) ?? new Emitter<TradeMessage>();
    this.#trades.set(sym, emitter);
    const off = emitter.on(listener);
    const matches = (m: TradesSnapshot): boolean => m.sym === sym;
    try {
      return await this.#marketData.withSnapshot(this.#marketData.trades, matches, () => this.#expect<SubbedReply>({ op: 'sub', ch: 'trades', sym, recent }, 'subbed'), `trades ${sym}`);
    } catch (error) {
      off();
      throw error;
    }
  }

  /** Candle updates of every subscribed series: the open candle's new state, and each close (`closed: true`). */
  onCandle(listener: Listener<CandleMessage>): () => void {
    return this.#marketData.candle.on(listener);
  }

  /** Every ticker of every subscribed market, the first one of a subscription included. */
  onTicker(listener: Listener<TickerMessage>): () => void {
    return this.#marketData.ticker.on(listener);
  }

  // ---- internals ----

  #assertOpen(): void {
    if (this.#closed || this.#socket.readyState !== OPEN) throw new ClientError('closed', 'connection is closed');
  }

  /** Sends `messages` as one frame (an array if `asArray`); one reply promise per message. */
  #sendFrame(messages: readonly RawRequest[], asArray: boolean): Promise<Reply>[] {
    try {
      this.#assertOpen();
      if (this.#pending.size + messages.length > this.#maxPending) {
        throw new ClientError('too_many_pending', `more than ${this.#maxPending} requests awaiting replies`);
      }
    } catch (error) {
      return messages.map(() => Promise.reject(error as Error));
    }
    const stamped: MessageMap[] = [];
    const replies: Promise<Reply>[] = [];
    for (const message of messages) {
      const rid = this.#nextRid++;
      stamped.push({ ...message, rid });
      replies.push(
        new Promise<Reply>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.#pending.delete(rid);
            reject(new ClientError('timeout', `no reply to ${message.op} (rid ${rid}) in ${this.#timeoutMs} ms`));
          }, this.#timeoutMs);
          this.#pending.set(rid, { resolve, reject, timer });
        }),
      );
    }
    this.#socket.send(this.#codec.encode(asArray ? stamped : stamped[0]));
    return replies;
  }

  /** A typed request: resolves with a reply of type `type`, rejects with RejectError on `reject`. */
  async #expect<R extends Reply>(message: RawRequest, type: R['type']): Promise<R> {
    const reply = await this.request(message);
    if (reply.type === 'reject') throw new RejectError(reply);
    if (reply.type !== type) {
      throw new ClientError('unexpected_reply', `expected ${type} to ${message.op}, got ${String(reply.type)}`);
    }
    return reply as R;
  }

  #subMessage(sub: BookSubscription): RawRequest {
    return {
      op: 'sub',
      ch: 'book',
      sym: sub.sym,
      ...(sub.depth === undefined ? {} : { depth: sub.depth }),
      ...(sub.interval === undefined ? {} : { interval: sub.interval }),
    };
  }

  #settleReady(sub: BookSubscription, outcome: Error | LocalBook): void {
    if (sub.readyTimer !== undefined) clearTimeout(sub.readyTimer);
    sub.readyTimer = undefined;
    const ready = sub.ready;
    sub.ready = undefined;
    if (ready === undefined) return;
    if (outcome instanceof LocalBook) ready.resolve(outcome);
    else ready.reject(outcome);
  }

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
        this.#exec.emit(message);
        return;
      case 'trade':
        this.#trade.emit(message);
        this.#trades.get(message.sym)?.emit(message);
        return;
      case 'book':
        this.#bookEvents.emit(message);
        this.#onBook(message);
        return;
      case 'error':
        this.#error.emit(message);
        return;
      case 'balance':
        if (message.pseq !== undefined) this.#pseq = message.pseq;
        this.#balances.set(message.asset, { asset: message.asset, available: message.available, hold: message.hold });
        this.#balance.emit(message);
        return;
      case 'candle':
      case 'candles':
      case 'ticker':
      case 'trades':
        this.#marketData.dispatch(message);
        return;
      default:
        this.#onReply(message);
    }
  }

  #onReply(reply: Reply): void {
    if (typeof reply.rid !== 'number') return;
    const pending = this.#pending.get(reply.rid);
    if (pending === undefined) return;
    this.#pending.delete(reply.rid);
    clearTimeout(pending.timer);
    pending.resolve(reply);
  }

  #onBook(msg: BookMessage): void {
    const sub = this.#books.get(msg.sym);
    if (sub === undefined) return;
    // A snapshot ends a resync whatever its checksum says, so a bad one starts another.
    if (msg.snapshot === true) sub.resyncing = false;
    const result = sub.book.apply(msg);
    if (result.ok) {
      this.#settleReady(sub, sub.book);
      sub.onUpdate?.(sub.book);
    } else if (result.reason !== 'no_snapshot') {
      this.#resync(sub);
    }
    // 'no_snapshot': a delta still in flight from before a resync; the coming snapshot replaces it.
  }

  #resync(sub: BookSubscription): void {
    if (sub.resyncing || !this.isOpen) return;
    sub.resyncing = true;
    this.resyncs++;
    // unsub and sub in one frame, so the server handles them back to back and in order.
    this.send([{ op: 'unsub', ch: 'book', sym: sub.sym }, this.#subMessage(sub)])
      .then(([, subbed]) => {
        if (subbed?.type !== 'subbed') throw new Error(`resubscribe to ${sub.sym} failed: ${JSON.stringify(subbed)}`);
      })
      .catch(() => {
        // The book stays out of sync (book.synced is false); the next delta finds no snapshot.
        sub.resyncing = false;
      });
  }

  #failAll(reason: string): void {
    this.#closed = true;
    for (const [rid, pending] of this.#pending) {
      this.#pending.delete(rid);
      clearTimeout(pending.timer);
      pending.reject(new ClientError('closed', `${reason} before a reply came`));
    }
    for (const sub of this.#books.values()) this.#settleReady(sub, new ClientError('closed', reason));
  }

  #onClosed(info: CloseInfo): void {
    this.#failAll('connection closed');
    this.#socket.onmessage = null;
    this.#socket.onclose = null;
    this.#close.emit(info);
  }
}
