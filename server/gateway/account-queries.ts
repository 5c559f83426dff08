// `my_trades` and `order`: answered from memory (the recent fills and closed orders the gateway
// keeps) and, for what memory no longer holds, from the history in Postgres when one is configured.
// A memory answer is a message now; a history answer is a promise of one, which the handler sends
// in a later batch (it reads only durable rows, so it needs no journal wait of its own).
import type { MyTradesReply, MyTradesRequest, OrderRef, OrderStateView, Reject, Rid } from '../../protocol/messages.js';
import { makeReject } from '../../protocol/validate.js';
import {
  fillCursor,
  HISTORY_QUERIES_IN_FLIGHT,
  HISTORY_QUERIES_PER_CONNECTION,
  parseFillCursor,
  type AccountHistory,
} from './account-history.js';
import type { ClosedOrders } from './closed-orders.js';
import type { RecentFills } from './recent-fills.js';

type Answer<T> = T | Reject | Promise<T | Reject>;

function withRid<T extends object>(message: T, rid: Rid | undefined): T {
  return rid === undefined ? message : { ...message, rid };
}

const HISTORY_FAILED = 'the fill and order history in Postgres cannot be read now';

export class AccountQueries {
  constructor(
    readonly recentFills: RecentFills,
    readonly closedOrders: ClosedOrders,
    private readonly history: AccountHistory | null,
    /** An open order of the account, from the engine. */
    private readonly openOrder: (account: string, sym: string, ref: OrderRef) => OrderStateView | undefined,
  ) {}

  /** `mayQuery` false: the connection has its most history queries in flight already. */
  myTrades(account: string, request: MyTradesRequest, mayQuery: boolean): Answer<MyTradesReply> {
    const { sym, limit, rid } = request;
    const history = this.history;
    if (request.after !== null) {
      const after = parseFillCursor(request.after);
      if (after === null) return makeReject('my_trades', 'bad_request', 'after must be the next cursor of an earlier my_trades reply', rid);
      if (history === null)
        return makeReject('my_trades', 'bad_request', 'this server keeps no fill history (no Postgres configured)', rid);
      const busy = this.busy(mayQuery, 'my_trades', rid);
      if (busy) return busy;
      return this.fromHistory(history, rid, [], { account, sym, fromTs: request.from, toTs: request.to, after, limit });
    }
    const page = this.recentFills.page(account, {
      sym,
      before: request.before,
      fromTs: request.from,
      toTs: request.to,
      limit,
      withHistory: history !== null,
    });
    if (page.more || page.history === null || history === null) {
      return withRid<MyTradesReply>({ type: 'my_trades', trades: page.trades, more: page.more }, rid);
    }
    const busy = this.busy(mayQuery, 'my_trades', rid);
    if (busy) return busy;
    const toTs = page.history.toTs;
    const room = limit - page.trades.length;
    if (room === 0) {
      // The page is full from memory; one row tells whether the history continues it (toTs is
      // set: memory held fills).
      return history.fills({ account, sym, fromTs: request.from, toTs, after: null, limit: 1 }).then(
        (probe) =>
          withRid<MyTradesReply>(
            {
              type: 'my_trades',
              trades: page.trades,
              more: probe.trades.length > 0,
              ...(probe.trades.length > 0 ? { next: fillCursor({ ts: toTs!, seq: 0, tradeId: 0, role: 0 }) } : {}),
            },
            rid,
          ),
        () => makeReject('my_trades', 'internal', HISTORY_FAILED, rid),
      );
    }
    return this.fromHistory(history, rid, page.trades, { account, sym, fromTs: request.from, toTs, after: null, limit: room });
  }

  /** The order's current state if open, else how it ended: from memory, then from the history. */
  order(
    account: string,
    sym: string,
    ref: OrderRef,
    rid: Rid | undefined,
    mayQuery: boolean,
  ): Answer<{ type: 'order'; order: OrderStateView }> {
    const known = this.inMemory(account, sym, ref);
    if (known) return withRid({ type: 'order' as const, order: known }, rid);
    const unknown = makeReject('order', 'unknown_order', "no such order open or among the account's recently closed ones", rid);
    if (this.history === null) return unknown;
    const busy = this.busy(mayQuery, 'order', rid);
    if (busy) return busy;
    return this.history.order(account, sym, ref).then(
      (order) => (order ? withRid({ type: 'order' as const, order }, rid) : unknown),
      () => makeReject('order', 'internal', HISTORY_FAILED, rid),
    );
  }

  /** The order's state from memory: open in the engine, else among the recently closed. */
  inMemory(account: string, sym: string, ref: OrderRef): OrderStateView | undefined {
    return this.openOrder(account, sym, ref) ?? this.closedOrders.find(account, sym, ref);
  }

  /** An `overloaded` reject when no history query may start now. */
  private busy(mayQuery: boolean, op: 'my_trades' | 'order', rid: Rid | undefined): Reject | null {
    if (mayQuery && this.history!.hasRoom) return null;
    return makeReject(
      op,
      'overloaded',
      `too many history queries in flight (at most ${HISTORY_QUERIES_PER_CONNECTION} per connection, ${HISTORY_QUERIES_IN_FLIGHT} in all)`,
      rid,
    );
  }

  private fromHistory(
    history: AccountHistory,
    rid: Rid | undefined,
    fromMemory: MyTradesReply['trades'],
    request: Parameters<AccountHistory['fills']>[0],
  ): Promise<MyTradesReply | Reject> {
    return history.fills(request).then(
      (page) =>
        withRid<MyTradesReply>(
          {
            type: 'my_trades',
            trades: [...fromMemory, ...page.trades],
            more: page.next !== null,
            ...(page.next !== null ? { next: page.next } : {}),
          },
          rid,
        ),
      () => makeReject('my_trades', 'internal', HISTORY_FAILED, rid),
    );
  }
}
