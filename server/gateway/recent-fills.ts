// Each account's recent fills for `my_trades`, from the execs the gateway distributes: the newest
// `retention` per account, in memory for this server life (older ones come from Postgres, when
// configured: account-history.ts). Every fill gets `n`, its number in the account's fill
// history of this server life, which pages with `before`.
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
  /**
   * When memory may lack older matching fills (dropped past the retention, or from before this
   * server life): the history should be asked for those with ts below `toTs` (null: any ts).
   * Null when memory answered for the whole window asked.
   */
  readonly history: { readonly toTs: number | null } | null;
}

export interface FillsWindow {
  readonly sym: string | null;
  /** The `n` the page continues below (null: from the newest). */
  readonly before: number | null;
  /** ts in [fromTs, toTs) (null: unbounded). */
  readonly fromTs: number | null;
  readonly toTs: number | null;
  readonly limit: number;
  /** A history can answer what memory dropped: then the oldest kept ts is left to it. */
  readonly withHistory: boolean;
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

  /**
   * Newest first: fills numbered below `before`, of `sym`, in the ts window, at most `limit`. Once
   * fills were dropped, those at the oldest kept fill's ts may be incomplete, so with a history
   * they are left to it (it then answers every fill up to that ts): none is missed or given twice.
   */
  page(account: string, window: FillsWindow): FillsPage {
    const { sym, before, fromTs, toTs, limit, withHistory } = window;
    const fills = this.accounts.get(account);
    const trades: MyTrade[] = [];
    if (!fills) return { trades, more: false, history: { toTs } };
    const oldest = Math.max(1, fills.count - this.retention + 1);
    const oldestTs = fills.ring[oldest % this.retention]!.ts;
    const truncated = withHistory && fills.count > this.retention;
    const historyTo = truncated ? oldestTs + 1 : oldestTs;
    const historyToTs = toTs === null ? historyTo : Math.min(toTs, historyTo);
    const history = fromTs !== null && historyToTs <= fromTs ? null : { toTs: historyToTs };
    for (let n = Math.min(fills.count, (before ?? fills.count + 1) - 1); n >= oldest; n--) {
      const trade = fills.ring[n % this.retention]!;
      if (truncated && trade.ts <= oldestTs) break;
      if (fromTs !== null && trade.ts < fromTs) return { trades, more: false, history: null };
      if (toTs !== null && trade.ts >= toTs) continue;
      if (sym !== null && trade.sym !== sym) continue;
      if (trades.length === limit) return { trades, more: true, history: null };
      trades.push(trade);
    }
    return { trades, more: false, history };
  }
}
