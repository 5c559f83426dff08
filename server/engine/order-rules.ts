// What each order kind does, in one place: every rule is an exhaustive switch on the kind, so a
// new kind fails to compile until each rule says how it behaves (docs/ENGINE.md has the checklist).
// A stop order waits outside the book until a trade reaches its trigger, then enters as a taker:
// a market order when it has no px, a limit order at its px when it has one (stop-orders.ts).
import type { CancelReason, OrderKind, Tif } from '../../protocol/constants.js';
import { safeProduct, type MarketMoney } from './assets.js';

function unhandled(kind: never): never {
  throw new Error(`unhandled order kind ${String(kind)}`);
}

/** Whether the order waits outside the book for a trade at or through its trigger before it matches. */
export function waitsForTrigger(kind: OrderKind): boolean {
  switch (kind) {
    case 'limit':
    case 'market':
      return false;
    case 'stop':
      return true;
    default:
      return unhandled(kind);
  }
}

/** Whether the order may be open after its place (resting or waiting): it counts toward the open-order cap. */
export function mayStayOpen(kind: OrderKind, tif: Tif): boolean {
  switch (kind) {
    case 'limit':
      return tif === 'gtc';
    case 'market':
      return false;
    case 'stop':
      return true;
    default:
      return unhandled(kind);
  }
}

/** Whether what is left after matching rests in the book (`px`: the order's limit, null for none). */
export function restsAfterMatching(kind: OrderKind, tif: Tif, px: number | null): boolean {
  switch (kind) {
    case 'limit':
      return tif === 'gtc';
    case 'market':
      return false;
    case 'stop':
      return px !== null && tif === 'gtc';
    default:
      return unhandled(kind);
  }
}

/** Why the unfilled rest of an order that does not rest is canceled. */
export function unrestedReason(kind: OrderKind, px: number | null): CancelReason {
  switch (kind) {
    case 'limit':
      return 'ioc';
    case 'market':
      return 'market';
    case 'stop':
      // A triggered stop-market finding too little (or nothing) is a market order's unfilled rest.
      return px === null ? 'market' : 'ioc';
    default:
      return unhandled(kind);
  }
}

/**
 * Whether the order needs liquidity to be accepted at all (`no_liquidity` otherwise). A stop is
 * accepted to wait; a triggered stop-market that finds nothing is canceled, since it was accepted.
 */
export function needsLiquidity(kind: OrderKind): boolean {
  switch (kind) {
    case 'limit':
      return false;
    case 'market':
      return true;
    case 'stop':
      return false;
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

/**
 * Whether a buy's hold follows its limit price (else it is the exact cost computed when it matches).
 * A stop-limit buy holds the notional at its px from its place on, through its trigger; a
 * stop-market buy holds nothing while it waits (its cost cannot be known) and, when it triggers,
 * exactly what it will pay, as a market buy (OrderBook.triggerStops).
 */
export function buyHoldsAtLimit(kind: OrderKind, px: number | null): boolean {
  switch (kind) {
    case 'limit':
      return true;
    case 'market':
      return false;
    case 'stop':
      return px !== null;
    default:
      return unhandled(kind);
  }
}
