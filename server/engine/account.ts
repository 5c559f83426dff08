// One account as the engine keeps it: its funds per asset (`available` and `hold`, exact integers
// in ledger units) and its open orders. Both live on one object that every order points at
// (`Order.owner`), so placing, settling and resting an order reach the account without a lookup
// by name.
//
// The open orders form an intrusive doubly linked list through the orders themselves (as price
// levels do), in acceptance order, so cancel_all and `orders` answer deterministically; adding
// and removing one is O(1) with no hashing and no allocation. cid is unique among an account's
// open orders.
import type { Order } from './order.js';

export class AccountOrders {
  readonly cids = new Map<string, Order>();
  first: Order | null = null;
  last: Order | null = null;
  size = 0;

  /** Appends an order; one already listed keeps its place (an amend that rests again). */
  add(order: Order): void {
    if (order.accountListed) return;
    order.accountListed = true;
    order.accountPrev = this.last;
    order.accountNext = null;
    if (this.last) this.last.accountNext = order;
    else this.first = order;
    this.last = order;
    this.size++;
    if (order.cid !== null) this.cids.set(order.cid, order);
  }

  remove(order: Order): void {
    if (!order.accountListed) return;
    order.accountListed = false;
    if (order.accountPrev) order.accountPrev.accountNext = order.accountNext;
    else this.first = order.accountNext;
    if (order.accountNext) order.accountNext.accountPrev = order.accountPrev;
    else this.last = order.accountPrev;
    order.accountPrev = null;
    order.accountNext = null;
    this.size--;
    if (order.cid !== null) this.cids.delete(order.cid);
  }

  /** The open orders oldest first, as a copy (safe to cancel while walking it). */
  list(): Order[] {
    const orders: Order[] = [];
    for (let order = this.first; order !== null; order = order.accountNext) orders.push(order);
    return orders;
  }
}

export class Account {
  // Float64Arrays: amounts pass 2^31 (V8's small integers) all the time, and a typed array keeps
  // one representation, where a plain array would change its element kind under the optimizer's
  // feet. Every integer below 2^53 is exact in a double.
  readonly available: Float64Array;
  readonly hold: Float64Array;
  /** The command stamp that last touched each asset: one balance event per asset per command. */
  readonly touchedAt: Float64Array;
  readonly orders = new AccountOrders();
  /** Its neighbours among the accounts with open orders (account-index.ts). */
  activePrev: Account | null = null;
  activeNext: Account | null = null;

  constructor(
    readonly name: string,
    assetCount: number,
  ) {
    this.available = new Float64Array(assetCount);
    this.hold = new Float64Array(assetCount);
    this.touchedAt = new Float64Array(assetCount);
  }
}
