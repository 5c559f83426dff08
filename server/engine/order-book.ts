// One market's book and its matching rules (docs/PROTOCOL.md "Matching rules"): strict price-time
// priority, fills at the maker's price, ioc/fok/market/post, self-trade prevention and amend. The
// money of each order (hold on entry, settlement per fill, release at the end) is order-money.ts's;
// the dry runs behind fok, no_liquidity and a market buy's hold are liquidity.ts's. Stop orders
// wait in stop-orders.ts until a trade of a command reaches their trigger; they then enter as
// takers, in that command, once its own taker has finished matching. An iceberg shows one slice
// of its leaves at a time; a slice filled up goes to the back of its level as a new one.
// Every consequence is reported to the engine's listener as it happens (engine-listener.ts: the
// collector builds events, a replay's listener may build nothing); every check that can reject
// runs before the first change, so a reject never changes state (not even the id counters).
import { MAX_ICEBERG_PARTS, type CancelReason, type Side } from '../../protocol/constants.js';
import type { Level } from '../../protocol/messages.js';
import type { Account } from './account.js';
import type { AccountIndex } from './account-index.js';
import type { MarketMoney } from './assets.js';
import { BookSide } from './book-side.js';
import { newFillReport, type EngineOutput, type FillReport } from './engine-listener.js';
import type { Ledger } from './ledger.js';
import { IntMap } from './int-map.js';
import { anyFillable, fillable } from './liquidity.js';
import { Order } from './order.js';
import { OrderMoney } from './order-money.js';
import { needsLiquidity, restsAfterMatching, unrestedReason, waitsForTrigger } from './order-rules.js';
import type { PriceLevel } from './price-level.js';
import { StopOrders } from './stop-orders.js';
import type { AmendCommand, CommandResult, PlaceCommand } from './types.js';

const MAX_QTY = Number.MAX_SAFE_INTEGER;

function reject(code: 'post_would_take' | 'fok_unfilled' | 'no_liquidity' | 'bad_number' | 'bad_request', msg: string): CommandResult {
  return { ok: false, code, msg, events: [] };
}

const HOLD_TOO_LARGE = 'the amount this order would hold exceeds 2^53-1 ledger units';

export class OrderBook {
  readonly bids = new BookSide('buy');
  readonly asks = new BookSide('sell');
  /** Open orders by id: resting ones and waiting stops. */
  readonly orders = new IntMap<Order>();
  readonly stops = new StopOrders();
  nextOrderId = 1;
  nextTradeId = 1;
  /** Reused for every fill reported: listeners copy what they keep. */
  private readonly fill: FillReport;
  private readonly orderMoney: OrderMoney;
  /** The highest and lowest trade price of the running command (0 and Infinity: no trade yet): what its stops may trigger on. */
  private printedHigh = 0;
  private printedLow = Infinity;

  constructor(
    readonly sym: string,
    private readonly accounts: AccountIndex,
    private readonly ledger: Ledger,
    readonly money: MarketMoney,
    private readonly out: EngineOutput,
  ) {
    this.orderMoney = new OrderMoney(ledger, money);
    this.fill = newFillReport(sym);
  }

  sideOf(side: Side): BookSide {
    return side === 'buy' ? this.bids : this.asks;
  }

  oppositeOf(side: Side): BookSide {
    return side === 'buy' ? this.asks : this.bids;
  }

  /**
   * The place command after the engine's market/cid/limit checks; `known` is the account if the
   * ledger has it (a reject must not even create an empty account entry).
   */
  place(cmd: PlaceCommand, known: Account | undefined): CommandResult {
    const waits = waitsForTrigger(cmd.kind);
    const problem = waits ? this.stopProblem(cmd) : this.entryProblem(cmd);
    if (problem !== null) return problem;
    const hold = this.orderMoney.holdOfNew(cmd, this.asks);
    if (hold < 0) return reject('bad_number', HOLD_TOO_LARGE);
    const holdAsset = this.holdAsset(cmd.side);
    const available = known === undefined ? 0 : known.available[holdAsset]!;
    if (hold > available) return this.orderMoney.insufficient(holdAsset, hold, available);

    const order = new Order(this.nextOrderId++, cmd, known ?? this.ledger.funds(cmd.account));
    this.orderMoney.setHold(order, hold);
    this.out.listener.accepted(order, cmd.ts);
    if (waits) {
      // It waits outside the book, open and holding what the order it becomes will hold.
      this.stops.add(order);
      this.orders.set(order.id, order);
      this.accounts.register(order);
    } else {
      this.matchAndSettle(order, cmd.ts);
      this.triggerStops(cmd.ts);
    }
    return { ok: true, id: order.id, cid: order.cid, events: this.out.events };
  }

