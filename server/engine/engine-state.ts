// The engine's whole state as plain data, and back: books with every level's FIFO order, the id
// counters, each account's orders in acceptance order (cancel_all and `orders` follow it), and the
// ledger (balances, each asset's supply, the transfer refs seen). Restoring what was exported gives
// an engine that behaves identically from then on. `version` names the format: a reader refuses a
// version it does not know rather than misread it.
import type { MarketInfo } from '../../protocol/messages.js';
import type { BookSide } from './book-side.js';
import { MatchingEngine } from './engine.js';
import type { TransferRecord } from './ledger.js';
import { Order, type OrderFields } from './order.js';
import type { EngineLimits } from './types.js';

export const ENGINE_STATE_VERSION = 2;

export interface OrderState extends OrderFields {
  readonly filled: number;
  readonly hold: number;
  readonly receivedTaker: number;
  readonly receivedMaker: number;
  readonly feesPaid: number;
}

export interface MarketState {
  readonly sym: string;
  readonly nextOrderId: number;
  readonly nextTradeId: number;
  /** Levels best first, each level's orders oldest first. */
  readonly bids: OrderState[][];
  readonly asks: OrderState[][];
}

export interface AccountBalancesState {
  readonly account: string;
  /** Indexed as `assets`. */
  readonly available: number[];
  readonly hold: number[];
}

export interface LedgerState {
  readonly assets: string[];
  readonly supply: number[];
  readonly balances: AccountBalancesState[];
  readonly refs: (TransferRecord & { readonly ref: string })[];
}

export interface EngineState {
  readonly version: typeof ENGINE_STATE_VERSION;
  readonly markets: MarketState[];
  /** Each account's open orders in acceptance order, as [sym, id]. */
  readonly accounts: [string, [string, number][]][];
  readonly ledger: LedgerState;
}

function orderState(order: Order): OrderState {
  return {
    id: order.id,
    sym: order.sym,
    account: order.account,
    cid: order.cid,
    side: order.side,
    kind: order.kind,
    tif: order.tif,
    post: order.post,
    stp: order.stp,
    px: order.px,
    qty: order.qty,
    ts: order.ts,
    filled: order.filled,
    hold: order.hold,
    receivedTaker: order.receivedTaker,
    receivedMaker: order.receivedMaker,
    feesPaid: order.feesPaid,
  };
}

function exportSide(side: BookSide): OrderState[][] {
  const levels: OrderState[][] = [];
  side.heap.forEachBest((level) => {
    const orders: OrderState[] = [];
    for (let order = level.head; order !== null; order = order.next) orders.push(orderState(order));
    levels.push(orders);
    return true;
  });
  return levels;
}

export function exportEngineState(engine: MatchingEngine): EngineState {
  const markets: MarketState[] = [];
  for (const book of engine.allBooks()) {
    markets.push({
      sym: book.sym,
      nextOrderId: book.nextOrderId,
      nextTradeId: book.nextTradeId,
      bids: exportSide(book.bids),
      asks: exportSide(book.asks),
    });
  }
  const accounts: [string, [string, number][]][] = [];
  for (const [account, entry] of engine.accounts.entries()) {
    accounts.push([account, entry.list().map((order): [string, number] => [order.sym, order.id])]);
  }
  const { ledger } = engine;
  return {
    version: ENGINE_STATE_VERSION,
    markets,
    accounts,
    ledger: {
      assets: ledger.assets.map((info) => info.asset),
      supply: [...ledger.supply],
      balances: [...ledger.accounts.values()].map((funds) => ({
        account: funds.name,
        available: [...funds.available],
        hold: [...funds.hold],
      })),
      refs: [...ledger.refs].map(([ref, record]) => ({ ref, ...record })),
    },
  };
}

function restoreLedger(engine: MatchingEngine, state: LedgerState): void {
  const { ledger } = engine;
  const configured = ledger.assets.map((info) => info.asset);
  // Markets are append-only, so a new market may add assets; each saved asset maps to its new index.
  const indexOf = state.assets.map((asset) => {
    const index = ledger.assetOf(asset);
    if (index === undefined) throw new Error(`engine state: asset ${asset} is not in the configured markets (${configured.join(', ')})`);
    return index;
  });
  state.supply.forEach((amount, saved) => {
    ledger.supply[indexOf[saved]!] = amount;
  });
  for (const balances of state.balances) {
    const funds = ledger.funds(balances.account);
    balances.available.forEach((amount, saved) => {
      funds.available[indexOf[saved]!] = amount;
    });
    balances.hold.forEach((amount, saved) => {
      funds.hold[indexOf[saved]!] = amount;
    });
  }
  for (const { ref, ...record } of state.refs) ledger.refs.set(ref, record);
}

export function restoreEngine(markets: readonly MarketInfo[], limits: EngineLimits, state: EngineState): MatchingEngine {
  if (state.version !== ENGINE_STATE_VERSION) {
    throw new Error(`engine state: format version ${String(state.version)}, this server reads version ${ENGINE_STATE_VERSION}`);
  }
  const engine = new MatchingEngine(markets, limits);
  restoreLedger(engine, state.ledger);
  const byMarket = new Map<string, Map<number, Order>>();
  for (const market of state.markets) {
    const book = engine.book(market.sym);
    if (!book) throw new Error(`engine state: market ${market.sym} is not configured`);
    book.nextOrderId = market.nextOrderId;
    book.nextTradeId = market.nextTradeId;
    const orders = new Map<number, Order>();
    for (const levels of [market.bids, market.asks]) {
      for (const level of levels) {
        for (const saved of level) {
          const order = new Order(saved, engine.ledger.funds(saved.account));
          order.filled = saved.filled;
          order.hold = saved.hold;
          order.receivedTaker = saved.receivedTaker;
          order.receivedMaker = saved.receivedMaker;
          order.feesPaid = saved.feesPaid;
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
