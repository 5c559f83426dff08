// What each order kind does, in one place: every rule is an exhaustive switch on the kind, so a
// new kind fails to compile until each rule says how it behaves (docs/ENGINE.md has the checklist).
import type { CancelReason, OrderKind, Tif } from '../../protocol/constants.js';
import { safeProduct, type MarketMoney } from './assets.js';

function unhandled(kind: never): never {
  throw new Error(`unhandled order kind ${String(kind)}`);
}

/** Whether what is left after matching rests in the book. */
export function restsAfterMatching(kind: OrderKind, tif: Tif): boolean {
  switch (kind) {
    case 'limit':
      return tif === 'gtc';
    case 'market':
      return false;
    default:
      return unhandled(kind);
  }
}

/** Why the unfilled rest of an order that does not rest is canceled. */
export function unrestedReason(kind: OrderKind): CancelReason {
  switch (kind) {
    case 'limit':
      return 'ioc';
    case 'market':
      return 'market';
    default:
      return unhandled(kind);
  }
}

/** Whether the order needs liquidity to be accepted at all (`no_liquidity` otherwise). */
export function needsLiquidity(kind: OrderKind): boolean {
  switch (kind) {
    case 'limit':
      return false;
    case 'market':
      return true;
    default:
      return unhandled(kind);
  }
}

/**
 * The hold of a sell: its leaves in base. Of a buy with a limit price: the notional of its leaves at
 * that price. -1 when the amount is not a safe integer. A market buy holds what its fills will cost,
 * which only the book can say (liquidity.ts marketBuyCost).
 */
export function sellHold(money: MarketMoney, leaves: number): number {
  return safeProduct(leaves, money.baseScale, 1);
}

export function limitBuyHold(money: MarketMoney, px: number, leaves: number): number {
  return safeProduct(px, leaves, money.quoteScale);
}

/** Whether a buy's hold follows its limit price (else it is the exact cost computed when it matches). */
export function buyHoldsAtLimit(kind: OrderKind): boolean {
  switch (kind) {
    case 'limit':
      return true;
    case 'market':
      return false;
    default:
      return unhandled(kind);
  }
}
