// Which orders each account has open: its cid index (cid is unique among an account's open
// orders) and the set of its orders, kept in insertion order so cancel_all and `orders` answer
// deterministically.
import type { Order } from './order.js';

export interface AccountOrders {
  readonly cids: Map<string, Order>;
  readonly orders: Set<Order>;
}

export class AccountIndex {
  private readonly accounts = new Map<string, AccountOrders>();

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
      entry = { cids: new Map(), orders: new Set() };
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
    if (entry.orders.size === 0) this.accounts.delete(order.account);
  }

  entries(): IterableIterator<[string, AccountOrders]> {
    return this.accounts.entries();
  }
}
