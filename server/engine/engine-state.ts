// The engine's whole state as plain data, and back: books with every level's FIFO order, the id
// counters, and each account's orders in acceptance order (cancel_all and `orders` follow it).
// Restoring what was exported gives an engine that behaves identically from then on.
import { ORDER_KINDS, SIDES, STP_MODES, TIFS } from '../../protocol/constants.js';
import type { MarketInfo } from '../../protocol/messages.js';
import type { BookSide } from './book-side.js';
import { MatchingEngine } from './engine.js';
import { Order } from './order.js';
import type { EngineLimits } from './types.js';

/** [id, account, cid, side, kind, tif, post, stp, px, qty, filled, ts]; enums as table indexes. */
export type OrderTuple = [number, string, string | null, number, number, number, boolean, number, number, number, number, number];

export interface MarketState {
  readonly sym: string;
  readonly nextOrderId: number;
  readonly nextTradeId: number;
  /** Levels best first, each level's orders oldest first. */
  readonly bids: OrderTuple[][];
  readonly asks: OrderTuple[][];
}

export interface EngineState {
  readonly version: 1;
  readonly markets: MarketState[];
  /** Each account's open orders in acceptance order, as [sym, id]. */
  readonly accounts: [string, [string, number][]][];
}

function orderToTuple(order: Order): OrderTuple {
  return [
    order.id, order.account, order.cid, SIDES.indexOf(order.side), ORDER_KINDS.indexOf(order.kind), TIFS.indexOf(order.tif),
    order.post, STP_MODES.indexOf(order.stp), order.px!, order.qty, order.filled, order.ts,
  ];
}

function exportSide(side: BookSide): OrderTuple[][] {
  const levels: OrderTuple[][] = [];
  side.heap.forEachBest((level) => {
    const orders: OrderTuple[] = [];
    for (let order = level.head; order !== null; order = order.next) orders.push(orderToTuple(order));
    levels.push(orders);
    return true;
  });
  return levels;
}

export function exportEngineState(engine: MatchingEngine): EngineState {
  const markets: MarketState[] = [];
  for (const book of engine.allBooks()) {
    markets.push({ sym: book.sym, nextOrderId: book.nextOrderId, nextTradeId: book.nextTradeId, bids: exportSide(book.bids), asks: exportSide(book.asks) });
  }
  const accounts: [string, [string, number][]][] = [];
  for (const [account, entry] of engine.accounts.entries()) {
    accounts.push([account, entry.list().map((order): [string, number] => [order.sym, order.id])]);
  }
  return { version: 1, markets, accounts };
}

function enumAt<T>(table: readonly T[], index: number): T {
  const value = table[index];
  if (value === undefined) throw new Error(`engine state: bad enum index ${index}`);
  return value;
}

export function restoreEngine(markets: readonly MarketInfo[], limits: EngineLimits, state: EngineState): MatchingEngine {
  if (state.version !== 1) throw new Error(`engine state: unsupported version ${String(state.version)}`);
  const engine = new MatchingEngine(markets, limits);
  const byMarket = new Map<string, Map<number, Order>>();
  for (const market of state.markets) {
    const book = engine.book(market.sym);
    if (!book) throw new Error(`engine state: market ${market.sym} is not configured`);
    book.nextOrderId = market.nextOrderId;
    book.nextTradeId = market.nextTradeId;
    const orders = new Map<number, Order>();
    for (const levels of [market.bids, market.asks]) {
      for (const level of levels) {
        for (const t of level) {
          const order = new Order(t[0], market.sym, t[1], t[2], enumAt(SIDES, t[3]), enumAt(ORDER_KINDS, t[4]), enumAt(TIFS, t[5]), t[6], enumAt(STP_MODES, t[7]), t[8], t[9], t[11]);
          order.filled = t[10];
          book.sideOf(order.side).add(order);
          book.orders.set(order.id, order);
          orders.set(order.id, order);
        }
      }
    }
    byMarket.set(market.sym, orders);
  }
  for (const [, refs] of state.accounts) {
    for (const [sym, id] of refs) {
      const order = byMarket.get(sym)?.get(id);
      if (!order) throw new Error(`engine state: account order ${sym}#${id} is not in the book`);
      engine.accounts.register(order);
    }
  }
  return engine;
}
