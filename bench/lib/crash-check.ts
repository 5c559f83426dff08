// The checks of the kill -9 harness, run after each restart: every account's recovered `orders`
// against its model (exact, except orders that something the account was not told about may have
// changed: see mayHaveChanged), no order the model saw closed may be open again, no open order may
// come from nowhere, and the book must be the sum of everybody's open orders; money is conserved
// and every hold is what the recovered open orders hold.
import type { BalanceView, MarketInfo, OrderView } from '../../protocol/messages.js';
import { deriveAssets, marketMoney } from '../../server/engine/assets.js';
import { SOAK_FUNDING } from './soak-setup.js';
import { orderKey, type Aggression, type CrashTrader, type OrderState } from './crash-trader.js';

export interface CheckStats {
  certain: number;
  uncertain: number;
  phantoms: number;
}

/**
 * The orders of each account that something it was not told about may have changed: its own
 * cancels and amends still in flight at the kill, and on the other side of every place or amend
 * it may not have seen — in flight anywhere, or acked to another account in a batch from this
 * account's last seen ts on — the price levels those could reach with their quantity (level by
 * level from the best, not counting orders their owners may have canceled).
 */
function mayHaveChanged(traders: readonly CrashTrader[], syms: readonly string[]): Set<string> {
  const touched = new Set<string>();
  const inFlight: Aggression[] = [];
  for (const trader of traders) {
    for (const request of trader.inFlight.values()) {
      const aggression = trader.intents.get(request);
      if (aggression) inFlight.push(aggression);
      const sym = request.sym as string;
      if (request.op === 'cancel_all') {
        for (const order of trader.open.values()) if (order.sym === sym) touched.add(`${trader.account}/${orderKey(sym, order.id)}`);
      } else if (request.op === 'cancel' || request.op === 'amend') {
        touched.add(`${trader.account}/${orderKey(sym, request.id as number)}`);
      }
    }
  }
  const changed = new Set(touched);
  for (const owner of traders) {
    const unseen = [
      ...inFlight,
      ...traders.filter((t) => t !== owner).flatMap((t) => t.answered.filter((a) => a.ts >= owner.lastSeenTs).map((a) => a.aggression)),
    ];
    for (const sym of syms) {
      for (const side of ['buy', 'sell'] as const) {
        const incoming = unseen.filter((a) => a.sym === sym && a.side !== side);
        if (incoming.length === 0) continue;
        const qty = incoming.reduce((sum, a) => sum + a.qty, 0);
        // Incoming sells reach bids down to their lowest price, incoming buys asks up to their highest.
        const limit = side === 'buy' ? Math.min(...incoming.map((a) => a.px)) : Math.max(...incoming.map((a) => a.px));
        const resting = traders.flatMap((trader) =>
          [...trader.open.values()].filter((o) => o.sym === sym && o.side === side).map((order) => ({ trader, order })),
        );
        const prices = [...new Set(resting.map((r) => r.order.px))].sort((a, b) => (side === 'buy' ? b - a : a - b));
        let consumed = 0;
        for (const px of prices) {
          if (side === 'buy' ? px < limit : px > limit) break;
          for (const { trader, order } of resting) {
            if (order.px !== px) continue;
            const key = `${trader.account}/${orderKey(sym, order.id)}`;
            if (!touched.has(key)) consumed += order.leaves;
            if (trader === owner) changed.add(key);
          }
          if (consumed >= qty) break;
        }
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
        else if (!sameState(model, view))
          violations.push(`${trader.account}: order ${key} is ${describeView(view)}, reported ${describeState(model)}`);
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
      else if (view.cid === null || !inFlightCids.has(view.cid))
        violations.push(`${trader.account}: order ${key} (cid ${String(view.cid)}) was never placed`);
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
    for (const [side, levels] of [
      ['buy', book.bids],
      ['sell', book.asks],
    ] as const) {
      const expected = [...(aggregate.get(`${sym}/${side}`) ?? new Map<number, number>())].sort((a, b) =>
        side === 'buy' ? b[0] - a[0] : a[0] - b[0],
      );
      if (JSON.stringify(expected) !== JSON.stringify(levels)) {
        violations.push(`${sym} ${side} book ${JSON.stringify(levels)} is not the sum of open orders ${JSON.stringify(expected)}`);
      }
    }
  }
}

/**
 * Money after a restart: per asset, all balances (`@fees` included) sum to what was funded plus
 * the net of the transfers known applied (`transferred`),
 * and each account's hold is exactly what its recovered open orders hold.
 */
export function checkBalances(
  markets: readonly MarketInfo[],
  traders: readonly CrashTrader[],
  recovered: ReadonlyMap<CrashTrader, OrderView[]>,
  balances: ReadonlyMap<string, BalanceView[]>,
  transferred: ReadonlyMap<string, number>,
  violations: string[],
): void {
  const assets = deriveAssets(markets);
  const money = new Map(markets.map((market) => [market.sym, marketMoney(market, assets)]));
  for (const { asset } of assets) {
    let total = 0;
    for (const views of balances.values()) {
      const view = views.find((b) => b.asset === asset)!;
      total += view.available + view.hold;
    }
    const deposited = traders.length * SOAK_FUNDING[asset]! + (transferred.get(asset) ?? 0);
    if (total !== deposited) violations.push(`${asset}: balances sum to ${total}, ${deposited} was deposited`);
  }
  for (const trader of traders) {
    const held = new Map<string, number>();
    for (const order of recovered.get(trader)!) {
      const m = money.get(order.sym)!;
      const [asset, amount] =
        order.side === 'buy' ? [m.quote, order.leaves * order.px! * m.quoteScale] : [m.base, order.leaves * m.baseScale];
      held.set(asset, (held.get(asset) ?? 0) + amount);
    }
    for (const view of balances.get(trader.account)!) {
      if (view.hold !== (held.get(view.asset) ?? 0))
        violations.push(`${trader.account} ${view.asset}: hold ${view.hold}, its open orders hold ${held.get(view.asset) ?? 0}`);
    }
  }
}

function sameState(model: OrderState, view: OrderView): boolean {
  return (
    view.side === model.side &&
    view.px === model.px &&
    view.qty === model.qty &&
    view.filled === model.filled &&
    view.leaves === model.leaves
  );
}

function describeState(state: OrderState): string {
  return `${state.side} ${state.qty}@${state.px} filled ${state.filled}`;
}

function describeView(view: OrderView): string {
  return `${view.side} ${view.qty}@${String(view.px)} filled ${view.filled}`;
}
