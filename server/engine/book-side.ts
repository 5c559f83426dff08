// One side of a book: price levels by price (for O(1) lookup on insert) and in a heap (for best).
import type { Side } from '../../protocol/constants.js';
import type { Level } from '../../protocol/messages.js';
import { IntMap } from './int-map.js';
import { LevelHeap } from './level-heap.js';
import type { Order } from './order.js';
import { PriceLevel } from './price-level.js';

export class BookSide {
  readonly levels = new IntMap<PriceLevel>();
  readonly heap = new LevelHeap();

  constructor(readonly side: Side) {}

  best(): PriceLevel | undefined {
    return this.heap.peek();
  }

  /** True when a taker on the other side at `px` (null: market) would reach this level. */
  reaches(level: PriceLevel, px: number | null): boolean {
    if (px === null) return true;
    return this.side === 'sell' ? level.px <= px : level.px >= px;
  }

  levelTotal(px: number): number {
    return this.levels.get(px)?.total ?? 0;
  }

  /** Appends at the back of its price level, creating the level if needed. */
  add(order: Order): PriceLevel {
    const px = order.px!;
    let level = this.levels.get(px);
    if (!level) {
      level = new PriceLevel(px, this.side === 'buy' ? -px : px);
      this.levels.set(px, level);
      this.heap.push(level);
    }
    level.append(order);
    return level;
  }

  /** Unlinks a resting order; drops its level when it empties. */
  remove(order: Order): PriceLevel {
    const level = order.level!;
    level.unlink(order);
    if (level.isEmpty()) this.dropLevel(level);
    return level;
  }

  dropLevel(level: PriceLevel): void {
    this.levels.delete(level.px);
    this.heap.remove(level);
  }

  /** The best `depth` levels as [px, qty], best first. */
  top(depth: number): Level[] {
    const out: Level[] = [];
    if (depth <= 0) return out;
    this.heap.forEachBest((level) => {
      out.push([level.px, level.total]);
      return out.length < depth;
    });
    return out;
  }
}