  /** Why an order that enters the book now is refused before its hold is checked, or null. */
  private entryProblem(cmd: PlaceCommand): CommandResult | null {
    const opposite = this.oppositeOf(cmd.side);
    const best = opposite.best();
    if (cmd.post && best && opposite.reaches(best, cmd.px)) {
      return reject('post_would_take', 'post-only order would take liquidity');
    }
    if (cmd.tif === 'fok' && fillable(opposite, cmd.px, cmd.account, cmd.stp, cmd.qty) < cmd.qty) {
      return reject('fok_unfilled', 'fill-or-kill order cannot fill completely');
    }
    if (needsLiquidity(cmd.kind) && !anyFillable(opposite, cmd.account, cmd.stp)) {
      return reject('no_liquidity', 'no liquidity to fill a market order');
    }
    if (cmd.px !== null && this.sideOf(cmd.side).levelTotal(cmd.px) > MAX_QTY - cmd.qty) {
      return reject('bad_number', 'quantity at this price level would exceed 2^53-1');
    }
    return null;
  }

  /**
   * Why a stop is refused before its hold is checked, or null. It matches nothing now, so no
   * liquidity check applies; when it triggers, its hold (held since its place) covers it, and no
   * level can pass 2^53-1 lots (the orders resting on one side of a level hold at least a unit per
   * lot of one asset, whose supply is capped at 2^53-1).
   */
  private stopProblem(cmd: PlaceCommand): CommandResult | null {
    if (cmd.trigger === undefined) return reject('bad_request', 'a stop order needs a trigger');
    return null;
  }

  cancel(order: Order, reason: CancelReason, ts: number): void {
    const level = order.waiting ? null : this.sideOf(order.side).remove(order);
    if (level === null) this.stops.remove(order);
    this.orders.delete(order.id);
    this.accounts.unregister(order);
    this.orderMoney.release(order);
    if (level !== null) this.levelChanged(order.side, level);
    this.out.listener.canceled(order, ts, reason);
  }

  amend(order: Order, cmd: AmendCommand): CommandResult {
    if (order.waiting) return this.amendWaitingStop(order, cmd);
    if (cmd.trigger !== undefined) return reject('bad_request', 'only a stop order that has not triggered has a trigger to amend');
    const newQty = cmd.qty ?? order.qty;
    const newPx = cmd.px ?? order.px!;
    if (newQty <= order.filled) {
      this.cancel(order, 'amend', cmd.ts);
      return { ok: true, id: order.id, cid: order.cid, events: this.out.events };
    }
    if (!order.fitsParts(newQty - order.filled)) {
      return reject(
        'bad_request',
        `an iceberg shows at most ${MAX_ICEBERG_PARTS} slices: qty - filled may be at most ${MAX_ICEBERG_PARTS} × display`,
      );
    }
    const own = this.sideOf(order.side);
    const level = order.level!;
    const newHold = this.orderMoney.holdAt(order, newPx, newQty - order.filled);
    if (newHold < 0) return reject('bad_number', HOLD_TOO_LARGE);
    const holdAsset = this.holdAsset(order.side);
    if (newPx === order.px) {
      if (newQty === order.qty) return { ok: true, id: order.id, cid: order.cid, events: this.out.events };
      if (newQty < order.qty) {
        // Lowering qty keeps time priority: adjust in place (an iceberg's slice shrinks to its leaves).
        const shown = order.shown;
        order.qty = newQty;
        if (order.slice > order.leaves) order.slice = order.leaves;
        level.total -= shown - order.shown;
      } else {
        if (level.total - order.shown > MAX_QTY - (newQty - order.filled)) {
          return reject('bad_number', 'quantity at this price level would exceed 2^53-1');
        }
        const available = this.ledger.available(order.account, holdAsset);
        if (newHold - order.hold > available) return this.orderMoney.insufficient(holdAsset, newHold - order.hold, available);
        own.remove(order);
        order.qty = newQty;
        order.showFreshSlice();
        own.add(order);
      }
      this.orderMoney.setHold(order, newHold);
      this.levelChanged(order.side, order.level!);
      this.out.listener.amended(order, cmd.ts);
      return { ok: true, id: order.id, cid: order.cid, events: this.out.events };
    }

    const opposite = this.oppositeOf(order.side);
    const best = opposite.best();
    const crosses = best !== undefined && opposite.reaches(best, newPx);
    if (crosses && order.post) return reject('post_would_take', 'post-only order would take liquidity');
    if (own.levelTotal(newPx) > MAX_QTY - (newQty - order.filled)) {
      return reject('bad_number', 'quantity at this price level would exceed 2^53-1');
    }
    const available = this.ledger.available(order.account, holdAsset);
    if (newHold - order.hold > available) return this.orderMoney.insufficient(holdAsset, newHold - order.hold, available);
    // A new price moves the order to the back of its new level, matching first if it crosses.
    own.remove(order);
    this.levelChanged(order.side, level);
    this.orders.delete(order.id);
    order.px = newPx;
    order.qty = newQty;
    this.orderMoney.setHold(order, newHold);
    this.out.listener.amended(order, cmd.ts);
    this.matchAndSettle(order, cmd.ts);
    // It stays registered while it matches so that, if it rests again, it keeps its place in the
    // account's acceptance order (`orders`, cancel_all); unregister it only if it no longer rests.
    if (order.level === null) this.accounts.unregister(order);
    this.triggerStops(cmd.ts);
    return { ok: true, id: order.id, cid: order.cid, events: this.out.events };
  }

