// An account's fills and orders older than the gateway keeps in memory, read from the Postgres
// projection the write-behind maintains. Queries are few and bounded: a handful in flight per
// connection and in all, each with a statement timeout, so a slow database costs a client an
// `overloaded` or `internal` reply, never the event loop.
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { TradingRepository, type FillKey, type FillRow } from '../../db/repositories.js';
import type { MarketInfo, MyTrade, OrderRef, OrderStateView } from '../../protocol/messages.js';

export interface FillsRequest {
  readonly account: string;
  readonly sym: string | null;
  readonly fromTs: number | null;
  /** Exclusive. */
  readonly toTs: number | null;
  readonly after: FillKey | null;
  readonly limit: number;
}

export interface FillsFromHistory {
  readonly trades: MyTrade[];
  /** The cursor of the last fill returned when more follow, else null. */
  readonly next: string | null;
}

export const HISTORY_QUERIES_PER_CONNECTION = 4;
export const HISTORY_QUERIES_IN_FLIGHT = 32;
const STATEMENT_TIMEOUT_MS = 5_000;
const CURSOR_PREFIX = 'h:';

/** A fill's place in the history as a `my_trades` cursor ("h:ts:seq:tradeId:role"). */
export function fillCursor(key: FillKey): string {
  return `${CURSOR_PREFIX}${key.ts}:${key.seq}:${key.tradeId}:${key.role}`;
}

/** The key a cursor names, or null when it is not one this server hands out. */
export function parseFillCursor(cursor: string): FillKey | null {
  if (!cursor.startsWith(CURSOR_PREFIX)) return null;
  const parts = cursor.slice(CURSOR_PREFIX.length).split(':').map(Number);
  if (parts.length !== 4 || !parts.every((part) => Number.isSafeInteger(part) && part >= 0)) return null;
  const [ts, seq, tradeId, role] = parts as [number, number, number, number];
  if (role !== 0 && role !== 1) return null;
  return { ts, seq, tradeId, role };
}

export class AccountHistory {
  private readonly client: postgres.Sql;
  private readonly repository: TradingRepository;
  private readonly markets: ReadonlyMap<string, MarketInfo>;
  private inFlight = 0;

  constructor(url: string, markets: readonly MarketInfo[]) {
    this.client = postgres(url, {
      max: 2,
      onnotice: () => {},
      connect_timeout: 5,
      connection: { statement_timeout: STATEMENT_TIMEOUT_MS },
    });
    this.repository = new TradingRepository(drizzle(this.client));
    this.markets = new Map(markets.map((market) => [market.sym, market]));
  }

  /** Whether one more query may start now (the caller counts its connection's own). */
  get hasRoom(): boolean {
    return this.inFlight < HISTORY_QUERIES_IN_FLIGHT;
  }

  async fills(request: FillsRequest): Promise<FillsFromHistory> {
    const rows = await this.bounded(() =>
      this.repository.fillsOfAccount(request.account, {
        market: request.sym,
        fromTs: request.fromTs,
        toTs: request.toTs,
        before: request.after,
        limit: request.limit + 1,
      }),
    );
    const more = rows.length > request.limit;
    const page = more ? rows.slice(0, request.limit) : rows;
    const last = page.at(-1);
    return {
      trades: page.map((row) => this.toTrade(row)),
      next: more && last ? fillCursor({ ts: last.ts, seq: last.seq, tradeId: last.tradeId, role: last.role === 'maker' ? 0 : 1 }) : null,
    };
  }

  /** The account's order in `sym` by id or cid, as the projection last wrote it; null when unknown. */
  async order(account: string, sym: string, ref: OrderRef): Promise<OrderStateView | null> {
    const row = await this.bounded(() =>
      'id' in ref ? this.repository.orderById(sym, ref.id) : this.repository.orderByCid(account, ref.cid),
    );
    if (!row || row.account !== account || row.market !== sym) return null;
    const open = row.status === 'new' || row.status === 'partial';
    const view: OrderStateView = {
      sym: row.market,
      id: row.orderId,
      cid: row.cid,
      side: row.side,
      status: row.status,
      px: row.price,
      qty: row.qty,
      filled: row.filled,
      leaves: open ? row.qty - row.filled : 0,
      ts: row.updatedTs,
    };
    if (row.reason !== null) view.reason = row.reason;
    return view;
  }

  async close(): Promise<void> {
    await this.client.end({ timeout: 5 });
  }

  private async bounded<T>(query: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await query();
    } finally {
      this.inFlight--;
    }
  }

  private toTrade(row: FillRow): MyTrade {
    const market = this.markets.get(row.market);
    // No fee row means it paid none; the fee would have been in the asset that side receives.
    const feeAsset = row.feeAsset ?? (row.side === 'buy' ? market?.base : market?.quote) ?? '';
    return {
      sym: row.market,
      tradeId: row.tradeId,
      orderId: row.orderId,
      cid: row.cid,
      side: row.side,
      px: row.price,
      qty: row.qty,
      liquidity: row.role,
      fee: row.fee,
      feeAsset,
      ts: row.ts,
    };
  }
}
