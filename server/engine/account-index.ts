// The accounts that have open orders, in the order each last became active (got an open order
// after having none): the order in which the exported state lists them, so it is deterministic.
// The orders themselves are listed on their account (account.ts); this index changes only when
// an account gains its first open order or loses its last. It is an intrusive list through the
// accounts (as an account's orders are through the orders): no hashing on the matching path.
import type { AccountOrders, Account } from './account.js';
import type { Order } from './order.js';

export class AccountIndex {
  private first: Account | null = null;
  private last: Account | null = null;

  constructor(private readonly accounts: ReadonlyMap<string, Account>) {}

  /** The open orders of an account that has any. */
  get(account: string): AccountOrders | undefined {
    const owner = this.accounts.get(account);
    return owner !== undefined && owner.orders.size > 0 ? owner.orders : undefined;
  }

  register(order: Order): void {
    if (order.accountListed) return;
    const { owner } = order;
    owner.orders.add(order);
    if (owner.orders.size === 1) this.append(owner);
  }

  unregister(order: Order): void {
    if (!order.accountListed) return;
    const { owner } = order;
    owner.orders.remove(order);
    if (owner.orders.size === 0) this.unlink(owner);
  }

  *entries(): IterableIterator<[string, AccountOrders]> {
    for (let account = this.first; account !== null; account = account.activeNext) yield [account.name, account.orders];
  }

  private append(account: Account): void {
    account.activePrev = this.last;
    account.activeNext = null;
    if (this.last) this.last.activeNext = account;
    else this.first = account;
    this.last = account;
  }

  private unlink(account: Account): void {
    if (account.activePrev) account.activePrev.activeNext = account.activeNext;
    else this.first = account.activeNext;
    if (account.activeNext) account.activeNext.activePrev = account.activePrev;
    else this.last = account.activePrev;
    account.activePrev = null;
    account.activeNext = null;
  }
}
