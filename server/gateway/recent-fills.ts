// Each account's recent fills for `my_trades`, from the execs the gateway distributes: the newest
// `retention` per account, in memory for this server life (older ones are in Postgres' `trades`
// and `ledger` tables when the write-behind is on). Every fill gets `n`, its number in the
// account's fill history, which pages with `before`.
import type { Exec, MyTrade } from '../../protocol/messages.js';

class AccountFills {
  count = 0;
  readonly ring: (MyTrade | undefined)[];
  constructor(capacity: number) {
    this.ring = new Array<MyTrade | undefined>(capacity);
  }
}

export interface FillsPage {
  readonly trades: MyTrade[];
  readonly more: boolean;
}

export class RecentFills {
  private readonly accounts = new Map<string, AccountFills>();

  constructor(private readonly retention: number) {}

  record(account: string, exec: Exec): void {
    const fill = exec.fill;
    if (fill === undefined) return;
    let fills = this.accounts.get(account);
    if (!fills) this.accounts.set(account, (fills = new AccountFills(this.retention)));
    const n = ++fills.count;
    fills.ring[n % this.retention] = {
      n,
      sym: exec.sym,
      tradeId: fill.tradeId,
      orderId: exec.id,
      cid: exec.cid,
      side: exec.side,
      px: fill.px,
      qty: fill.qty,
      liquidity: fill.liquidity,
      fee: fill.fee,
      feeAsset: fill.feeAsset,
      ts: exec.ts,
    };
  }

  /** Newest first: fills numbered below `before` (all when null), of `sym` (all when null), at most `limit`. */
  page(account: string, sym: string | null, before: number | null, limit: number): FillsPage {
    const fills = this.accounts.get(account);
    const trades: MyTrade[] = [];
    if (!fills) return { trades, more: false };
    const oldest = Math.max(1, fills.count - this.retention + 1);
    for (let n = Math.min(fills.count, (before ?? fills.count + 1) - 1); n >= oldest; n--) {
      const trade = fills.ring[n % this.retention]!;
      if (sym !== null && trade.sym !== sym) continue;
      if (trades.length === limit) return { trades, more: true };
      trades.push(trade);
    }
    return { trades, more: false };
  }
}
