// A trading account on a reconnecting client, for the reconnect tests and bench/reconnect-soak.ts:
// it places, amends and cancels (several requests in flight at once) at random from a seed, waits
// out outages, resolves orders whose reply was lost by their cid, and records what its private
// stream looked like: pseqs out of order or repeated, fills seen twice, gaps, resumes.
import WebSocket from 'ws';
import { ClientError, ConnectionLostError, RejectError, SpotwireClient, type WebSocketConstructor } from '../../protocol/client.js';
import type { BalanceMessage, Exec, ServerMessage } from '../../protocol/messages.js';
import { randomInt } from './prng.js';

export interface TraderOptions {
  readonly url: string;
  readonly token: string;
  readonly sym: string;
  readonly random: () => number;
  /** Centre of the prices quoted, in ticks. */
  readonly midPx: number;
  /** Rest orders only (a passive counterparty) or also take liquidity. */
  readonly takes: boolean;
}

export interface StreamRecord {
  readonly problems: string[];
  resumes: number;
  gaps: number;
  attempts: number;
  /** Restores cut after their login and before `resumed`: the next one must still finish a gap. */
  restoresCutAfterLogin: number;
  replayed: number;
  connectionLost: number;
  resolvedFound: number;
  resolvedUnknown: number;
  rejects: number;
}

export class ReconnectTrader {
  readonly record: StreamRecord = {
    problems: [],
    resumes: 0,
    gaps: 0,
    attempts: 0,
    restoresCutAfterLogin: 0,
    replayed: 0,
    connectionLost: 0,
    resolvedFound: 0,
    resolvedUnknown: 0,
    rejects: 0,
  };
  /** Fills seen in this server life (epoch): `sym:tradeId:orderId` (an account may trade with itself). */
  fills = new Set<string>();
  #epoch = '';
  #lastPseq = 0;
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  #nextCid = 0;
  /** cids of places whose reply was lost, to resolve once resumed. */
  readonly #lostCids: string[] = [];
  #gapToReconcile = false;
  #loggedInSinceDrop = false;

  private constructor(
    readonly client: SpotwireClient,
    private readonly options: TraderOptions,
  ) {
    client.onMessage((m) => this.#observe(m));
    client.onReconnecting(() => {
      this.record.attempts++;
      if (this.#loggedInSinceDrop) this.record.restoresCutAfterLogin++;
      this.#loggedInSinceDrop = false;
    });
    client.onGap(() => {
      this.record.gaps++;
      this.#gapToReconcile = true;
    });
    client.onResumed((event) => {
      this.#loggedInSinceDrop = false;
      this.record.resumes++;
      this.record.replayed += event.replayed;
    });
  }

  static async start(options: TraderOptions): Promise<ReconnectTrader> {
    const client = await SpotwireClient.connect(options.url, {
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      timeoutMs: 15_000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 500, random: options.random },
    });
    const trader = new ReconnectTrader(client, options);
    await client.login(options.token);
    await client.orders();
    await client.balances();
    return trader;
  }

  /** Resolves on the next `resumed` (at once if the client is open). */
  whenOpen(): Promise<void> {
    if (this.client.state === 'open') return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.client.onResumed(() => {
        off();
        resolve();
      });
    });
  }

  run(): void {
    this.#running = true;
    this.#loop = this.#trade();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.whenOpen();
    await this.#afterResume();
  }

  #observe(message: ServerMessage): void {
    if (message.type === 'login') {
      this.#loggedInSinceDrop = this.client.state === 'reconnecting';
      this.#lastPseq = message.pseq - (message.resumed ?? 0);
      if (message.epoch !== this.#epoch) this.fills = new Set();
      this.#epoch = message.epoch;
      return;
    }
    if (message.type !== 'exec' && message.type !== 'balance') return;
    const pseq = (message as Exec | BalanceMessage).pseq!;
    if (pseq !== this.#lastPseq + 1)
      this.record.problems.push(`${this.options.token}: pseq ${pseq} after ${this.#lastPseq} (epoch ${this.#epoch})`);
    this.#lastPseq = Math.max(this.#lastPseq, pseq);
    if (message.type === 'exec' && message.fill !== undefined) {
      const key = `${message.sym}:${message.fill.tradeId}:${message.id}`;
      if (this.fills.has(key)) this.record.problems.push(`${this.options.token}: fill ${key} seen twice`);
      this.fills.add(key);
    }
  }

  async #trade(): Promise<void> {
    const { random } = this.options;
    while (this.#running) {
      if (this.client.state !== 'open') {
        await this.whenOpen();
        await this.#afterResume();
        continue;
      }
      const n = randomInt(random, 1, 4);
      const requests: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) requests.push(this.#one());
      const results = await Promise.allSettled(requests);
      for (const result of results) if (result.status === 'rejected') this.#onFailure(result.reason);
      // (read again: the awaits above may have seen the client close)
      if ((this.client.state as string) === 'closed') return;
    }
  }

  #one(): Promise<unknown> {
    const client = this.client;
    const { random, sym, midPx, takes } = this.options;
    const open = client.openOrders(sym);
    const roll = random();
    if (open.length > 30 || (open.length > 0 && roll < 0.25)) {
      const order = open[Math.floor(random() * open.length)]!;
      return random() < 0.5
        ? client.cancel(sym, order.id)
        : client.amend(sym, order.id, { px: Math.max(1, (order.px ?? midPx) + randomInt(random, -3, 3)) });
    }
    const side = random() < 0.5 ? 'buy' : 'sell';
    const cid = `${this.options.token}-${++this.#nextCid}`;
    const qty = randomInt(random, 1, 50);
    if (takes && roll > 0.7) {
      const px = side === 'buy' ? midPx + 20 : midPx - 20;
      return this.#place({ sym, side, kind: 'limit', px, qty, tif: 'ioc', cid });
    }
    // Resting quotes straddle the mid by at least one tick, so only an ioc trades.
    const px = side === 'buy' ? midPx - randomInt(random, 1, 10) : midPx + randomInt(random, 1, 10);
    return this.#place({ sym, side, kind: 'limit', px, qty, post: true, cid });
  }

  async #place(params: Parameters<SpotwireClient['place']>[0]): Promise<unknown> {
    try {
      return await this.client.place(params);
    } catch (error) {
      if (error instanceof ConnectionLostError && params.cid !== undefined) this.#lostCids.push(params.cid);
      throw error;
    }
  }

  #onFailure(error: unknown): void {
    if (error instanceof RejectError) this.record.rejects++;
    else if (error instanceof ConnectionLostError) this.record.connectionLost++;
    else if (error instanceof ClientError && (error.kind === 'disconnected' || error.kind === 'closed')) return;
    else this.record.problems.push(`${this.options.token}: ${String(error)}`);
  }

  /** What an app does after a reconnect: learn the fills a gap hid, and settle the lost places. */
  async #afterResume(): Promise<void> {
    try {
      if (this.#gapToReconcile) {
        this.#gapToReconcile = false;
        // Fills listed here arrived as execs before this reply, or are the ones the gap hid.
        for (const key of await serverFills(this.client)) this.fills.add(key);
      }
      await this.#resolveLost();
    } catch (error) {
      this.#gapToReconcile ||= this.record.gaps > 0;
      this.#onFailure(error);
    }
  }

  /** What an app does with a place whose reply was lost: ask by cid whether the server has it. */
  async #resolveLost(): Promise<void> {
    while (this.#lostCids.length > 0 && this.client.state === 'open') {
      const cid = this.#lostCids.shift()!;
      try {
        await this.client.order(this.options.sym, cid);
        this.record.resolvedFound++;
      } catch (error) {
        if (error instanceof RejectError && error.code === 'unknown_order') this.record.resolvedUnknown++;
        else this.#lostCids.unshift(cid);
        if (!(error instanceof RejectError)) return;
      }
    }
  }
}

