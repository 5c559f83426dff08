// The ticker's rolling 24 h: one bucket per engine-time minute that had trades, the current minute
// and the `minutes − 1` before it. Volume is kept as a running sum; high and low are recomputed only
// when a bucket leaves (at most once per minute), so a trade costs O(1).
import { TICKER_WINDOW_MINUTES } from '../../protocol/constants.js';
import { intervalStart } from './candle-series.js';

const MINUTE_MS = 60_000;

export interface WindowBucket {
  /** The minute's start (engine ms). */
  readonly t: number;
  readonly o: number;
  h: number;
  l: number;
  v: number;
}

export interface WindowStats {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly volume: number;
}

export class RollingWindow {
  private readonly buckets: WindowBucket[];
  private volume = 0;
  private high = 0;
  private low = 0;

  constructor(
    private readonly minutes = TICKER_WINDOW_MINUTES,
    state?: readonly WindowBucket[],
  ) {
    this.buckets = state ? state.map((bucket) => ({ ...bucket })) : [];
    this.recompute();
  }

  /** Drops the buckets that are out of the window ending at `now`; true when any was dropped. */
  evict(now: number): boolean {
    const oldest = intervalStart(now, MINUTE_MS) - (this.minutes - 1) * MINUTE_MS;
    let gone = 0;
    while (gone < this.buckets.length && this.buckets[gone]!.t < oldest) gone++;
    if (gone === 0) return false;
    this.buckets.splice(0, gone);
    this.recompute();
    return true;
  }

  /** A trade at engine time `now` (after evict(now)). */
  add(px: number, qty: number, now: number): void {
    const t = intervalStart(now, MINUTE_MS);
    const last = this.buckets[this.buckets.length - 1];
    if (last === undefined) {
      this.high = px;
      this.low = px;
    }
    if (last === undefined || last.t < t) {
      this.buckets.push({ t, o: px, h: px, l: px, v: qty });
    } else {
      if (px > last.h) last.h = px;
      if (px < last.l) last.l = px;
      last.v += qty;
    }
    if (px > this.high) this.high = px;
    if (px < this.low) this.low = px;
    this.volume += qty;
  }

  /** Open (the oldest bucket's first price), high, low and volume of the window; null without trades. */
  stats(): WindowStats | null {
    const first = this.buckets[0];
    if (first === undefined) return null;
    return { open: first.o, high: this.high, low: this.low, volume: this.volume };
  }

  export(): WindowBucket[] {
    return this.buckets.map((bucket) => ({ ...bucket }));
  }

  private recompute(): void {
    this.volume = 0;
    this.high = 0;
    this.low = 0;
    this.buckets.forEach((bucket, index) => {
      this.volume += bucket.v;
      this.high = index === 0 ? bucket.h : Math.max(this.high, bucket.h);
      this.low = index === 0 ? bucket.l : Math.min(this.low, bucket.l);
    });
  }
}
