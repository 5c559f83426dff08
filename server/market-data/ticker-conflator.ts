// Paces the ticker channel: the gateway hands it each market's ticker as batches are released, and
// takes at most one per market per TICKER_INTERVAL_MS — the latest — and only when it differs from
// the one last published (`ts` aside: engine time moves with every batch). Wall-clock time decides
// only when a ticker is sent; what it says is engine state.
import { TICKER_INTERVAL_MS } from '../../protocol/constants.js';
import type { TickerMessage } from '../../protocol/messages.js';

export function sameTicker(a: TickerMessage, b: TickerMessage | undefined): boolean {
  return (
    b !== undefined &&
    a.bid === b.bid &&
    a.bidQty === b.bidQty &&
    a.ask === b.ask &&
    a.askQty === b.askQty &&
    a.last === b.last &&
    a.open === b.open &&
    a.high === b.high &&
    a.low === b.low &&
    a.volume === b.volume &&
    a.change === b.change
  );
}

export class TickerConflator {
  private readonly latest = new Map<string, TickerMessage>();
  private readonly published = new Map<string, TickerMessage>();
  private readonly sentAt = new Map<string, number>();
  private readonly due = new Set<string>();

  constructor(private readonly intervalMs = TICKER_INTERVAL_MS) {}

  /** A released batch's ticker for its market. */
  update(ticker: TickerMessage): void {
    this.latest.set(ticker.sym, ticker);
    if (sameTicker(ticker, this.published.get(ticker.sym))) this.due.delete(ticker.sym);
    else this.due.add(ticker.sym);
  }

  /** The tickers to publish at wall time `now` (ms): changed ones whose market sent none in the last interval. */
  take(now: number): TickerMessage[] {
    const out: TickerMessage[] = [];
    for (const sym of this.due) {
      const sentAt = this.sentAt.get(sym);
      if (sentAt !== undefined && now - sentAt < this.intervalMs) continue;
      const ticker = this.latest.get(sym)!;
      out.push(ticker);
      this.published.set(sym, ticker);
      this.sentAt.set(sym, now);
      this.due.delete(sym);
    }
    return out;
  }
}
