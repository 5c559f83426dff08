// A hash map from safe non-negative integers (order ids, prices in ticks) to objects: the book's
// id index and each side's price levels, looked up several times per command. Open addressing
// with linear probing and backward-shift deletion (no tombstones), keys in a Float64Array: no
// allocation per entry and no hashing of boxed numbers, which a Map pays on every set and delete.
// No iteration: nothing in the engine walks these indexes in key order or insertion order.

const EMPTY = -1;
const MIN_CAPACITY = 16;

/** Fibonacci hashing of the key's low and high 32 bits into `bits` bits. */
function slotOf(key: number, mask: number): number {
  const low = key >>> 0;
  const high = (key / 4294967296) >>> 0;
  return Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1) & mask;
}

export class IntMap<V> {
  private keys: Float64Array;
  private values: (V | undefined)[];
  private mask: number;
  size = 0;

  constructor() {
    this.keys = new Float64Array(MIN_CAPACITY).fill(EMPTY);
    this.values = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
    this.mask = MIN_CAPACITY - 1;
  }

  /** Slots allocated: more than twice the size and at most eight times it (16 at least). */
  get capacity(): number {
    return this.keys.length;
  }

  get(key: number): V | undefined {
    const { keys, mask } = this;
    for (let slot = slotOf(key, mask); ; slot = (slot + 1) & mask) {
      const at = keys[slot]!;
      if (at === key) return this.values[slot];
      if (at === EMPTY) return undefined;
    }
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  set(key: number, value: V): void {
    const { keys, mask } = this;
    let slot = slotOf(key, mask);
    for (; ; slot = (slot + 1) & mask) {
      const at = keys[slot]!;
      if (at === key) {
        this.values[slot] = value;
        return;
      }
      if (at === EMPTY) break;
    }
    keys[slot] = key;
    this.values[slot] = value;
    this.size++;
    // At most half full: probes stay short.
    if (this.size * 2 > keys.length) this.resize(keys.length * 2);
  }

  delete(key: number): boolean {
    const { keys, values, mask } = this;
    let slot = slotOf(key, mask);
    for (; ; slot = (slot + 1) & mask) {
      const at = keys[slot]!;
      if (at === key) break;
      if (at === EMPTY) return false;
    }
    // Backward shift: move later entries of the probe run into the gap when their home allows it.
    let gap = slot;
    for (let next = (gap + 1) & mask; keys[next] !== EMPTY; next = (next + 1) & mask) {
      const home = slotOf(keys[next]!, mask);
      // The entry at `next` may fill `gap` unless its home lies cyclically in (gap, next].
      const movable = gap <= next ? home <= gap || home > next : home <= gap && home > next;
      if (movable) {
        keys[gap] = keys[next]!;
        values[gap] = values[next];
        gap = next;
      }
    }
    keys[gap] = EMPTY;
    values[gap] = undefined;
    this.size--;
    // Shrinks once an eighth full, so a book that emptied gives its memory back.
    if (keys.length > MIN_CAPACITY && this.size * 8 < keys.length) this.resize(keys.length / 2);
    return true;
  }

  private resize(capacity: number): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.size = 0;
    for (let slot = 0; slot < oldKeys.length; slot++) {
      if (oldKeys[slot] !== EMPTY) this.set(oldKeys[slot]!, oldValues[slot]!);
    }
  }
}
