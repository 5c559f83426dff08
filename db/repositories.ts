// The read queries operators run against the projection, typed. Each is shaped to use one index
// (see docs/PERSISTENCE.md): open orders the partial index, an account's trades the two
// (account, ts) indexes, a market's recent trades the primary key scanned backwards, an account's
// balances and ledger their primary key and (account, asset, seq) index.
import { and, desc, eq, getTableColumns, lt, sql, type SQL } from 'drizzle-orm';
import { union } from 'drizzle-orm/pg-core';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { balances, ledger, orders, trades, type BalanceRow, type LedgerRow, type OrderRow, type TradeRow } from './schema.js';

export const MAX_QUERY_LIMIT = 1000;

// Written as a literal, not parameters: only then can the planner prove the query implies the
// partial index's predicate, also for a prepared statement's generic plan.
const IS_OPEN = sql`${orders.status} in ('new', 'partial')`;

export class TradingRepository {
  constructor(private readonly db: PostgresJsDatabase) {}

  /** The account's open orders (new or partial), oldest first; in one market or all. */
  async openOrders(account: string, market?: string): Promise<OrderRow[]> {
    const where: SQL[] = [eq(orders.account, account), IS_OPEN];
    if (market !== undefined) where.push(eq(orders.market, market));
    return this.db
      .select()
      .from(orders)
      .where(and(...where))
      .orderBy(orders.market, orders.orderId);
  }

  /**
   * The account's trades as maker or taker, newest first, optionally only those before `beforeTs`
   * (ms). A self-trade is one row. Trades share a ts within a command, so paging by ts alone can
   * skip trades at the boundary ts when a page ends among them; fetch with a limit above the
   * page size, or page by (ts, market, tradeId), when that matters.
   */
  async tradesOfAccount(account: string, limit: number, beforeTs?: number): Promise<TradeRow[]> {
    checkLimit(limit);
    const side = (column: typeof trades.makerAccount | typeof trades.takerAccount) => {
      const where = beforeTs === undefined ? eq(column, account) : and(eq(column, account), lt(trades.ts, beforeTs));
      return this.db
        .select()
        .from(trades)
        .where(where)
        .orderBy(desc(trades.ts), trades.market, desc(trades.tradeId))
        .limit(limit);
    };
    return union(side(trades.makerAccount), side(trades.takerAccount))
      .orderBy(desc(trades.ts), trades.market, desc(trades.tradeId))
      .limit(limit);
  }

  /** The market's latest trades, newest (highest trade id) first. */
  async recentTrades(market: string, limit: number): Promise<TradeRow[]> {
    checkLimit(limit);
    return this.db.select().from(trades).where(eq(trades.market, market)).orderBy(desc(trades.tradeId)).limit(limit);
  }

  async orderById(market: string, orderId: number): Promise<OrderRow | null> {
    const rows = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.market, market), eq(orders.orderId, orderId)));
    return rows[0] ?? null;
  }

  /**
   * The account's order with this client id. A cid is unique only among open orders, so an
   * account may reuse it; the latest order wins (if one is open, it is that one).
   */
  async orderByCid(account: string, cid: string): Promise<OrderRow | null> {
    const rows = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.account, account), eq(orders.cid, cid)))
      .orderBy(desc(orders.createdSeq))
      .limit(1);
    return rows[0] ?? null;
  }

  /** The account's balances of every asset it ever held, by asset; `@fees` holds the fees collected. */
  async balances(account: string): Promise<BalanceRow[]> {
    return this.db.select().from(balances).where(eq(balances.account, account)).orderBy(balances.asset);
  }

  /**
   * Why the account's balance of `asset` is what it is: its movements (deposits, withdrawals,
   * trades, fees), newest first, each with the running total (available + hold) after it, before
   * journal seq `beforeSeq` when given (to page back). The running total is summed over the whole
   * history below the row, so a page deep in a long history costs a scan of the account's rows of
   * that asset; fine for an operator's question, not for a hot path.
   */
  async ledger(account: string, asset: string, limit: number, beforeSeq?: number): Promise<LedgerEntry[]> {
    checkLimit(limit);
    const where = [eq(ledger.account, account), eq(ledger.asset, asset)];
    const history = this.db
      .select({
        ...getTableColumns(ledger),
        total: sql<number>`(sum(${ledger.amount}) over (order by ${ledger.seq}, ${ledger.eventIndex}, ${ledger.leg}))::bigint`.mapWith(Number).as('total'),
      })
      .from(ledger)
      .where(and(...where))
      .as('history');
    const rows = await this.db
      .select()
      .from(history)
      .where(beforeSeq === undefined ? undefined : lt(history.seq, beforeSeq))
      .orderBy(desc(history.seq), desc(history.eventIndex), desc(history.leg))
      .limit(limit);
    return rows;
  }
}

/** An account's movements of one asset, newest first, each with the balance total after it. */
export interface LedgerEntry extends LedgerRow {
  /** available + hold of the asset right after this movement (the sum of the history up to it). */
  readonly total: number;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_QUERY_LIMIT}, got ${limit}`);
  }
}
