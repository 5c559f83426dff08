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
import { AccountSnapshots } from './account-snapshots.js';
import { AccountView, type LocalOrder } from './account-view.js';
import { BookSubscriptions } from './book-subscriptions.js';
import { ClientConnection } from './client-connection.js';
import { ClientEmitters, ClientEvents } from './client-events.js';
import { loginRequest, toOrderRef } from './client-requests.js';
import { measureClockOffset } from './clock-offset.js';
import type { CandleInterval, Channel, TransferOp } from './constants.js';
import {
  ClientError,
  DEFAULT_TIMEOUT_MS,
  type AmendParams,
  type BookSubscribeOptions,
  type ClientOptions,
  type ClientState,
  type LoginOptions,
  type OrderRefInput,
  type PlaceParams,
  type RawRequest,
  type WebSocketLike,
} from './client-api.js';
import type { Listener } from './emitter.js';
import type { LocalBook } from './local-book.js';
import type { CandlesSubscribeOptions } from './market-data-events.js';
import { MarketDataSubscriptions } from './market-data-subscriptions.js';
import { openSocket } from './open-socket.js';
import { SessionRestore } from './session-restore.js';
import { TradeSubscriptions } from './trade-subscriptions.js';
import type {
  Ack,
  BalancesReply,
  BalanceView,
  CandleMessage,
  CandlesSnapshot,
  CancelAfterAck,
  LoginReply,
  MarketsReply,
  MyTradesReply,
  OrderReply,
  OrdersReply,
  PongReply,
  Reply,
  ServerMessage,
  SubbedReply,
  TickerMessage,
  TradeMessage,
  TradesSnapshot,
  TransferAck,
  UnsubbedReply,
} from './messages.js';

export * from './client-api.js';
export type { LocalOrder } from './account-view.js';
export type { Listener } from './emitter.js';
export type { CandlesSubscribeOptions } from './market-data-events.js';

export class SpotwireClient extends ClientEvents {
  readonly #conn: ClientConnection;
  readonly #session: SessionRestore;

