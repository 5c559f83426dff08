// Which orders each account has open: its cid index (cid is unique among an account's open
// orders) and the set of its orders, kept in insertion order so cancel_all and `orders` answer
// deterministically.
//
// An account's entry leaves the index when its last order goes (so iteration order, and with it
// the exported state, is the order in which accounts last became active), but the emptied
// Map+Set pair is kept in a bounded pool and reused: accounts that come and go with every order
// would otherwise allocate and collect two hash tables per round trip.
import type { Order } from './order.js';

export interface AccountOrders {
  readonly cids: Map<string, Order>;
  readonly orders: Set<Order>;
}

/** Emptied entries kept for reuse; beyond this many they are left to the GC. */
const MAX_POOLED_ENTRIES = 1024;

export class AccountIndex {
  private readonly accounts = new Map<string, AccountOrders>();
  private readonly pool: AccountOrders[] = [];

  get(account: string): AccountOrders | undefined {
    return this.accounts.get(account);
  }

  openCount(account: string): number {
    return this.accounts.get(account)?.orders.size ?? 0;
  }

  hasCid(account: string, cid: string): boolean {
    return this.accounts.get(account)?.cids.has(cid) ?? false;
  }

  register(order: Order): void {
    let entry = this.accounts.get(order.account);
    if (!entry) {
      entry = this.pool.pop() ?? { cids: new Map(), orders: new Set() };
      this.accounts.set(order.account, entry);
    }
    entry.orders.add(order);
    if (order.cid !== null) entry.cids.set(order.cid, order);
  }

  unregister(order: Order): void {
    const entry = this.accounts.get(order.account);
    if (!entry) return;
    entry.orders.delete(order);
    if (order.cid !== null) entry.cids.delete(order.cid);
    if (entry.orders.size === 0) {
      this.accounts.delete(order.account);
      // Every cid belongs to an open order, so an entry with no orders has no cids left either.
      if (this.pool.length < MAX_POOLED_ENTRIES) this.pool.push(entry);
    }
  }

  entries(): IterableIterator<[string, AccountOrders]> {
    return this.accounts.entries();
  }
}
