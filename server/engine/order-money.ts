// The money of each order (docs/PROTOCOL.md "Holds", "Settlement", "Fees"): it reserves what the
// order can still spend, each fill settles both sides at once at the maker's price less fees, and
// the order's end releases what it still holds. The book decides when; this moves the amounts.
import type { Side } from '../../protocol/constants.js';
import type { MarketMoney } from './assets.js';
import { totalFee } from './fees.js';
import type { Ledger } from './ledger.js';
import type { Order } from './order.js';
import type { BookSide } from './book-side.js';
import { marketBuyCost } from './liquidity.js';
import { buyHoldsAtLimit, limitBuyHold, sellHold, waitsForTrigger } from './order-rules.js';
import type { CommandResult, PlaceCommand } from './types.js';

export type Liquidity = 'maker' | 'taker';

export class OrderMoney {
  constructor(
    private readonly ledger: Ledger,
    readonly money: MarketMoney,
  ) {}

  /** The asset an order on `side` holds: quote for a buy, base for a sell. */
  holdAsset(side: Side): number {
    return side === 'buy' ? this.money.quoteAsset : this.money.baseAsset;
  }

  /** What a new order must hold (-1: not a safe amount). */
  holdOfNew(cmd: PlaceCommand, asks: BookSide): number {
    if (cmd.side === 'sell') return sellHold(this.money, cmd.qty);
    if (buyHoldsAtLimit(cmd.kind, cmd.px)) return limitBuyHold(this.money, cmd.px!, cmd.qty);
    // A stop-market buy waits holding nothing: it is funded when it triggers (fundTriggeredBuy).
    if (waitsForTrigger(cmd.kind)) return 0;
    return marketBuyCost(asks, this.money.quoteScale, cmd.account, cmd.stp, cmd.qty);
  }

  /** What an open order holds at `px` with `leaves` left (-1: not a safe amount); a waiting stop-market buy, nothing. */
  holdAt(order: Order, px: number | null, leaves: number): number {
    if (order.side === 'sell') return sellHold(this.money, leaves);
    return px === null ? 0 : limitBuyHold(this.money, px, leaves);
  }

  /**
   * A stop-market buy that triggered reserves what its leaves cost against the book as it stands
   * (self-trade prevention applied), as a market buy placed now would; false when the account
   * cannot pay it (the book then cancels it, reason `insufficient_funds`).
   */
  fundTriggeredBuy(order: Order, asks: BookSide): boolean {
    const cost = marketBuyCost(asks, this.money.quoteScale, order.account, order.stp, order.leaves);
    if (cost < 0 || cost > order.owner.available[this.money.quoteAsset]!) return false;
    this.setHold(order, cost);
    return true;
  }

  /** Moves the difference between the order's hold and `hold` between available and hold. */
  setHold(order: Order, hold: number): void {
    const asset = this.holdAsset(order.side);
    if (hold > order.hold) this.ledger.reserve(order.owner, asset, hold - order.hold);
    else this.ledger.release(order.owner, asset, order.hold - hold);
    order.hold = hold;
  }

  release(order: Order): void {
    this.ledger.release(order.owner, this.holdAsset(order.side), order.hold);
    order.hold = 0;
  }

  insufficient(asset: number, needed: number, available: number): CommandResult {
    const name = this.ledger.assets[asset]!.asset;
    return { ok: false, code: 'insufficient_funds', msg: `needs ${needed} ${name} (ledger units), ${available} available`, events: [] };
  }

  /** The buyer's hold pays the notional (a limit buy gets back what it held above px); it receives base less its fee. */
  settleBuyer(buyer: Order, qty: number, base: number, quote: number, liquidity: Liquidity): number {
    const { quoteAsset, baseAsset } = this.money;
    const used = buyHoldsAtLimit(buyer.kind, buyer.px) ? buyer.px! * qty * this.money.quoteScale : quote;
    this.ledger.payFromHold(buyer.owner, quoteAsset, used);
    buyer.hold -= used;
    this.ledger.credit(buyer.owner, quoteAsset, used - quote);
    const fee = this.chargeFee(buyer, base, liquidity);
    this.ledger.credit(buyer.owner, baseAsset, base - fee);
    if (fee > 0) this.ledger.credit(this.ledger.fees(), baseAsset, fee);
    return fee;
  }

  /** The seller's hold pays the base; it receives the notional less its fee. */
  settleSeller(seller: Order, base: number, quote: number, liquidity: Liquidity): number {
    const { quoteAsset, baseAsset } = this.money;
    this.ledger.payFromHold(seller.owner, baseAsset, base);
    seller.hold -= base;
    const fee = this.chargeFee(seller, quote, liquidity);
    this.ledger.credit(seller.owner, quoteAsset, quote - fee);
    if (fee > 0) this.ledger.credit(this.ledger.fees(), quoteAsset, fee);
    return fee;
  }

  /** This fill's fee: what the order owes on all it received so far, less what it has paid. */
  private chargeFee(order: Order, received: number, liquidity: Liquidity): number {
    if (liquidity === 'taker') order.receivedTaker += received;
    else order.receivedMaker += received;
    // A fee-free market owes nothing: skip the rounding arithmetic.
    if (this.money.feeFree) return 0;
    const owed = totalFee(order.receivedTaker, this.money.takerFee, order.receivedMaker, this.money.makerFee);
    const fee = owed - order.feesPaid;
    order.feesPaid = owed;
    return fee;
  }
}
