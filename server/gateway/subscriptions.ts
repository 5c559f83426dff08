// Market-data subscriptions of every connection: `sub` and `unsub` on the book, trades, candles and
// ticker channels. A sub is a placeholder in its batch until the batch is sealed (it then gets
// `subbed` and its snapshot, as of the end of that batch) and joins its topic at release, after that
// batch's publishes: so a snapshot and the live messages after it neither overlap nor leave a gap.
import type { BookInterval, CandleInterval, Channel, RejectCode } from '../../protocol/constants.js';
import type { Rid, ServerMessage, SubRequest, UnsubRequest } from '../../protocol/messages.js';
import type { BookFeed } from '../market-data/book-feed.js';
import { candlesTopic, tickerTopic, type MarketStats } from '../market-data/market-stats.js';
import type { Batch, PendingSub } from './batch.js';
import type { Connection } from './connection.js';

export interface SubscriptionDeps {
  readonly feeds: ReadonlyMap<string, BookFeed>;
  readonly marketStats: MarketStats;
  /** The gateway clock: a conflated book view's snapshot depends on when its interval began. */
  readonly clock: () => number;
  readonly reject: (batch: Batch, connection: Connection, op: string, code: RejectCode, rid: Rid | undefined, msg?: string) => void;
  /** After a journal failure: snapshots of state that may not be durable are refused. */
  readonly refuseUndurable: (batch: Batch, connection: Connection, op: string, rid: Rid | undefined) => boolean;
}

export function tradesTopic(sym: string): string {
  return `trades/${sym}`;
}

function withRid<T extends object>(message: T, rid: Rid | undefined): T & { rid?: Rid } {
  return rid === undefined ? message : { ...message, rid };
}

type BookView = { readonly depth: number; readonly interval: BookInterval };
/** What a sub of another channel than book carries as its (unused) book view. */
const NO_BOOK_VIEW: BookView = { depth: 0, interval: 0 };
const NO_SNAPSHOT_SIZE = { candleInterval: null, limit: 0, recent: null };

function subKey(ch: Channel, sym: string, interval: CandleInterval | null): string {
  return interval === null ? `${ch}/${sym}` : `${ch}/${sym}/${interval}`;
}

export class Subscriptions {
  /** Per connection, by subKey: its subs not yet released. */
  private readonly pending = new Map<Connection, Map<string, PendingSub>>();

  constructor(private readonly deps: SubscriptionDeps) {}

  private topicOf(ch: Channel, sym: string, view: BookView, candleInterval: CandleInterval | null): string {
    switch (ch) {
      case 'book':
        return this.deps.feeds.get(sym)!.topicFor(view.depth, view.interval);
      case 'trades':
        return tradesTopic(sym);
      case 'candles':
        return candlesTopic(sym, candleInterval!);
      case 'ticker':
        return tickerTopic(sym);
    }
  }

  subscribe(batch: Batch, connection: Connection, request: SubRequest): void {
    const { ch, sym, rid } = request;
    if (!this.deps.feeds.has(sym)) return this.deps.reject(batch, connection, 'sub', 'unknown_market', rid);
    // The contract's trades sub shows no state; every other sub starts with a snapshot of it.
    const showsState = ch !== 'trades' || request.recent !== null;
    if (showsState && this.deps.refuseUndurable(batch, connection, 'sub', rid)) return;
    const candleInterval = ch === 'candles' ? request.candleInterval : null;
    // A repeated sub is a resubscribe: drop the old one first (a fresh snapshot follows).
    this.drop(connection, ch, sym, candleInterval);
    const view: BookView = ch === 'book' ? { depth: request.depth, interval: request.interval } : NO_BOOK_VIEW;
    switch (ch) {
      case 'book':
        connection.bookSubs.set(sym, view);
        break;
      case 'trades':
        connection.tradeSubs.add(sym);
        break;
      case 'candles': {
        const intervals = connection.candleSubs.get(sym) ?? new Set<CandleInterval>();
        intervals.add(candleInterval!);
        connection.candleSubs.set(sym, intervals);
        break;
      }
      case 'ticker':
        connection.tickerSubs.add(sym);
        break;
    }
    const snapshotSize = { candleInterval, limit: request.limit, recent: ch === 'trades' ? request.recent : null };
    this.queue(batch, connection, ch, sym, view, snapshotSize, rid, false);
    batch.tally.count('sub', 'ok');
  }

  /** The sub's reply waits in the batch until seal (snapshot) and release (joins the topic). */
  private queue(
    batch: Batch,
    connection: Connection,
    ch: Channel,
    sym: string,
    view: BookView,
    snapshotSize: Pick<PendingSub, 'candleInterval' | 'limit' | 'recent'>,
    rid: Rid | undefined,
    resync: boolean,
  ): void {
    const pending: PendingSub = {
      kind: 'pending-sub',
      connection,
      ch,
      sym,
      ...view,
      ...snapshotSize,
      rid,
      topic: this.topicOf(ch, sym, view, snapshotSize.candleInterval),
      resync,
      canceled: false,
      sealed: false,
      messages: [],
    };
    let mine = this.pending.get(connection);
    if (!mine) this.pending.set(connection, (mine = new Map()));
    mine.set(subKey(ch, sym, snapshotSize.candleInterval), pending);
    batch.pendingSubs.push(pending);
    batch.send(connection, pending);
  }

