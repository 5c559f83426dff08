// Dry runs of matching against one side of a book, changing nothing: how much a taker could fill
// (fok and market-order checks) and what a market buy would pay (its exact hold). Self-trade
// prevention counts as matching applies it: cancel_maker skips own orders, cancel_taker and
// cancel_both stop at the first.
import type { StpMode } from '../../protocol/constants.js';
import type { BookSide } from './book-side.js';

/** How much a taker at `px` (null: market) could fill from `opposite`, stopping once `needed` is reached. */
export function fillable(opposite: BookSide, px: number | null, account: string, stp: StpMode, needed: number): number {
  let sum = 0;
  opposite.heap.forEachBest((level) => {
    if (!opposite.reaches(level, px)) return false;
    for (let maker = level.head; maker !== null; maker = maker.next) {
      if (maker.account === account && stp !== 'none') {
        if (stp === 'cancel_maker') continue;
        return false;
      }
      sum += maker.leaves;
      if (sum >= needed) return false;
    }
    return true;
  });
  return sum;
}

/** fillable(opposite, null, account, stp, 1) > 0, without the walk when no STP can skip a maker. */
export function anyFillable(opposite: BookSide, account: string, stp: StpMode): boolean {
  // A resting order always has leaves > 0, so with no STP any best level is enough.
  if (opposite.best() === undefined) return false;
  return stp === 'none' || fillable(opposite, null, account, stp, 1) > 0;
}

/** The exact notional a market buy of `qty` would pay against `asks` as they stand; -1 if it is not a safe amount. */
export function marketBuyCost(asks: BookSide, quoteScale: number, account: string, stp: StpMode, qty: number): number {
  let remaining = qty;
  let cost = 0;
  asks.heap.forEachBest((level) => {
    for (let maker = level.head; maker !== null; maker = maker.next) {
      if (maker.account === account && stp !== 'none') {
        if (stp === 'cancel_maker') continue;
        return false;
      }
      const take = Math.min(remaining, maker.leaves);
      cost += level.px * take * quoteScale;
      remaining -= take;
      if (remaining === 0 || !Number.isSafeInteger(cost)) return false;
    }
    return true;
  });
  return Number.isSafeInteger(cost) ? cost : -1;
}
