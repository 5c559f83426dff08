// Dry runs of matching against one side of a book, changing nothing: how much a taker could fill
// (fok and market-order checks) and what a market buy would pay (its exact hold). Self-trade
// prevention counts as matching applies it: cancel_maker skips own orders, cancel_taker and
// cancel_both stop at the first.
//
// Icebergs: a taker fills the slices a level shows in FIFO order, and an iceberg whose slice is
// used up shows a new one at the back of the level, so a taker that goes on reaches it again:
// everything an iceberg hides is reachable — unless the taker stops at one of its own orders
// (cancel_taker, cancel_both) first. A refreshed slice is behind that order, so then only what
// the level showed before it counts. Per level: the shown quantity before the first own order
// when one stops the taker, else all the leaves (own orders skipped under cancel_maker).
import type { StpMode } from '../../protocol/constants.js';
import type { BookSide } from './book-side.js';
import type { PriceLevel } from './price-level.js';

/**
 * What a taker could take from `level` (at most about `needed`: it may stop counting once what
 * the level shows reaches it), and whether one of its own orders stops it there. At most the
 * side's leaves, which holds keep within 2^53-1.
 */
function reachable(level: PriceLevel, account: string, stp: StpMode, needed: number): { qty: number; stops: boolean } {
  let shown = 0;
  let leaves = 0;
  for (let maker = level.head; maker !== null; maker = maker.next) {
    if (maker.account === account && stp !== 'none') {
      if (stp === 'cancel_maker') continue;
      return { qty: shown, stops: true };
    }
    shown += maker.shown;
    leaves += maker.leaves;
    if (shown >= needed) return { qty: shown, stops: false };
  }
  return { qty: leaves, stops: false };
}

/** How much a taker at `px` (null: market) could fill from `opposite`, stopping once `needed` is reached. */
export function fillable(opposite: BookSide, px: number | null, account: string, stp: StpMode, needed: number): number {
  let sum = 0;
  opposite.heap.forEachBest((level) => {
    if (!opposite.reaches(level, px)) return false;
    const { qty, stops } = reachable(level, account, stp, needed - sum);
    sum += qty;
    return !stops && sum < needed;
  });
  return sum;
}

/** fillable(opposite, null, account, stp, 1) > 0, without the walk when no STP can skip a maker. */
export function anyFillable(opposite: BookSide, account: string, stp: StpMode): boolean {
  // A resting order always shows at least 1, so with no STP any best level is enough.
  if (opposite.best() === undefined) return false;
  return stp === 'none' || fillable(opposite, null, account, stp, 1) > 0;
}

/** The exact notional a market buy of `qty` would pay against `asks` as they stand; -1 if it is not a safe amount. */
export function marketBuyCost(asks: BookSide, quoteScale: number, account: string, stp: StpMode, qty: number): number {
  // Most market buys fill within the best level: with no STP to skip a maker, what it shows is enough.
  const best = asks.best();
  if (best !== undefined && stp === 'none' && best.total >= qty) {
    const cost = best.px * qty * quoteScale;
    return Number.isSafeInteger(cost) ? cost : -1;
  }
  let remaining = qty;
  let cost = 0;
  asks.heap.forEachBest((level) => {
    const { qty: available, stops } = reachable(level, account, stp, remaining);
    const take = Math.min(remaining, available);
    cost += level.px * take * quoteScale;
    remaining -= take;
    return !stops && remaining > 0 && Number.isSafeInteger(cost);
  });
  return Number.isSafeInteger(cost) ? cost : -1;
}
