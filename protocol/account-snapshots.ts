// The `orders` and `balances` snapshots that reset the client's AccountView. An `orders` snapshot
// is followed through all its pages (`more`/`next`). Each page lands in the view as its reply is
// dispatched, so the execs and balances behind it in the same frame, which are newer, apply on
// top and are not undone.
import type { AccountView } from './account-view.js';
import type { RawRequest } from './client-api.js';
import type { BalancesReply, OrdersReply, Reply } from './messages.js';

/** ClientConnection.expect: `onReply` sees the reply as it is dispatched, before the frame's later messages. */
export type ExpectWithHook = <R extends Reply>(
  message: RawRequest,
  type: R['type'],
  internal: boolean,
  onReply?: (reply: R) => void,
) => Promise<R>;

export class AccountSnapshots {
  constructor(
    private readonly account: AccountView,
    private readonly expect: ExpectWithHook,
  ) {}

  /** Every open order (of `sym`, or all markets), as one reply with no page left. */
  async orders(sym: string | undefined, internal: boolean): Promise<OrdersReply> {
    const page = (after: string | undefined): Promise<OrdersReply> => {
      const params: Record<string, unknown> = { op: 'orders' };
      if (sym !== undefined) params.sym = sym;
      if (after !== undefined) params.after = after;
      return this.expect<OrdersReply>(params as RawRequest, 'orders', internal, (reply) =>
        after === undefined ? this.account.replaceOrders(reply.orders, sym) : this.account.addOrders(reply.orders),
      );
    };
    const first = await page(undefined);
    const orders = [...first.orders];
    for (let next = first; next.more === true && typeof next.next === 'string';) {
      next = await page(next.next);
      orders.push(...next.orders);
    }
    return { ...first, orders, more: false, next: null };
  }

  /** Another `account`'s balances leave the view alone: it is this connection's account's. */
  async balances(account: string | undefined, internal: boolean): Promise<BalancesReply> {
    if (account !== undefined) return this.expect<BalancesReply>({ op: 'balances', account }, 'balances', internal);
    return this.expect<BalancesReply>({ op: 'balances' }, 'balances', internal, (reply) => this.account.replaceBalances(reply.balances));
  }
}
