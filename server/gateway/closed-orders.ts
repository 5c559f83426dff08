// The final state of each account's recently closed orders (filled or canceled), so that `order`
// can answer for an order that is no longer open: a client whose connection dropped before the
// last exec arrived learns how the order ended. Kept from the execs the gateway distributes, the
// newest `retention` per account, in memory for this server life (older ones: Postgres `orders`,
// when configured).
import type { Exec, OrderRef, OrderStateView as OrderState } from '../../protocol/messages.js';

class AccountClosed {
  /** `sym/id` → final state, oldest first (a Map keeps insertion order). */
  readonly byKey = new Map<string, OrderState>();
  /** `sym/cid` → `sym/id` of the newest closed order with that cid. */
  readonly byCid = new Map<string, string>();
}

export class ClosedOrders {
  private readonly accounts = new Map<string, AccountClosed>();

  constructor(private readonly retention: number) {}

  /** Notes an exec; only those that close an order are kept. */
  record(account: string, exec: Exec): void {
    if (exec.status !== 'filled' && exec.status !== 'canceled') return;
    let closed = this.accounts.get(account);
    if (!closed) this.accounts.set(account, (closed = new AccountClosed()));
    const key = `${exec.sym}/${exec.id}`;
    const state: OrderState = {
      sym: exec.sym,
      id: exec.id,
      cid: exec.cid,
      side: exec.side,
      status: exec.status,
      px: exec.px,
      qty: exec.qty,
      filled: exec.filled,
      leaves: 0,
      ts: exec.ts,
    };
    if (exec.reason !== undefined) state.reason = exec.reason;
    closed.byKey.set(key, state);
    if (exec.cid !== null) closed.byCid.set(`${exec.sym}/${exec.cid}`, key);
    if (closed.byKey.size > this.retention) {
      const [oldestKey, oldest] = closed.byKey.entries().next().value as [string, OrderState];
      closed.byKey.delete(oldestKey);
      if (oldest.cid !== null && closed.byCid.get(`${oldest.sym}/${oldest.cid}`) === oldestKey)
        closed.byCid.delete(`${oldest.sym}/${oldest.cid}`);
    }
  }

  find(account: string, sym: string, ref: OrderRef): OrderState | undefined {
    const closed = this.accounts.get(account);
    if (!closed) return undefined;
    const key = 'id' in ref ? `${sym}/${ref.id}` : closed.byCid.get(`${sym}/${ref.cid}`);
    return key === undefined ? undefined : closed.byKey.get(key);
  }
}
