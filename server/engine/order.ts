// A resting (or matching) order. It is also a node of its price level's intrusive FIFO list, so
// cancel and amend-down reach and unlink it in O(1) without searching the level; likewise a node
// of its account's list of open orders (account-index.ts).
import type { OrderKind, Side, StpMode, Tif } from '../../protocol/constants.js';
import type { PriceLevel } from './price-level.js';

export class Order {
  filled = 0;
  level: PriceLevel | null = null;
  prev: Order | null = null;
  next: Order | null = null;
  accountListed = false;
  accountPrev: Order | null = null;
  accountNext: Order | null = null;

  constructor(
    readonly id: number,
    readonly sym: string,
    readonly account: string,
    readonly cid: string | null,
    readonly side: Side,
    readonly kind: OrderKind,
    readonly tif: Tif,
    readonly post: boolean,
    readonly stp: StpMode,
    public px: number | null,
    public qty: number,
    readonly ts: number,
  ) {}

  get leaves(): number {
    return this.qty - this.filled;
  }
}
