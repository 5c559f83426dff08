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
      return this.db.select().from(trades).where(where).orderBy(desc(trades.ts), trades.market, desc(trades.tradeId)).limit(limit);
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

  /**
   * The account's fills, newest first: each trade once per side the account was on (a self-trade
   * twice), with its order's cid and the fee the account paid on it. Ordered by (ts, seq, tradeId,
   * role), which is a total order, so `before` (the last row's key) pages without gaps or repeats.
   * Filters: a market, ts in [fromTs, toTs). The fee row is found by the trade's journal seq, the
   * ledger's primary key.
   */
  async fillsOfAccount(account: string, query: FillsQuery): Promise<FillRow[]> {
    checkLimit(query.limit);
    const filters = (column: 'maker_account' | 'taker_account') => {
      const parts = [sql`t.${sql.raw(column)} = ${account}`];
      if (query.market !== null) parts.push(sql`t.market = ${query.market}`);
      if (query.fromTs !== null) parts.push(sql`t.ts >= ${query.fromTs}`);
      if (query.toTs !== null) parts.push(sql`t.ts < ${query.toTs}`);
      return sql.join(parts, sql` and `);
    };
    const before =
      query.before === null
        ? sql`true`
        : sql`(f.ts, f.seq, f.trade_id, f.role) < (${query.before.ts}, ${query.before.seq}, ${query.before.tradeId}, ${query.before.role})`;
    const result = await this.db.execute(sql`
      select f.market, f.trade_id, f.order_id, f.role, f.side, f.price, f.qty, f.seq, f.ts, o.cid,
             coalesce(-fee.amount, 0)::bigint as fee, fee.asset as fee_asset
      from (
        select t.market, t.trade_id, t.maker_order_id as order_id, 0 as role,
               case when t.taker_side = 'buy' then 'sell' else 'buy' end as side, t.price, t.qty, t.seq, t.ts
        from trades t where ${filters('maker_account')}
        union all
        select t.market, t.trade_id, t.taker_order_id, 1, t.taker_side, t.price, t.qty, t.seq, t.ts
        from trades t where ${filters('taker_account')}
      ) f
      left join orders o on o.market = f.market and o.order_id = f.order_id
      left join lateral (
        select l.amount, l.asset from ledger l
        where l.seq = f.seq and l.account = ${account} and l.kind = 'fee' and l.market = f.market and l.trade_id = f.trade_id
        limit 1
      ) fee on true
      where ${before}
      order by f.ts desc, f.seq desc, f.trade_id desc, f.role desc
      limit ${query.limit}`);
    return (result as unknown as Record<string, unknown>[]).map((row) => ({
      market: row.market as string,
      tradeId: Number(row.trade_id),
      orderId: Number(row.order_id),
      role: Number(row.role) === 0 ? 'maker' : 'taker',
      side: row.side as FillRow['side'],
      price: Number(row.price),
      qty: Number(row.qty),
      seq: Number(row.seq),
      ts: Number(row.ts),
      cid: (row.cid as string | null) ?? null,
      fee: Number(row.fee),
      feeAsset: (row.fee_asset as string | null) ?? null,
    }));
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
        total: sql<number>`(sum(${ledger.amount}) over (order by ${ledger.seq}, ${ledger.eventIndex}, ${ledger.leg}))::bigint`
          .mapWith(Number)
          .as('total'),
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

export interface FillsQuery {
  readonly market: string | null;
  readonly fromTs: number | null;
  readonly toTs: number | null;
  /** Only fills ordered before this one (the previous page's last). */
  readonly before: FillKey | null;
  readonly limit: number;
}

/** Where a fill sits in an account's history: newest first is descending on these, in this order. */
export interface FillKey {
  readonly ts: number;
  readonly seq: number;
  readonly tradeId: number;
  /** 0 maker, 1 taker. */
  readonly role: 0 | 1;
}

/** One of an account's fills as the projection has it. */
export interface FillRow {
  readonly market: string;
  readonly tradeId: number;
  readonly orderId: number;
  readonly role: 'maker' | 'taker';
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly qty: number;
  readonly seq: number;
  readonly ts: number;
  readonly cid: string | null;
  /** What the account paid; 0 with feeAsset null when it paid none. */
  readonly fee: number;
  readonly feeAsset: string | null;
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
