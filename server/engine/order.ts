// A resting (or matching) order. It is also a node of its price level's intrusive FIFO list, so
// cancel and amend-down reach and unlink it in O(1) without searching the level; likewise a node
// of its account's list of open orders (account.ts). It points at its account, so that
// settling a fill or resting the order needs no lookup by name. A stop order waiting for its
// trigger is open but in no level (stop-orders.ts keeps it). An iceberg shows only a slice of its
// leaves in its level; the level counts what each order shows.
import { MAX_ICEBERG_PARTS } from '../../protocol/constants.js';
import type { OrderKind, Side, StpMode, Tif } from '../../protocol/constants.js';
import type { Account } from './account.js';
import type { PriceLevel } from './price-level.js';

/**
 * What an order is when accepted, as its place command states it (a PlaceCommand is one; so is a
 * snapshot's order state): passed whole, so no object is built per order to carry them.
 */
export interface OrderFields {
  readonly sym: string;
  readonly account: string;
  readonly cid: string | null;
  readonly side: Side;
  readonly kind: OrderKind;
  readonly tif: Tif;
  readonly post: boolean;
  readonly stp: StpMode;
  readonly px: number | null;
  readonly qty: number;
  readonly ts: number;
  /** A stop's trigger price in ticks; absent or null for other kinds. */
  readonly trigger?: number | null;
  /** An iceberg's slice size: the most it shows at once; absent or null for an order that shows all its leaves. */
  readonly display?: number | null;
}

export class Order {
  readonly sym: string;
  readonly account: string;
  readonly cid: string | null;
  readonly side: Side;
  readonly kind: OrderKind;
  readonly tif: Tif;
  readonly post: boolean;
  readonly stp: StpMode;
  px: number | null;
  qty: number;
  readonly ts: number;
  trigger: number | null;
  /** A stop that has not triggered yet: open, holding, but in no level. */
  waiting = false;
  readonly display: number | null;
  /** What is left of an iceberg's current slice while it rests (its level counts this). */
  slice = 0;
  filled = 0;
  /** Ledger units this order reserves (in quote for a buy, base for a sell); see order-rules.ts. */
  hold = 0;
  /** What it has received as taker and as maker, and the fees it has paid on that in all. */
  receivedTaker = 0;
  receivedMaker = 0;
  feesPaid = 0;
  level: PriceLevel | null = null;
  prev: Order | null = null;
  next: Order | null = null;
  accountListed = false;
  accountPrev: Order | null = null;
  accountNext: Order | null = null;

  constructor(
    readonly id: number,
    fields: OrderFields,
    readonly owner: Account,
  ) {
    this.sym = fields.sym;
    this.account = fields.account;
    this.cid = fields.cid;
    this.side = fields.side;
    this.kind = fields.kind;
    this.tif = fields.tif;
    this.post = fields.post;
    this.stp = fields.stp;
    this.px = fields.px;
    this.qty = fields.qty;
    this.ts = fields.ts;
    this.trigger = fields.trigger ?? null;
    this.display = fields.display ?? null;
  }

  get leaves(): number {
    return this.qty - this.filled;
  }

  /** What the order shows in its level: its leaves, or what is left of an iceberg's slice. */
  get shown(): number {
    return this.display === null ? this.qty - this.filled : this.slice;
  }

  /** An iceberg about to join the back of a level shows a fresh slice: min(display, leaves). */
  showFreshSlice(): void {
    if (this.display !== null) this.slice = Math.min(this.display, this.leaves);
  }

  /** Whether an iceberg with `leaves` left stays within its parts (ceil(leaves / display) slices); any other order does. */
  fitsParts(leaves: number): boolean {
    return this.display === null || Math.ceil(leaves / this.display) <= MAX_ICEBERG_PARTS;
  }
}