  /**
   * A waiting stop's qty, px (a stop-limit's) and trigger change where it waits: it keeps its id,
   * so its place among equal triggers, and it matches nothing (only a trade triggers a stop). Its
   * filled is 0 while it waits, so no qty (≥ 1) cancels it.
   */
  private amendWaitingStop(order: Order, cmd: AmendCommand): CommandResult {
    if (cmd.px !== null && order.px === null) {
      return reject('bad_request', 'a stop-market order has no px to amend: cancel it and place a stop-limit');
    }
    const newQty = cmd.qty ?? order.qty;
    const newPx = cmd.px ?? order.px;
    const newTrigger = cmd.trigger ?? order.trigger!;
    const ok: CommandResult = { ok: true, id: order.id, cid: order.cid, events: this.out.events };
    if (newQty === order.qty && newPx === order.px && newTrigger === order.trigger) return ok;
    const newHold = this.orderMoney.holdAt(order, newPx, newQty);
    if (newHold < 0) return reject('bad_number', HOLD_TOO_LARGE);
    const holdAsset = this.holdAsset(order.side);
    const available = this.ledger.available(order.account, holdAsset);
    if (newHold - order.hold > available) return this.orderMoney.insufficient(holdAsset, newHold - order.hold, available);
    if (newTrigger !== order.trigger) {
      this.stops.remove(order);
      order.trigger = newTrigger;
      this.stops.add(order);
    }
    order.qty = newQty;
    order.px = newPx;
    this.orderMoney.setHold(order, newHold);
    this.out.listener.amended(order, cmd.ts);
    return ok;
  }

  /**
   * Triggers, one at a time, every waiting stop that the running command's trades reached, once
   * its taker has finished matching; a triggered stop's own trades may reach more. Each turn takes
   * one stop out of the waiting set and none joins it, so the loop ends within the number that
   * were waiting.
   */
  private triggerStops(ts: number): void {
    if (this.printedHigh === 0) return;
    for (let stop = this.stops.takeNext(this.printedHigh, this.printedLow); stop !== undefined;) {
      // Out of the id index while it matches, as an amended order; back in if it rests.
      this.orders.delete(stop.id);
      this.out.listener.triggered(stop, ts);
      if (stop.side === 'buy' && stop.px === null && !this.orderMoney.fundTriggeredBuy(stop, this.asks)) {
        // It held nothing while it waited, so nothing moves: it ends here.
        this.accounts.unregister(stop);
        this.out.listener.canceled(stop, ts, 'insufficient_funds');
      } else {
        this.matchAndSettle(stop, ts);
        if (stop.level === null) this.accounts.unregister(stop);
      }
      stop = this.stops.takeNext(this.printedHigh, this.printedLow);
    }
    this.printedHigh = 0;
    this.printedLow = Infinity;
  }

  levels(side: Side, depth: number): Level[] {
    return this.sideOf(side).top(depth);
  }

