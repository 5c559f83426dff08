// One market's candles of one interval, built from its trades in engine time. Engine time only moves
// forward here (MarketStats keeps it monotonic), so the last candle is the only one that can be open:
// it closes when time reaches its end, and a trade after that starts a new one. An interval without
// trades has no candle. At most `keep` candles are held; the oldest go first.
import { MAX_CANDLES } from '../../protocol/constants.js';
import type { Candle } from '../../protocol/messages.js';

export interface CandleSeriesState {
  readonly candles: readonly Candle[];
  /** Whether the last candle is still open. */
  readonly open: boolean;
}

/** The start of the interval of `intervalMs` that holds `ts`: multiples of it since the epoch, i.e. UTC. */
export function intervalStart(ts: number, intervalMs: number): number {
  return ts - (((ts % intervalMs) + intervalMs) % intervalMs);
}

export class CandleSeries {
  private readonly candles: Candle[];
  private open: boolean;

  constructor(
    readonly intervalMs: number,
    private readonly keep = MAX_CANDLES,
    state?: CandleSeriesState,
  ) {
    this.candles = state ? state.candles.slice(-keep).map((candle) => ({ ...candle })) : [];
    this.open = state !== undefined && state.open && this.candles.length > 0;
  }

  /** The open candle's final state if engine time `now` has reached its end (it is closed then); else null. */
  closeIfEnded(now: number): Candle | null {
    if (!this.open) return null;
    const last = this.candles[this.candles.length - 1]!;
    if (now < last.t + this.intervalMs) return null;
    this.open = false;
    return { ...last };
  }

  /** Adds a trade at engine time `now` (call closeIfEnded first). */
  add(px: number, qty: number, now: number): void {
    let candle = this.open ? this.candles[this.candles.length - 1] : undefined;
    if (candle === undefined || now >= candle.t + this.intervalMs) {
      candle = { t: intervalStart(now, this.intervalMs), o: px, h: px, l: px, c: px, v: 0, n: 0 };
      this.candles.push(candle);
      if (this.candles.length > this.keep) this.candles.shift();
      this.open = true;
    }
    if (px > candle.h) candle.h = px;
    if (px < candle.l) candle.l = px;
    candle.c = px;
    candle.v += qty;
    candle.n += 1;
  }

  /** The open candle (a copy), or null. */
  openCandle(): Candle | null {
    return this.open ? { ...this.candles[this.candles.length - 1]! } : null;
  }

  /** The last `limit` candles, oldest first (copies). */
  latest(limit: number): Candle[] {
    return this.candles.slice(-limit).map((candle) => ({ ...candle }));
  }

  export(): CandleSeriesState {
    return { candles: this.latest(this.keep), open: this.open };
  }
}
