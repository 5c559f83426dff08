// The logged-in account's open orders and balances as the client last learned them: replaced by
// the `orders` and `balances` snapshots, moved on by every `exec` and `balance` in between. Execs
// and balances carry absolute values (leaves, filled, status; available, hold), and the server
// sends a connection's snapshots and pushes in the order it produced them, so applying them in
// arrival order converges on the server's state.
import type { BalanceView, Exec, OrderView } from './messages.js';

/** An open order as the client sees it: the fields its execs carry. */
export interface LocalOrder {
  readonly sym: string;
  readonly id: number;
  readonly cid: string | null;
  readonly side: Exec['side'];
  readonly px: number | null;
  readonly qty: number;
  readonly filled: number;
  readonly leaves: number;
  readonly status: 'new' | 'partial';
}

function localOrder(order: OrderView | Exec, status: 'new' | 'partial'): LocalOrder {
  const { sym, id, cid, side, px, qty, filled, leaves } = order;
  return { sym, id, cid, side, px, qty, filled, leaves, status };
}

export class AccountView {
  readonly #orders = new Map<number, LocalOrder>();
  readonly #balances = new Map<string, BalanceView>();

  applyExec(exec: Exec): void {
    if (exec.status === 'new' || exec.status === 'partial') this.#orders.set(exec.id, localOrder(exec, exec.status));
    else this.#orders.delete(exec.id);
  }

  applyBalance(view: BalanceView): void {
    this.#balances.set(view.asset, { asset: view.asset, available: view.available, hold: view.hold });
  }

  /** The first page of an `orders` snapshot: it replaces every open order of `sym` (all markets: undefined). */
  replaceOrders(orders: readonly OrderView[], sym: string | undefined): void {
    for (const [id, order] of this.#orders) if (sym === undefined || order.sym === sym) this.#orders.delete(id);
    this.addOrders(orders);
  }

  /** A later page of the same snapshot: orders the first did not reach. */
  addOrders(orders: readonly OrderView[]): void {
    for (const order of orders) this.#orders.set(order.id, localOrder(order, order.status));
  }

  replaceBalances(views: readonly BalanceView[]): void {
    this.#balances.clear();
    for (const view of views) this.applyBalance(view);
  }

  /** Open orders (of `sym`, or all), oldest id first. */
  openOrders(sym?: string): LocalOrder[] {
    const out: LocalOrder[] = [];
    for (const order of this.#orders.values()) if (sym === undefined || order.sym === sym) out.push(order);
    return out.sort((a, b) => a.id - b.id);
  }

  balance(asset: string): BalanceView | undefined {
    const view = this.#balances.get(asset);
    return view === undefined ? undefined : { ...view };
  }
}
