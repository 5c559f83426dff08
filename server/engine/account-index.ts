// The accounts that have open orders, in the order each last became active (got an open order
// after having none): the order in which the exported state lists them, so it is deterministic.
// The orders themselves are listed on their account (account.ts); this index changes only when
// an account gains its first open order or loses its last.
import type { AccountOrders, Account } from './account.js';
import type { Order } from './order.js';

export class AccountIndex {
  private readonly active = new Map<string, Account>();

  /** The open orders of an account that has any. */
  get(account: string): AccountOrders | undefined {
    return this.active.get(account)?.orders;
  }

  register(order: Order): void {
    if (order.accountListed) return;
    const { owner } = order;
    owner.orders.add(order);
    if (owner.orders.size === 1) this.active.set(owner.name, owner);
  }

  unregister(order: Order): void {
    if (!order.accountListed) return;
    const { owner } = order;
    owner.orders.remove(order);
    if (owner.orders.size === 0) this.active.delete(owner.name);
  }

  *entries(): IterableIterator<[string, AccountOrders]> {
    for (const [name, account] of this.active) yield [name, account.orders];
  }
}
