// The checks of the kill -9 harness, run after each restart: every account's recovered `orders`
// against its model (exact, except orders a request in flight at the kill may have changed), no
// order the model saw closed may be open again, no open order may come from nowhere, and the book
// must be the sum of everybody's open orders.
import type { OrderView } from '../../protocol/messages.js';
import { orderKey, type CrashTrader, type OrderState } from './crash-trader.js';

export interface CheckStats {
  certain: number;
  uncertain: number;
  phantoms: number;
}

/** Aggressive quantity in flight at the kill, per market and side, and how far in price it reaches. */
interface InFlightReach {
  qty: number;
  /** The worst price it may trade at: highest for buys, lowest for sells. */
  limit: number;
}

/**
 * The orders a request still in flight at the kill could have changed: those its owner canceled
 * or amended, and on the other side of an aggressive order the price levels it could reach with
 * its quantity (level by level from the best, not counting orders that may have been canceled).
 */
function mayHaveChanged(traders: readonly CrashTrader[], syms: readonly string[]): Set<string> {
  const changed = new Set<string>();
  const reach = new Map<string, InFlightReach>();
  const aggress = (sym: string, side: 'buy' | 'sell', px: number, qty: number): void => {
    const key = `${sym}/${side}`;
    const entry = reach.get(key) ?? { qty: 0, limit: side === 'buy' ? -Infinity : Infinity };
    entry.qty += qty;
    entry.limit = side === 'buy' ? Math.max(entry.limit, px) : Math.min(entry.limit, px);
    reach.set(key, entry);
  };
  for (const trader of traders) {
    for (const request of trader.inFlight.values()) {
      const sym = request.sym as string;
      if (request.op === 'place') {
        const side = request.side as 'buy' | 'sell';
        const px = request.kind === 'market' ? (side === 'buy' ? Infinity : -Infinity) : (request.px as number);
        aggress(sym, side, px, request.qty as number);
      } else if (request.op === 'cancel_all') {
        for (const order of trader.open.values()) if (order.sym === sym) changed.add(`${trader.account}/${orderKey(sym, order.id)}`);
      } else {
        const key = orderKey(sym, request.id as number);
        changed.add(`${trader.account}/${key}`);
        const order = trader.open.get(key);
        // An amend may cross (new price) with up to its new leaves; count it as aggressive.
        if (order) aggress(sym, order.side, typeof request.px === 'number' ? request.px : order.px, Math.max(order.leaves, (request.qty as number | undefined) ?? 0));
      }
    }
  }
  const touched = new Set(changed);
  for (const sym of syms) {
    for (const side of ['buy', 'sell'] as const) {
      const incoming = reach.get(`${sym}/${side === 'buy' ? 'sell' : 'buy'}`);
      if (!incoming) continue;
      const resting = traders.flatMap((trader) =>
        [...trader.open.values()].filter((o) => o.sym === sym && o.side === side).map((o) => ({ owner: `${trader.account}/${orderKey(sym, o.id)}`, order: o })),
      );
      const prices = [...new Set(resting.map((r) => r.order.px))].sort((a, b) => (side === 'buy' ? b - a : a - b));
      let consumed = 0;
      for (const px of prices) {
        if (side === 'buy' ? px < incoming.limit : px > incoming.limit) break;
        for (const { owner, order } of resting) {
          if (order.px !== px) continue;
          // Orders their owner may have canceled or shrunk are no liquidity to count on.
          if (!touched.has(owner)) consumed += order.leaves;
          changed.add(owner);
        }
        if (consumed >= incoming.qty) break;
      }
    }
  }
  return changed;
}

export function checkRecovered(
  syms: readonly string[],
  traders: readonly CrashTrader[],
  recovered: ReadonlyMap<CrashTrader, OrderView[]>,
  books: ReadonlyMap<string, { bids: [number, number][]; asks: [number, number][] }>,
  violations: string[],
  stats: CheckStats,
): void {
  const changed = mayHaveChanged(traders, syms);
  const aggregate = new Map<string, Map<number, number>>();
  for (const trader of traders) {
    const views = recovered.get(trader)!;
    const byKey = new Map(views.map((view) => [orderKey(view.sym, view.id), view]));
    const inFlightCids = new Set([...trader.inFlight.values()].filter((r) => r.op === 'place').map((r) => r.cid as string));
    for (const [key, model] of trader.open) {
      const view = byKey.get(key);
      if (!changed.has(`${trader.account}/${key}`)) {
        stats.certain++;
        if (!view) violations.push(`${trader.account}: acked order ${key} ${describeState(model)} lost`);
        else if (!sameState(model, view)) violations.push(`${trader.account}: order ${key} is ${describeView(view)}, reported ${describeState(model)}`);
      } else {
        stats.uncertain++;
        if (view && (view.side !== model.side || view.filled < model.filled)) {
          violations.push(`${trader.account}: order ${key} went back from ${describeState(model)} to ${describeView(view)}`);
        }
      }
    }
    for (const view of views) {
      const key = orderKey(view.sym, view.id);
      if (trader.open.has(key)) continue;
      if (trader.closed.has(key)) violations.push(`${trader.account}: order ${key}, reported closed, is open again`);
      else if (view.cid === null || !inFlightCids.has(view.cid)) violations.push(`${trader.account}: order ${key} (cid ${String(view.cid)}) was never placed`);
      else stats.phantoms++;
    }
    for (const view of views) {
      const levels = aggregate.get(`${view.sym}/${view.side}`) ?? new Map<number, number>();
      levels.set(view.px!, (levels.get(view.px!) ?? 0) + view.leaves);
      aggregate.set(`${view.sym}/${view.side}`, levels);
    }
  }
  for (const sym of syms) {
    const book = books.get(sym)!;
    for (const [side, levels] of [['buy', book.bids], ['sell', book.asks]] as const) {
      const expected = [...(aggregate.get(`${sym}/${side}`) ?? new Map<number, number>())].sort((a, b) => (side === 'buy' ? b[0] - a[0] : a[0] - b[0]));
      if (JSON.stringify(expected) !== JSON.stringify(levels)) {
        violations.push(`${sym} ${side} book ${JSON.stringify(levels)} is not the sum of open orders ${JSON.stringify(expected)}`);
      }
    }
  }
}

function sameState(model: OrderState, view: OrderView): boolean {
  return view.side === model.side && view.px === model.px && view.qty === model.qty && view.filled === model.filled && view.leaves === model.leaves;
}

function describeState(state: OrderState): string {
  return `${state.side} ${state.qty}@${state.px} filled ${state.filled}`;
}

function describeView(view: OrderView): string {
  return `${view.side} ${view.qty}@${String(view.px)} filled ${view.filled}`;
}

