// The page's connection to the server: connects, reads the markets, logs in again with the token
// kept in sessionStorage, subscribes the selected market's channels, and after a drop reconnects
// with backoff and does all of that again (the snapshots replace whatever went stale). Every
// server message goes through `#onMessage` in wire order, replies included, so a snapshot reply
// (orders, balances, my_trades) lands exactly between the pushes before and after it.
import { SpotwireClient, type Exec, type PlaceParams, type Reply, type ServerMessage } from '@spotwire/client';
import { BookSync } from './book-sync.js';
import {
  foldTrade,
  INTERVAL_MS,
  MAX_CANDLES,
  pageTicker,
  upsertCandle,
  type CandleInterval,
  type MarketDataMessage,
} from './market-data.js';
import { MAX_FILLS, MAX_TAPE, type PageState } from './state.js';

export const BOOK_DEPTH = 20;
export const CANDLE_INTERVAL: CandleInterval = '1m';
export const RECENT_TRADES = 50;
const TOKEN_KEY = 'spotwire.token';
const MAX_BACKOFF_MS = 5_000;

export interface SessionHooks {
  /** Called after each applied book message, with the time it arrived (delta-to-paint). */
  readonly onBookMessage?: (arrivedAt: number) => void;
}

export class Session {
  client: SpotwireClient | null = null;
  #backoffMs = 250;
  #stopped = false;
  /** The next close is the page's own (log out): reconnect at once, count no drop. */
  #closingOnPurpose = false;
  #nextCid = 1;

  constructor(
    private readonly url: string,
    private readonly state: PageState,
    private readonly changed: () => void,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>,
    private readonly hooks: SessionHooks = {},
  ) {}

  start(): void {
    void this.#open();
  }

  async #open(): Promise<void> {
    let client: SpotwireClient;
    try {
      client = await SpotwireClient.connect(this.url);
    } catch {
      this.#retry();
      return;
    }
    if (this.#stopped) return client.close();
    this.client = client;
    client.onMessage((message) => this.#onMessage(client, message));
    client.onClose(() => this.#dropped(client));
    try {
      const { markets, assets } = await client.markets();
      this.state.markets = markets;
      this.state.assets = assets;
      const wanted = markets.find((m) => m.sym === this.state.sym) ?? markets[0];
      const token = this.storage.getItem(TOKEN_KEY);
      if (token !== null) await this.login(token).catch(() => undefined);
      this.state.connection = 'open';
      this.#backoffMs = 250;
      if (wanted !== undefined) await this.#subscribe(client, wanted.sym);
    } catch {
      // The connection dropped during setup: onClose schedules the retry.
    }
    this.changed();
  }

  #dropped(client: SpotwireClient): void {
    if (this.client !== client) return;
    this.client = null;
    this.state.connection = 'reconnecting';
    if (this.#closingOnPurpose) this.#backoffMs = 0;
    else this.state.reconnects++;
    this.#closingOnPurpose = false;
    if (this.state.book !== null) this.state.book.state = 'waiting';
    this.changed();
    this.#retry();
  }

  #retry(): void {
    if (this.#stopped) return;
    this.state.connection = 'reconnecting';
    this.changed();
    setTimeout(() => void this.#open(), this.#backoffMs);
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, this.#backoffMs * 2));
  }

  stop(): void {
    this.#stopped = true;
    this.client?.close();
  }

  /** Shows another market: the old one's channels are left, the new one's subscribed. */
  async selectMarket(sym: string): Promise<void> {
    const client = this.client;
    const old = this.state.sym;
    if (client === null || sym === old) return;
    await client.send([
      { op: 'unsub', ch: 'book', sym: old },
      { op: 'unsub', ch: 'trades', sym: old },
      ...(this.state.candleSource === 'server' ? [{ op: 'unsub', ch: 'candles', sym: old, interval: CANDLE_INTERVAL }] : []),
      ...(this.state.tickerSource === 'server' ? [{ op: 'unsub', ch: 'ticker', sym: old }] : []),
    ]);
    await this.#subscribe(client, sym);
  }

  async #subscribe(client: SpotwireClient, sym: string): Promise<void> {
    const state = this.state;
    state.sym = sym;
    state.tape = [];
    state.candles = [];
    state.candleEpoch++;
    state.candleSource = null;
    state.ticker = null;
    const resubscribe = (): Promise<Reply[]> =>
      client.send([
        { op: 'unsub', ch: 'book', sym },
        { op: 'sub', ch: 'book', sym, depth: BOOK_DEPTH },
      ]);
    state.book = new BookSync(sym, BOOK_DEPTH, resubscribe, () => performance.now());
    this.changed();
    const [, , candles, ticker] = await client.send([
      { op: 'sub', ch: 'book', sym, depth: BOOK_DEPTH },
      { op: 'sub', ch: 'trades', sym, recent: RECENT_TRADES },
      { op: 'sub', ch: 'candles', sym, interval: CANDLE_INTERVAL, limit: MAX_CANDLES },
      { op: 'sub', ch: 'ticker', sym },
    ]);
    if (state.sym !== sym) return;
    // A server without these channels rejects the sub: the page builds them from what it has.
    if (candles?.type !== 'subbed') state.candleSource = 'page';
    state.tickerSource = ticker?.type === 'subbed' ? 'server' : 'page';
    this.#refreshPageTicker();
    this.changed();
  }

  // ---- account ----

  async login(token: string): Promise<void> {
    const client = this.#client();
    try {
      const { account } = await client.login(token);
      this.state.account = account;
      this.storage.setItem(TOKEN_KEY, token);
    } catch (error) {
      this.storage.removeItem(TOKEN_KEY);
      this.state.account = null;
      this.state.notice = `login failed: ${(error as Error).message}`;
      this.changed();
      throw error;
    }
    // The replies land in #onMessage, in order with the pushes around them.
    await client.send([{ op: 'orders' }, { op: 'balances' }, { op: 'my_trades', limit: MAX_FILLS }]);
    this.changed();
  }

  logout(): void {
    this.storage.removeItem(TOKEN_KEY);
    this.state.account = null;
    this.state.orders.clear();
    this.state.balances.clear();
    this.state.fills = [];
    // The server has no logout: a fresh connection is one.
    this.#closingOnPurpose = true;
    this.client?.close();
  }

  place(params: Omit<PlaceParams, 'cid'>): Promise<unknown> {
    return this.#client().place({ ...params, cid: `web-${Date.now().toString(36)}-${this.#nextCid++}` });
  }

  cancel(sym: string, id: number): Promise<unknown> {
    return this.#client().cancel(sym, id);
  }

  amend(sym: string, id: number, change: { px?: number; qty?: number }): Promise<unknown> {
    return this.#client().amend(sym, id, change);
  }

  #client(): SpotwireClient {
    if (this.client === null) throw new Error('not connected');
    return this.client;
  }

  // ---- messages ----

  #onMessage(client: SpotwireClient, message: ServerMessage): void {
    if (this.client !== client) return;
    const state = this.state;
    switch (message.type) {
      case 'book':
        if (message.sym === state.sym && state.book !== null && state.book.apply(message)) {
          this.#refreshPageTicker();
          this.hooks.onBookMessage?.(performance.now());
        }
        break;
      case 'trade':
        if (message.sym !== state.sym) return;
        state.tape.unshift({ tradeId: message.tradeId, px: message.px, qty: message.qty, side: message.side, ts: message.ts });
        if (state.tape.length > MAX_TAPE) state.tape.length = MAX_TAPE;
        if (state.candleSource === 'page') foldTrade(state.candles, message, INTERVAL_MS[CANDLE_INTERVAL]);
        this.#refreshPageTicker();
        break;
      case 'exec':
        this.#onExec(message);
        break;
      case 'balance':
        state.balances.set(message.asset, { asset: message.asset, available: message.available, hold: message.hold });
        break;
      case 'orders':
        state.orders.clear();
        for (const order of message.orders) state.orders.set(order.id, order);
        state.ordersTruncated = message.more === true;
        break;
      case 'balances':
        state.balances.clear();
        for (const balance of message.balances) state.balances.set(balance.asset, balance);
        break;
      case 'my_trades':
        state.fills = message.trades.map((t) => ({
          key: `${t.sym}/${t.tradeId}/${t.side}`,
          sym: t.sym,
          orderId: t.orderId,
          side: t.side,
          px: t.px,
          qty: t.qty,
          liquidity: t.liquidity,
          fee: t.fee,
          feeAsset: t.feeAsset,
          ts: t.ts,
        }));
        break;
      case 'trades':
      case 'candles':
      case 'candle':
      case 'ticker':
        if (message.sym !== state.sym) return;
        this.#onMarketData(message);
        break;
      default:
        return;
    }
    this.changed();
  }

