// The engine's whole state as plain data, and back: books with every level's FIFO order, the id
// counters, each account's orders in acceptance order (cancel_all and `orders` follow it), and the
// ledger (balances, each asset's supply, the transfer refs seen). Restoring what was exported gives
// an engine that behaves identically from then on. `version` names the format: a reader refuses a
// version it does not know rather than misread it.
//
// Version 3 adds stop orders and icebergs: a market's waiting stops (`stops`), a stop's `trigger`
// on its order, an iceberg's `display` and current `slice`. A state is written in the oldest
// version that holds it (as git writes index v3 only when an entry needs its flags): one with no
// stop and no iceberg is exactly version 2, so it stays readable by a server that reads only 2
// until one is placed, and byte-identical to before (test/engine/encoded-output.test.ts pins it).
// This server reads both.
import type { MarketInfo } from '../../protocol/messages.js';
import type { BookSide } from './book-side.js';
import { MatchingEngine } from './engine.js';
import type { TransferRecord } from './ledger.js';
import { Order, type OrderFields } from './order.js';
import type { EngineLimits } from './types.js';

/** The newest format, written when the state needs it; READABLE_VERSIONS are all this server restores. */
export const ENGINE_STATE_VERSION = 3;
const READABLE_VERSIONS: readonly number[] = [2, ENGINE_STATE_VERSION];

/** An order as saved: its fields, then what it has done; `trigger` only on a stop, `display` and `slice` only on an iceberg (version 3). */
export interface OrderState extends Omit<OrderFields, 'trigger' | 'display'> {
  readonly id: number;
  readonly trigger?: number;
  readonly display?: number;
  readonly slice?: number;
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
  /** Version 3, when any: the stops waiting for their trigger (buys, then sells, each next-to-trigger first). */
  readonly stops?: OrderState[];
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
  readonly version: 2 | typeof ENGINE_STATE_VERSION;
  readonly markets: MarketState[];
  /** Each account's open orders in acceptance order, as [sym, id]. */
  readonly accounts: [string, [string, number][]][];
  readonly ledger: LedgerState;
}

function orderState(order: Order): OrderState {
  const state: OrderState = {
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
  if (order.trigger !== null) return { ...state, trigger: order.trigger };
  if (order.display !== null) return { ...state, display: order.display, slice: order.slice };
  return state;
}

/** Whether a market's saved state needs version 3: a waiting stop, a triggered one resting, an iceberg. */
function needsVersion3(market: MarketState): boolean {
  const isNew = (order: OrderState): boolean => order.trigger !== undefined || order.display !== undefined;
  return market.stops !== undefined || [...market.bids, ...market.asks].some((level) => level.some(isNew));
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
    const market: MarketState = {
      sym: book.sym,
      nextOrderId: book.nextOrderId,
      nextTradeId: book.nextTradeId,
      bids: exportSide(book.bids),
      asks: exportSide(book.asks),
    };
    const { buys, sells } = book.stops.sides();
    const stops = [...buys]
      .reverse()
      .concat([...sells].reverse())
      .map(orderState);
    markets.push(stops.length === 0 ? market : { ...market, stops });
  }
  const accounts: [string, [string, number][]][] = [];
  for (const [account, entry] of engine.accounts.entries()) {
    accounts.push([account, entry.list().map((order): [string, number] => [order.sym, order.id])]);
  }
  const { ledger } = engine;
  return {
    version: markets.some(needsVersion3) ? ENGINE_STATE_VERSION : 2,
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

function restoreOrder(engine: MatchingEngine, saved: OrderState): Order {
  const order = new Order(saved.id, saved, engine.ledger.funds(saved.account));
  order.filled = saved.filled;
  // Before it joins its level, which counts what it shows.
  order.slice = saved.slice ?? 0;
  order.hold = saved.hold;
  order.receivedTaker = saved.receivedTaker;
  order.receivedMaker = saved.receivedMaker;
  order.feesPaid = saved.feesPaid;
  return order;
}

export function restoreEngine(markets: readonly MarketInfo[], limits: EngineLimits, state: EngineState): MatchingEngine {
  if (!READABLE_VERSIONS.includes(state.version)) {
    throw new Error(`engine state: format version ${String(state.version)}, this server reads versions ${READABLE_VERSIONS.join(' and ')}`);
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
          const order = restoreOrder(engine, saved);
          book.sideOf(order.side).add(order);
          book.orders.set(order.id, order);
          orders.set(order.id, order);
        }
      }
    }
    for (const saved of market.stops ?? []) {
      const order = restoreOrder(engine, saved);
      book.stops.add(order);
      book.orders.set(order.id, order);
      orders.set(order.id, order);
    }
    byMarket.set(market.sym, orders);
  }
  for (const [, refs] of state.accounts) {
    for (const [sym, id] of refs) {
      const order = byMarket.get(sym)?.get(id);
      if (!order) throw new Error(`engine state: account order ${sym}#${id} is not in the book or its stops`);
      engine.accounts.register(order);
    }
  }
  return engine;
}
