// The final state of each account's recently closed orders (filled or canceled), so that `order`
// can answer for an order that is no longer open: a client whose connection dropped before the
// last exec arrived learns how the order ended. Kept from the execs the gateway distributes, the
// newest `retention` per account, in memory for this server life (older ones: Postgres `orders`,
// when configured).
import type { Exec, OrderRef, OrderStateView as OrderState } from '../../protocol/messages.js';

class AccountClosed {
  /** sym → id → final state. Ids are numbers unique per market: no key strings to build per exec. */
  readonly bySym = new Map<string, Map<number, OrderState>>();
  /** sym → cid → id of the newest closed order with that cid. */
  readonly cidsBySym = new Map<string, Map<string, number>>();
  /** The kept states, oldest first, as a ring of `retention` slots: the next to evict is at `head`. */
  readonly ring: (OrderState | undefined)[];
  head = 0;
  size = 0;

  constructor(retention: number) {
    this.ring = new Array<OrderState | undefined>(retention);
  }
}

export class ClosedOrders {
  private readonly accounts = new Map<string, AccountClosed>();

  constructor(private readonly retention: number) {}

  /** Notes an exec; only those that close an order are kept. */
  record(account: string, exec: Exec): void {
    if (exec.status !== 'filled' && exec.status !== 'canceled') return;
    let closed = this.accounts.get(account);
    if (!closed) this.accounts.set(account, (closed = new AccountClosed(this.retention)));
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
    let ids = closed.bySym.get(exec.sym);
    if (!ids) closed.bySym.set(exec.sym, (ids = new Map()));
    // An order closes once, so a state never replaces another of the same id.
    ids.set(exec.id, state);
    if (exec.cid !== null) {
      let cids = closed.cidsBySym.get(exec.sym);
      if (!cids) closed.cidsBySym.set(exec.sym, (cids = new Map()));
      cids.set(exec.cid, exec.id);
    }
    const { ring } = closed;
    if (closed.size === ring.length) {
      const oldest = ring[closed.head]!;
      closed.bySym.get(oldest.sym)!.delete(oldest.id);
      const cids = oldest.cid === null ? undefined : closed.cidsBySym.get(oldest.sym);
      if (cids !== undefined && cids.get(oldest.cid!) === oldest.id) cids.delete(oldest.cid!);
      ring[closed.head] = state;
      closed.head = (closed.head + 1) % ring.length;
    } else {
      ring[(closed.head + closed.size) % ring.length] = state;
      closed.size++;
    }
  }

  find(account: string, sym: string, ref: OrderRef): OrderState | undefined {
    const closed = this.accounts.get(account);
    if (!closed) return undefined;
    const id = 'id' in ref ? ref.id : closed.cidsBySym.get(sym)?.get(ref.cid);
    return id === undefined ? undefined : closed.bySym.get(sym)?.get(id);
  }
}
