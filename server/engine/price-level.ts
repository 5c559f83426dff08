// One price on one side: a FIFO of orders (oldest first = time priority) and what they show: the
// summed leaves, an iceberg counting only its current slice (order.ts).
// `key` orders levels in the heap: lower is better (asks: px, bids: -px).
import type { Order } from './order.js';

export class PriceLevel {
  head: Order | null = null;
  tail: Order | null = null;
  /** Sum of what the orders in this level show (their leaves; an iceberg's slice). */
  total = 0;
  count = 0;
  /** Position in the side's heap array; maintained by LevelHeap. */
  heapIndex = -1;

  constructor(
    readonly px: number,
    readonly key: number,
  ) {}

  append(order: Order): void {
    order.level = this;
    order.prev = this.tail;
    order.next = null;
    if (this.tail) this.tail.next = order;
    else this.head = order;
    this.tail = order;
    this.total += order.shown;
    this.count++;
  }

  unlink(order: Order): void {
    if (order.prev) order.prev.next = order.next;
    else this.head = order.next;
    if (order.next) order.next.prev = order.prev;
    else this.tail = order.prev;
    this.total -= order.shown;
    this.count--;
    order.level = null;
    order.prev = null;
    order.next = null;
  }

  isEmpty(): boolean {
    return this.head === null;
  }
}