/** Where `trader`'s view (open orders, balances, fills of this server life) differs from the server's, as a fresh connection sees it. */
export async function viewMismatches(trader: ReconnectTrader, url: string, token: string): Promise<string[]> {
  const fresh = await SpotwireClient.connect(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, timeoutMs: 15_000 });
  try {
    await fresh.login(token);
    await trader.client.ping(); // everything the server released before now has reached the trader
    const mismatches: string[] = [];
    const theirs = (await fresh.orders()).orders.map(({ sym, id, cid, side, px, qty, filled, leaves, status }) => ({
      sym,
      id,
      cid,
      side,
      px,
      qty,
      filled,
      leaves,
      status,
    }));
    const ours = new Map(trader.client.openOrders().map((o) => [o.id, JSON.stringify(o)]));
    for (const order of theirs) {
      const mine = ours.get(order.id);
      if (mine !== JSON.stringify(order))
        mismatches.push(`${token} order ${order.id}: client ${mine ?? 'none'}, server ${JSON.stringify(order)}`);
      ours.delete(order.id);
    }
    for (const mine of ours.values()) mismatches.push(`${token} order: client ${mine}, server none`);
    for (const view of (await fresh.balances()).balances) {
      const mine = trader.client.balance(view.asset);
      if (mine === undefined ? view.available + view.hold !== 0 : mine.available !== view.available || mine.hold !== view.hold) {
        mismatches.push(`${token} ${view.asset}: client ${JSON.stringify(mine)}, server ${JSON.stringify(view)}`);
      }
    }
    const listed = await serverFills(fresh);
    const missing = [...listed].filter((k) => !trader.fills.has(k));
    const extra = [...trader.fills].filter((k) => !listed.has(k));
    if (missing.length > 0 || extra.length > 0)
      mismatches.push(
        `${token} fills: ${missing.length} not seen by the client (${missing.slice(0, 5).join(', ')}), ${extra.length} the server does not list`,
      );
    return mismatches;
  } finally {
    fresh.close();
  }
}

/** Every fill of the account in this server life, as `sym:tradeId:orderId` (all pages of my_trades). */
async function serverFills(client: SpotwireClient): Promise<Set<string>> {
  const keys = new Set<string>();
  for (let page = await client.myTrades({ limit: 1000 }); ;) {
    for (const t of page.trades) keys.add(`${t.sym}:${t.tradeId}:${t.orderId}`);
    const last = page.trades.at(-1);
    if (!page.more || last === undefined) break;
    // Memory pages by `before` (a fill's n); pages from Postgres' history by the `next` cursor.
    page = await client.myTrades(page.next !== undefined ? { limit: 1000, after: page.next } : { limit: 1000, before: last.n! });
  }
  return keys;
}