  /**
   * A backed-up socket leaves its book views: the deltas it could not read are worthless once it
   * is behind, and a snapshot when it has drained costs it less than being cut off.
   */
  suspendBooks(connection: Connection): number {
    let suspended = 0;
    for (const [sym, view] of [...connection.bookSubs]) {
      if (this.pending.get(connection)?.has(subKey('book', sym, null))) continue;
      this.drop(connection, 'book', sym, null);
      connection.suspendedBooks.set(sym, view);
      suspended++;
    }
    return suspended;
  }

  /** The socket drained: each suspended view comes back with a snapshot (no `subbed`), then its deltas. */
  resumeBooks(batch: Batch, connection: Connection): void {
    for (const [sym, view] of connection.suspendedBooks) {
      connection.bookSubs.set(sym, view);
      this.queue(batch, connection, 'book', sym, view, NO_SNAPSHOT_SIZE, undefined, true);
    }
    connection.suspendedBooks.clear();
  }

  unsubscribe(batch: Batch, connection: Connection, request: UnsubRequest): void {
    const { ch, sym, rid, candleInterval } = request;
    if (!this.deps.feeds.has(sym)) return this.deps.reject(batch, connection, 'unsub', 'unknown_market', rid);
    this.drop(connection, ch, sym, candleInterval);
    const reply =
      candleInterval === null ? { type: 'unsubbed' as const, ch, sym } : { type: 'unsubbed' as const, ch, sym, interval: candleInterval };
    batch.send(connection, withRid(reply, rid));
    batch.tally.count('unsub', 'ok');
  }

  /** Ends a subscription whether it is live, sealed but unreleased, or still pending. */
  private drop(connection: Connection, ch: Channel, sym: string, interval: CandleInterval | null): void {
    const key = subKey(ch, sym, ch === 'candles' ? interval : null);
    const pending = this.pending.get(connection)?.get(key);
    if (pending) {
      pending.canceled = true;
      this.pending.get(connection)!.delete(key);
    }
    let topic: string;
    switch (ch) {
      case 'book': {
        connection.suspendedBooks.delete(sym);
        const view = connection.bookSubs.get(sym);
        if (view === undefined) return;
        connection.bookSubs.delete(sym);
        const feed = this.deps.feeds.get(sym)!;
        // A pending sub that is not sealed yet never joined its view.
        if (!pending || pending.sealed) feed.unsubscribe(view.depth, view.interval);
        topic = feed.topicFor(view.depth, view.interval);
        break;
      }
      case 'trades':
        if (!connection.tradeSubs.delete(sym)) return;
        topic = tradesTopic(sym);
        break;
      case 'candles': {
        const intervals = connection.candleSubs.get(sym);
        if (!intervals?.delete(interval!)) return;
        if (intervals.size === 0) connection.candleSubs.delete(sym);
        topic = candlesTopic(sym, interval!);
        break;
      }
      case 'ticker':
        if (!connection.tickerSubs.delete(sym)) return;
        topic = tickerTopic(sym);
        break;
    }
    if (!connection.closed) connection.ws.unsubscribe(topic);
  }

  /** Seal-time: the subscription's `subbed` and snapshot, both as of the end of the batch (a resync: the snapshot alone). */
  resolve(pending: PendingSub): void {
    const { ch, sym, candleInterval, rid } = pending;
    const subbed = withRid(
      candleInterval === null ? { type: 'subbed' as const, ch, sym } : { type: 'subbed' as const, ch, sym, interval: candleInterval },
      rid,
    );
    const messages: ServerMessage[] = pending.resync ? [] : [subbed];
    if (!pending.canceled) {
      const { marketStats } = this.deps;
      switch (ch) {
        case 'book':
          messages.push(this.deps.feeds.get(sym)!.subscribe(pending.depth, pending.interval, this.deps.clock()));
          break;
        case 'trades':
          if (pending.recent !== null) messages.push(marketStats.recentTrades(sym, pending.recent));
          break;
        case 'candles':
          messages.push(marketStats.candles(sym, candleInterval!, pending.limit));
          break;
        case 'ticker':
          messages.push(marketStats.ticker(sym, this.deps.feeds.get(sym)!));
          break;
      }
    }
    pending.messages = messages;
    pending.sealed = true;
  }

  /** Release-time: the socket joins the topic, after this batch's publishes. */
  activate(pending: PendingSub): void {
    const mine = this.pending.get(pending.connection);
    const key = subKey(pending.ch, pending.sym, pending.candleInterval);
    if (mine?.get(key) === pending) mine.delete(key);
    if (pending.canceled || pending.connection.closed) return;
    pending.connection.ws.subscribe(pending.topic);
  }

  /** A closed socket: leave every view and topic. */
  dropAll(connection: Connection): void {
    for (const sym of [...connection.bookSubs.keys()]) this.drop(connection, 'book', sym, null);
    for (const sym of [...connection.tradeSubs]) this.drop(connection, 'trades', sym, null);
    for (const [sym, intervals] of [...connection.candleSubs])
      for (const interval of [...intervals]) this.drop(connection, 'candles', sym, interval);
    for (const sym of [...connection.tickerSubs]) this.drop(connection, 'ticker', sym, null);
    this.pending.delete(connection);
  }
}
