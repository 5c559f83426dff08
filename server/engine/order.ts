// A resting (or matching) order. It is also a node of its price level's intrusive FIFO list, so
// cancel and amend-down reach and unlink it in O(1) without searching the level; likewise a node
// of its account's list of open orders (account.ts). It points at its account, so that
// settling a fill or resting the order needs no lookup by name. A stop order waiting for its
// trigger is open but in no level (stop-orders.ts keeps it).
import type { OrderKind, Side, StpMode, Tif } from '../../protocol/constants.js';
import type { Account } from './account.js';
import type { PriceLevel } from './price-level.js';

/** What an order is when accepted. */
export interface OrderFields {
  readonly id: number;
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
  /** A stop's trigger price in ticks; null for other kinds. */
  readonly trigger: number | null;
}

export class Order {
  readonly id: number;
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
    fields: OrderFields,
    readonly owner: Account,
  ) {
    this.id = fields.id;
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
    this.trigger = fields.trigger;
  }

  get leaves(): number {
    return this.qty - this.filled;
  }
}
