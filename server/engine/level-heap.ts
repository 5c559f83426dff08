// A binary min-heap of price levels by `key` (best price at the root: O(1) best, O(log N) insert
// and removal of any level through its stored `heapIndex`).
import type { PriceLevel } from './price-level.js';

export class LevelHeap {
  private readonly items: PriceLevel[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): PriceLevel | undefined {
    return this.items[0];
  }

  /** Read-only view of the heap array, for invariant checks. */
  get array(): readonly PriceLevel[] {
    return this.items;
  }

  push(level: PriceLevel): void {
    level.heapIndex = this.items.length;
    this.items.push(level);
    this.siftUp(level.heapIndex);
  }

  remove(level: PriceLevel): void {
    const index = level.heapIndex;
    const last = this.items.pop()!;
    level.heapIndex = -1;
    if (last === level) return;
    this.items[index] = last;
    last.heapIndex = index;
    this.siftDown(index);
    this.siftUp(last.heapIndex);
  }

  /**
   * Visits levels best first until `visit` returns false. A best-first walk of the heap tree with a
   * small frontier heap: O(k log k) for k levels visited, whatever the heap's size.
   */
  forEachBest(visit: (level: PriceLevel) => boolean): void {
    const items = this.items;
    if (items.length === 0) return;
    const frontier: number[] = [0];
    while (frontier.length > 0) {
      const index = popFrontier(frontier, items);
      if (!visit(items[index]!)) return;
      const left = 2 * index + 1;
      if (left < items.length) pushFrontier(frontier, items, left);
      if (left + 1 < items.length) pushFrontier(frontier, items, left + 1);
    }
  }

  private siftUp(start: number): void {
    const items = this.items;
    let index = start;
    const level = items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (parent.key <= level.key) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = level;
    level.heapIndex = index;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const length = items.length;
    let index = start;
    const level = items[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && items[right]!.key < items[left]!.key ? right : left;
      const childLevel = items[child]!;
      if (childLevel.key >= level.key) break;
      items[index] = childLevel;
      childLevel.heapIndex = index;
      index = child;
    }
    items[index] = level;
    level.heapIndex = index;
  }
}

function pushFrontier(frontier: number[], items: readonly PriceLevel[], value: number): void {
  let index = frontier.length;
  frontier.push(value);
  const key = items[value]!.key;
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if (items[frontier[parent]!]!.key <= key) break;
    frontier[index] = frontier[parent]!;
    index = parent;
  }
  frontier[index] = value;
}

function popFrontier(frontier: number[], items: readonly PriceLevel[]): number {
  const top = frontier[0]!;
  const last = frontier.pop()!;
  if (frontier.length === 0) return top;
  const key = items[last]!.key;
  let index = 0;
  for (;;) {
    const left = 2 * index + 1;
    if (left >= frontier.length) break;
    const right = left + 1;
    const child = right < frontier.length && items[frontier[right]!]!.key < items[frontier[left]!]!.key ? right : left;
    if (items[frontier[child]!]!.key >= key) break;
    frontier[index] = frontier[child]!;
    index = child;
  }
  frontier[index] = last;
  return top;
}