  #onMarketData(message: MarketDataMessage): void {
    const state = this.state;
    switch (message.type) {
      case 'trades':
        // Oldest first on the wire; the tape is newest first, and live trades may already be in it.
        state.tape = [...state.tape, ...message.trades.slice().reverse()].slice(0, MAX_TAPE);
        this.#refreshPageTicker();
        return;
      case 'candles':
        if (message.interval !== CANDLE_INTERVAL) return;
        state.candleSource = 'server';
        state.candles = message.candles.slice(-MAX_CANDLES);
        state.candleEpoch++;
        return;
      case 'candle':
        if (message.interval !== CANDLE_INTERVAL) return;
        upsertCandle(state.candles, message);
        return;
      case 'ticker':
        state.tickerSource = 'server';
        state.ticker = message;
        return;
    }
  }

  #refreshPageTicker(): void {
    const state = this.state;
    if (state.tickerSource !== 'page') return;
    state.ticker = pageTicker(state.sym, state.book?.book ?? null, state.tape[0], Date.now());
  }

  #onExec(exec: Exec): void {
    const state = this.state;
    if (exec.status === 'new' || exec.status === 'partial') {
      const known = state.orders.get(exec.id);
      state.orders.set(exec.id, {
        sym: exec.sym,
        id: exec.id,
        cid: exec.cid,
        side: exec.side,
        kind: known?.kind ?? (exec.px === null ? 'market' : 'limit'),
        tif: known?.tif ?? 'gtc',
        post: known?.post ?? false,
        px: exec.px,
        qty: exec.qty,
        filled: exec.filled,
        leaves: exec.leaves,
        status: exec.status,
        ts: exec.ts,
      });
    } else {
      state.orders.delete(exec.id);
    }
    if (exec.fill !== undefined) {
      const { fill } = exec;
      state.fills.unshift({
        key: `${exec.sym}/${fill.tradeId}/${exec.side}`,
        sym: exec.sym,
        orderId: exec.id,
        side: exec.side,
        px: fill.px,
        qty: fill.qty,
        liquidity: fill.liquidity,
        fee: fill.fee,
        feeAsset: fill.feeAsset,
        ts: exec.ts,
      });
      if (state.fills.length > MAX_FILLS) state.fills.length = MAX_FILLS;
    }
  }
}