  readonly #emit: ClientEmitters;
  #epoch = '';
  #pseq = 0;
  readonly #account = new AccountView();
  readonly #snapshots = new AccountSnapshots(this.#account, (message, type, internal, onReply) =>
    this.#conn.expect(message, type, internal, onReply),
  );

  readonly #books: BookSubscriptions;
  readonly #trades: TradeSubscriptions;
  readonly #marketData: MarketDataSubscriptions;

  private constructor(socket: WebSocketLike, url: string, options: ClientOptions) {
    const emitters = new ClientEmitters();
    super(emitters);
    this.#emit = emitters;
    this.#books = new BookSubscriptions({
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      send: (messages) => Promise.all(this.#conn.send(messages, true, true)),
      expect: (message, type) => this.#conn.expect(message, type, true),
      canSend: () => this.#conn.socketUsable,
    });
    this.#session = new SessionRestore({
      login: (token, options) => this.#login(token, options, true),
      armDeadMan: async (timeoutMs) => {
        await this.#expect<CancelAfterAck>({ op: 'cancel_after', timeout: timeoutMs }, 'ack', true);
      },
      snapshots: async () => ({
        orders: (await this.#snapshots.orders(undefined, true)).orders,
        balances: (await this.#snapshots.balances(undefined, true)).balances,
      }),
      resubscribe: async () => {
        const others = this.#marketData.resubscribeAll();
        await Promise.all([this.#books.resubscribeAll(), this.#trades.resubscribeAll(), ...others]);
      },
      privateStream: () => this.privateStream,
      restored: (generation) => this.#conn.restored(generation),
      failed: (generation, error) => this.#conn.restoreFailed(generation, error),
      gap: (event) => this.#emit.gap.emit(event),
      resumed: (event) => this.#emit.resumed.emit(event),
    });
    this.#trades = new TradeSubscriptions((message, internal) => this.#conn.expect<SubbedReply>(message, 'subbed', internal));
    this.#marketData = new MarketDataSubscriptions((message, type, internal) => this.#expect(message, type, internal), this.#trades);
    this.#conn = new ClientConnection(socket, url, options, {
      dispatch: (message) => this.#dispatch(message),
      restore: (generation) => void this.#session.restore(generation),
      dropped: () => this.#books.markAllStale(),
      reconnecting: (event) => this.#emit.reconnecting.emit(event),
      finished: (info) => {
        this.#books.failReady(new ClientError('closed', 'connection closed'));
        this.#emit.close.emit(info);
      },
    });
  }

  /** Opens a connection; resolves once it is open. */
  static async connect(url: string, options: ClientOptions = {}): Promise<SpotwireClient> {
    return new SpotwireClient(await openSocket(url, options), url, options);
  }

  get isOpen(): boolean {
    return this.#conn.isOpen;
  }

  /** `open`, `reconnecting` (only with the reconnect option) or `closed` (for good). */
  get state(): ClientState {
    return this.#conn.state;
  }

  /** Requests awaiting a reply. */
  get pendingCount(): number {
    return this.#conn.pendingCount;
  }

  /** Book resubscriptions after a seq gap or checksum mismatch, over all markets. */
  get resyncs(): number {
    return this.#books.resyncs;
  }

  /** Server frames that were not MessagePack or held something other than messages. */
  get badFrames(): number {
    return this.#conn.badFrames;
  }

  /** Closes the connection for good (no reconnect); every pending request is rejected with a ClientError 'closed' now. */
  close(code = 1000, reason = ''): void {
    this.#conn.close(code, reason);
    this.#books.failReady(new ClientError('closed', 'client closed the connection'));
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
    const [reply] = this.#conn.send([message], false, false);
    return reply!;
  }

  /** Pipelines several requests in one array frame; resolves with their replies in order. */
  send(messages: readonly RawRequest[]): Promise<Reply[]> {
    return Promise.all(this.#conn.send(messages, true, false));
  }

  /**
   * Sends bytes as a binary frame or a string as a text frame, with no rid and no reply tracking:
   * for tests of what the server does with odd frames. Whatever comes back arrives via onMessage.
   */
  sendRaw(data: Uint8Array | string): void {
    this.#conn.sendRaw(data);
  }

  // ---- typed requests ----

  async login(token: string, options: LoginOptions = {}): Promise<LoginReply> {
    const reply = await this.#login(token, options, false);
    this.#session.loggedIn(token, options.cancelOnDisconnect);
    return reply;
  }

  async markets(): Promise<MarketsReply> {
    return this.#expect({ op: 'markets' }, 'markets');
  }

  async place(params: PlaceParams): Promise<Ack> {
    return this.#expect({ op: 'place', ...params }, 'ack');
  }

  async cancel(sym: string, ref: OrderRefInput): Promise<Ack> {
    return this.#expect({ op: 'cancel', sym, ...toOrderRef(ref) }, 'ack');
  }

  async cancelAll(sym?: string): Promise<Ack> {
    return this.#expect(sym === undefined ? { op: 'cancel_all' } : { op: 'cancel_all', sym }, 'ack');
  }

  async amend(sym: string, ref: OrderRefInput, change: AmendParams): Promise<Ack> {
    return this.#expect({ op: 'amend', sym, ...toOrderRef(ref), ...change }, 'ack');
  }

  /**
   * Every open order (of `sym`, or all markets): follows the server's pages (`more`/`next`) to the
   * end, so the reply holds them all as the contract's `orders` does; openOrders() shows them too.
   */
  async orders(sym?: string): Promise<OrdersReply> {
    return this.#snapshots.orders(sym, false);
  }

  /** One page of open orders: at most `limit` (server default and maximum 1000), after a `next` cursor. */
  async ordersPage(params: { sym?: string; limit?: number; after?: string }): Promise<OrdersReply> {
    return this.#expect({ op: 'orders', ...params }, 'orders');
  }

  /** One order's state by id or cid: open, or how it ended if it closed recently. */
  async order(sym: string, ref: OrderRefInput): Promise<OrderReply> {
    return this.#expect<OrderReply>({ op: 'order', sym, ...toOrderRef(ref) }, 'order');
  }

  /** One page of the account's fills, newest first; continue with `before` (memory) or `after: reply.next` (history). */
  async myTrades(
    params: { sym?: string; limit?: number; before?: number; after?: string; from?: number; to?: number } = {},
  ): Promise<MyTradesReply> {
    return this.#expect<MyTradesReply>({ op: 'my_trades', ...params }, 'my_trades');
  }

  /**
   * The dead-man switch: unless this is called again within `timeoutMs`, the server cancels all
   * the account's orders (reason `timeout`). 0 turns it off. Resolves with when it would fire. A
   * reconnecting client arms it again, with the last timeout set, as soon as it has logged in.
   */
  async cancelAfter(timeoutMs: number): Promise<CancelAfterAck> {
    const ack = await this.#expect<CancelAfterAck>({ op: 'cancel_after', timeout: timeoutMs }, 'ack');
    this.#session.deadManSet(ack.timeout);
    return ack;
  }

  /** Own balances; with `account`, another account's (admin connections only). */
  async balances(account?: string): Promise<BalancesReply> {
    return this.#snapshots.balances(account, false);
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
  clockOffset(samples = 5): Promise<{ offsetMs: number; rttMs: number }> {
    return measureClockOffset(() => this.ping(), samples);
  }

  // ---- subscriptions ----

  /**
   * Subscribes to a market's book and keeps it in a LocalBook; resolves with that book once the
   * first snapshot is applied. `onUpdate` runs after every message applied cleanly.
   */
  subscribeBook(sym: string, options: BookSubscribeOptions = {}): Promise<LocalBook> {
    try {
      this.#conn.assertOpen(false);
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
  subscribeTrades(sym: string, listener: Listener<TradeMessage>): Promise<SubbedReply> {
    return this.#trades.subscribe(sym, listener);
  }

  /** Ends a subscription and drops its local state (LocalBook or trade listeners) at once. */
  async unsubscribe(ch: Channel, sym: string): Promise<UnsubbedReply> {
    if (ch === 'book') {
      this.#books.remove(sym);
    } else if (ch === 'trades') {
      this.#trades.remove(sym);
    } else if (ch === 'ticker') {
      this.#marketData.forgetTicker(sym);
    }
    return this.#expect<UnsubbedReply>({ op: 'unsub', ch, sym }, 'unsubbed');
  }

  // ---- market-data channels: candles, ticker, recent trades ----

  /** Subscribes to a market's candles of `interval`; resolves with the snapshot. Updates: onCandle. */
  subscribeCandles(sym: string, interval: CandleInterval, options: CandlesSubscribeOptions = {}): Promise<CandlesSnapshot> {
    return this.#marketData.subscribeCandles(sym, interval, options);
  }

  unsubscribeCandles(sym: string, interval: CandleInterval): Promise<UnsubbedReply> {
    return this.#marketData.unsubscribeCandles(sym, interval);
  }

  /** Subscribes to a market's ticker; resolves with the first one. Later ones: onTicker (unsubscribe('ticker', sym) ends it). */
  subscribeTicker(sym: string): Promise<TickerMessage> {
    return this.#marketData.subscribeTicker(sym);
  }

  /**
   * Subscribes to a market's trades with a snapshot of the last `recent` (1–500) first; resolves
   * with it. `listener` gets each live trade after it, none missing or repeated.
   */
  subscribeTradesWithRecent(sym: string, recent: number, listener: Listener<TradeMessage>): Promise<TradesSnapshot> {
    return this.#marketData.subscribeTradesWithRecent(sym, recent, listener);
  }

  /** Candle updates of every subscribed series: the open candle's new state, and each close (`closed: true`). */
  onCandle(listener: Listener<CandleMessage>): () => void {
    return this.#marketData.events.candle.on(listener);
  }

  /** Every ticker of every subscribed market, the first one of a subscription included. */
  onTicker(listener: Listener<TickerMessage>): () => void {
    return this.#marketData.events.ticker.on(listener);
  }

  // ---- internals: requests ----

  /** A typed request: resolves with a reply of type `type`, rejects with RejectError on `reject`. */
  #expect<R extends Reply>(message: RawRequest, type: R['type'], internal = false): Promise<R> {
    return this.#conn.expect(message, type, internal);
  }

  async #login(token: string, options: LoginOptions, internal: boolean): Promise<LoginReply> {
    return this.#expect<LoginReply>(loginRequest(token, options), 'login', internal);
  }

  // ---- internals: incoming ----

  #dispatch(message: ServerMessage): void {
    this.#emit.message.emit(message);
    switch (message.type) {
      case 'exec':
        if (message.pseq !== undefined) this.#pseq = message.pseq;
        this.#account.applyExec(message);
        this.#emit.exec.emit(message);
        return;
      case 'trade':
        this.#emit.trade.emit(message);
        this.#trades.emit(message);
        return;
      case 'book':
        this.#emit.book.emit(message);
        this.#books.onBook(message);
        return;
      case 'error':
        this.#emit.error.emit(message);
        return;
      case 'balance':
        if (message.pseq !== undefined) this.#pseq = message.pseq;
        this.#account.applyBalance(message);
        this.#emit.balance.emit(message);
        return;
      case 'candle':
      case 'candles':
      case 'ticker':
      case 'trades':
        this.#marketData.events.dispatch(message);
        return;
      case 'login':
        // Before any message of the same frame: the replayed ones that follow count from here.
        this.#epoch = message.epoch;
        this.#pseq = message.pseq - (message.resumed ?? 0);
        this.#conn.resolve(message);
        return;
      default:
        this.#conn.resolve(message);
    }
  }
}
