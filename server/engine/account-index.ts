// Which orders each account has open: its cid index (cid is unique among an account's open
// orders) and its orders in acceptance order, so cancel_all and `orders` answer
// deterministically. The orders form an intrusive doubly linked list through the orders
// themselves (as price levels do): adding and removing one is O(1) with no hashing and no
// allocation, which matters because an order joins and leaves this index on every rest and fill.
//
// An account's entry leaves the index when its last order goes (so iteration order, and with it
// the exported state, is the order in which accounts last became active), but the emptied entry
// is kept in a bounded pool and reused: accounts that come and go with every order would
// otherwise allocate and collect an entry and its cid map per round trip.
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

/** Emptied entries kept for reuse; beyond this many they are left to the GC. */
const MAX_POOLED_ENTRIES = 1024;

export class AccountIndex {
  private readonly accounts = new Map<string, AccountOrders>();
  private readonly pool: AccountOrders[] = [];

  get(account: string): AccountOrders | undefined {
    return this.accounts.get(account);
  }

  register(order: Order): void {
    let entry = this.accounts.get(order.account);
    if (!entry) {
      entry = this.pool.pop() ?? new AccountOrders();
      this.accounts.set(order.account, entry);
    }
    entry.add(order);
  }

  unregister(order: Order): void {
    const entry = this.accounts.get(order.account);
    if (!entry) return;
    entry.remove(order);
    if (entry.size === 0) {
      this.accounts.delete(order.account);
      // Every cid belongs to an open order, so an entry with no orders has no cids left either.
      if (this.pool.length < MAX_POOLED_ENTRIES) this.pool.push(entry);
    }
  }

  entries(): IterableIterator<[string, AccountOrders]> {
    return this.accounts.entries();
  }
}
