// The stop orders of one market that wait for their trigger (docs/PROTOCOL.md "Stop orders"): a
// buy stop is due once a trade prints at or above its trigger, a sell stop at or below. Due stops
// trigger one at a time in a fixed order: on each side the trigger the price reaches first (buy
// stops lowest trigger first, sell stops highest first), equal triggers by id, i.e. acceptance
// (an amend keeps the id, so the place); when stops of both sides are due, the lower id first.
//
// Each side is an array kept sorted so that its next stop is last: triggering pops in O(1), a
// place or an amend of the trigger inserts by binary search (moving the tail, O(n)), a cancel
// splices. The stops are not in the book: no level, depth or checksum counts them.
import type { Order } from './order.js';

/** True when `a` triggers before `b` on the buy side: the lower trigger, then the lower id. */
function buyBefore(a: Order, b: Order): boolean {
  return a.trigger! < b.trigger! || (a.trigger === b.trigger && a.id < b.id);
}

/** True when `a` triggers before `b` on the sell side: the higher trigger, then the lower id. */
function sellBefore(a: Order, b: Order): boolean {
  return a.trigger! > b.trigger! || (a.trigger === b.trigger && a.id < b.id);
}

type Before = (a: Order, b: Order) => boolean;

/** How many orders of `side` trigger after `order`: where it goes in the array, or where it is. */
function positionOf(side: readonly Order[], order: Order, before: Before): number {
  let low = 0;
  let high = side.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (before(order, side[mid]!)) low = mid + 1;
    else high = mid;
  }
  return low;
}

export class StopOrders {
  /** Waiting buy stops, the next to trigger last. */
  private readonly buys: Order[] = [];
  /** Waiting sell stops, the next to trigger last. */
  private readonly sells: Order[] = [];

  get size(): number {
    return this.buys.length + this.sells.length;
  }

  /** Starts an order waiting; its trigger must not change until it is removed. */
  add(order: Order): void {
    const side = order.side === 'buy' ? this.buys : this.sells;
    side.splice(positionOf(side, order, order.side === 'buy' ? buyBefore : sellBefore), 0, order);
    order.waiting = true;
  }

  remove(order: Order): void {
    const side = order.side === 'buy' ? this.buys : this.sells;
    const index = positionOf(side, order, order.side === 'buy' ? buyBefore : sellBefore);
    if (side[index] !== order) throw new Error(`stop order ${order.id} is not waiting at its trigger ${order.trigger}`);
    side.splice(index, 1);
    order.waiting = false;
  }

  /**
   * The next stop due once trades have printed as high as `high` and as low as `low` (none:
   * `high` 0, `low` Infinity), taken out of the waiting set; undefined when none is due.
   */
  takeNext(high: number, low: number): Order | undefined {
    // Length checks first: reading index -1 of an empty array is a slow property lookup in V8,
    // and this runs after every command that traded, stops or not.
    const buys = this.buys.length;
    const sells = this.sells.length;
    if (buys === 0 && sells === 0) return undefined;
    const buy = buys === 0 ? undefined : this.buys[buys - 1]!;
    const sell = sells === 0 ? undefined : this.sells[sells - 1]!;
    const buyDue = buy !== undefined && buy.trigger! <= high;
    const sellDue = sell !== undefined && sell.trigger! >= low;
    const next = buyDue && (!sellDue || buy.id < sell!.id) ? this.buys.pop() : sellDue ? this.sells.pop() : undefined;
    if (next) next.waiting = false;
    return next;
  }

  /** Each side's waiting stops, the next to trigger last (for the state export and invariant checks). */
  sides(): { readonly buys: readonly Order[]; readonly sells: readonly Order[] } {
    return { buys: this.buys, sells: this.sells };
  }

  /** Null when each side is in trigger order, else what is wrong. */
  checkOrder(): string | null {
    for (const [side, before] of [
      [this.buys, buyBefore],
      [this.sells, sellBefore],
    ] as const) {
      for (let i = 1; i < side.length; i++) {
        if (!before(side[i]!, side[i - 1]!)) return `stop ${side[i]!.id} is out of trigger order after stop ${side[i - 1]!.id}`;
      }
    }
    return null;
  }
}