  /** Matches a taker, then rests it (gtc limit) or cancels what is left; an order that ends releases its hold. */
  private matchAndSettle(taker: Order, ts: number): void {
    const stoppedBy = this.match(taker, ts);
    if (taker.leaves > 0 && stoppedBy === null && restsAfterMatching(taker.kind, taker.tif, taker.px)) {
      taker.showFreshSlice();
      const level = this.sideOf(taker.side).add(taker);
      this.orders.set(taker.id, taker);
      this.accounts.register(taker);
      this.levelChanged(taker.side, level);
      return;
    }
    this.orderMoney.release(taker);
    if (taker.leaves === 0) return;
    const reason: CancelReason = stoppedBy ?? unrestedReason(taker.kind, taker.px);
    this.out.listener.canceled(taker, ts, reason);
  }

  /** Fills the taker against the opposite side; returns 'stp' when self-trade prevention stopped it. */
  private match(taker: Order, ts: number): 'stp' | null {
    const opposite = this.oppositeOf(taker.side);
    for (;;) {
      const level = opposite.best();
      if (level === undefined || !opposite.reaches(level, taker.px)) return null;
      const stop = this.matchLevel(taker, level, ts);
      this.levelChanged(opposite.side, level);
      if (level.isEmpty()) opposite.dropLevel(level);
      if (stop) return 'stp';
      if (taker.leaves === 0) return null;
    }
  }

  /** Fills against one level in FIFO order; returns true when STP stopped the taker. */
  private matchLevel(taker: Order, level: PriceLevel, ts: number): boolean {
    let maker = level.head;
    while (maker !== null && taker.leaves > 0) {
      let next = maker.next;
      if (maker.account === taker.account && taker.stp !== 'none') {
        if (taker.stp === 'cancel_taker') return true;
        this.removeResting(maker, level);
        this.orderMoney.release(maker);
        this.out.listener.canceled(maker, ts, 'stp');
        if (taker.stp === 'cancel_both') return true;
        maker = next;
        continue;
      }
      // A taker fills what the maker shows: an iceberg's slice, however much it hides.
      const qty = Math.min(taker.leaves, maker.shown);
      const tradeId = this.nextTradeId++;
      maker.filled += qty;
      taker.filled += qty;
      level.total -= qty;
      if (maker.display !== null) maker.slice -= qty;
      const px = level.px;
      if (px > this.printedHigh) this.printedHigh = px;
      if (px < this.printedLow) this.printedLow = px;
      // Both are covered by holds (the seller's base, the buyer's quote at a price ≥ px), so both are safe.
      const base = qty * this.money.baseScale;
      const quote = px * qty * this.money.quoteScale;
      const takerBuys = taker.side === 'buy';
      const makerFee = takerBuys
        ? this.orderMoney.settleSeller(maker, base, quote, 'maker')
        : this.orderMoney.settleBuyer(maker, qty, base, quote, 'maker');
      const takerFee = takerBuys
        ? this.orderMoney.settleBuyer(taker, qty, base, quote, 'taker')
        : this.orderMoney.settleSeller(taker, base, quote, 'taker');
      const fill = this.fill;
      fill.tradeId = tradeId;
      fill.px = px;
      fill.qty = qty;
      fill.maker = maker;
      fill.taker = taker;
      fill.baseAmount = base;
      fill.quoteAmount = quote;
      fill.makerFee = makerFee;
      fill.takerFee = takerFee;
      fill.makerFeeAsset = takerBuys ? this.money.quote : this.money.base;
      fill.takerFeeAsset = takerBuys ? this.money.base : this.money.quote;
      fill.ts = ts;
      this.out.listener.filled(fill);
      if (maker.leaves === 0) {
        this.removeResting(maker, level);
      } else if (maker.shown === 0) {
        // An iceberg's slice is used up: a new one goes to the back of the level (losing time
        // priority), where this taker may reach it again. Its parts bound how often.
        level.unlink(maker);
        maker.showFreshSlice();
        level.append(maker);
        next ??= maker;
      }
      maker = next;
    }
    return false;
  }

  /** The asset an order on `side` holds: quote for a buy, base for a sell. */
  holdAsset(side: Side): number {
    return this.orderMoney.holdAsset(side);
  }

  /** Unlinks a maker while its level is being matched; the caller drops the level if it empties. */
  private removeResting(order: Order, level: PriceLevel): void {
    level.unlink(order);
    this.orders.delete(order.id);
    this.accounts.unregister(order);
  }

  private levelChanged(side: Side, level: PriceLevel): void {
    this.out.listener.levelChanged(this.sym, side, level.px, level.total);
  }
}
