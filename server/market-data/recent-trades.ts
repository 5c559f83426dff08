// A market's last trades for the trades channel's `recent` snapshot: a fixed ring, so keeping one
// more trade costs O(1) however many are kept.
import { MAX_RECENT_TRADES } from '../../protocol/constants.js';
import type { RecentTrade } from '../../protocol/messages.js';

export class RecentTrades {
  private readonly ring: (RecentTrade | undefined)[];
  /** Trades ever added; the newest is at (count − 1) % capacity. */
  private count = 0;

  constructor(
    private readonly capacity = MAX_RECENT_TRADES,
    state?: readonly RecentTrade[],
  ) {
    this.ring = new Array<RecentTrade | undefined>(capacity);
    for (const trade of state ?? []) this.add(trade);
  }

  add(trade: RecentTrade): void {
    this.ring[this.count % this.capacity] = trade;
    this.count++;
  }

  /** The last `n` trades (at most the capacity), oldest first. */
  latest(n: number): RecentTrade[] {
    const take = Math.min(n, this.count, this.capacity);
    const trades: RecentTrade[] = [];
    for (let i = this.count - take; i < this.count; i++) trades.push({ ...this.ring[i % this.capacity]! });
    return trades;
  }
}
