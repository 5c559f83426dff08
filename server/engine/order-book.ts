// One market's book and its matching rules (PROTOCOL.md "Matching rules"): strict price-time
// priority, fills at the maker's price, ioc/fok/market/post, self-trade prevention and amend.
// Every consequence is pushed to `out` as an event (unless the engine's output is switched off for
// a replay nobody watches: then the state changes identically and no event object is built); every check that can reject runs before the
// first change, so a reject never changes state (not even the id counters).
import type { CancelReason, Side } from '../../protocol/constants.js';
import type { Level, OrderView } from '../../protocol/messages.js';
import type { AccountIndex } from './account-index.js';
import { BookSide } from './book-side.js';
import { amendedExec, canceledExec, fillExec, plainExec } from './exec-events.js';
import { Order } from './order.js';
import type { PriceLevel } from './price-level.js';
import type { AmendCommand, CommandResult, EngineEvent, EventOutput, PlaceCommand } from './types.js';

const MAX_QTY = Number.MAX_SAFE_INTEGER;

function reject(code: 'post_would_take' | 'fok_unfilled' | 'no_liquidity' | 'bad_number', msg: string): CommandResult {
  return { ok: false, code, msg, events: [] };
}

export class OrderBook {
  readonly bids = new BookSide('buy');
  readonly asks = new BookSide('sell');
  /** Resting orders by id. */
  readonly orders = new Map<number, Order>();
  nextOrderId = 1;
  nextTradeId = 1;
  /** Level changes so far (one per level event, emitted or not). */
  levelChanges = 0;

  constructor(
    readonly sym: string,
    private readonly accounts: AccountIndex,
    private readonly output: EventOutput,
  ) {}

  sideOf(side: Side): BookSide {
    return side === 'buy' ? this.bids : this.asks;
  }

  oppositeOf(side: Side): BookSide {
    return side === 'buy' ? this.asks : this.bids;
  }

  /** The place command after the engine's market/cid/limit checks. */
  place(cmd: PlaceCommand): CommandResult {
    const opposite = this.oppositeOf(cmd.side);
    const best = opposite.best();
    if (cmd.post && best && opposite.reaches(best, cmd.px)) {
      return reject('post_would_take', 'post-only order would take liquidity');
    }
    if (cmd.tif === 'fok' && this.fillable(cmd.side, cmd.px, cmd.account, cmd.stp, cmd.qty) < cmd.qty) {
      return reject('fok_unfilled', 'fill-or-kill order cannot fill completely');
    }
    if (cmd.kind === 'market' && !this.anyFillable(cmd.side, cmd.account, cmd.stp)) {
      return reject('no_liquidity', 'no liquidity to fill a market order');
    }
    if (cmd.px !== null && this.sideOf(cmd.side).levelTotal(cmd.px) > MAX_QTY - cmd.qty) {
      return reject('bad_number', 'quantity at this price level would exceed 2^53-1');
    }

    const order = new Order(
      this.nextOrderId++,
      this.sym,
      cmd.account,
      cmd.cid,
      cmd.side,
      cmd.kind,
      cmd.tif,
      cmd.post,
      cmd.stp,
      cmd.px,
      cmd.qty,
      cmd.ts,
    );
    const events: EngineEvent[] = [];
    if (this.output.enabled) events.push(plainExec(order, 'new', cmd.ts));
    this.matchAndSettle(order, cmd.ts, events);
    return { ok: true, id: order.id, cid: order.cid, events };
  }

  cancel(order: Order, reason: CancelReason, ts: number, events: EngineEvent[]): void {
    const side = this.sideOf(order.side);
    const level = side.remove(order);
    this.orders.delete(order.id);
    this.accounts.unregister(order);
    this.levelChanged(events, order.side, level);
    if (this.output.enabled) events.push(canceledExec(order, ts, reason));
  }

  amend(order: Order, cmd: AmendCommand): CommandResult {
    const newQty = cmd.qty ?? order.qty;
    const newPx = cmd.px ?? order.px!;
    const events: EngineEvent[] = [];
    if (newQty <= order.filled) {
      this.cancel(order, 'amend', cmd.ts, events);
      return { ok: true, id: order.id, cid: order.cid, events };
    }
    const own = this.sideOf(order.side);
    const level = order.level!;
    if (newPx === order.px) {
      if (newQty === order.qty) return { ok: true, id: order.id, cid: order.cid, events };
      if (newQty < order.qty) {
        // Lowering qty keeps time priority: adjust in place.
        level.total -= order.qty - newQty;
        order.qty = newQty;
      } else {
        if (level.total - order.leaves > MAX_QTY - (newQty - order.filled)) {
          return reject('bad_number', 'quantity at this price level would exceed 2^53-1');
        }
        own.remove(order);
        order.qty = newQty;
        own.add(order);
      }
      this.levelChanged(events, order.side, order.level!);
      if (this.output.enabled) events.push(amendedExec(order, cmd.ts));
      return { ok: true, id: order.id, cid: order.cid, events };
    }

    const opposite = this.oppositeOf(order.side);
    const best = opposite.best();
    const crosses = best !== undefined && opposite.reaches(best, newPx);
    if (crosses && order.post) return reject('post_would_take', 'post-only order would take liquidity');
    if (own.levelTotal(newPx) > MAX_QTY - (newQty - order.filled)) {
      return reject('bad_number', 'quantity at this price level would exceed 2^53-1');
    }
    // A new price moves the order to the back of its new level, matching first if it crosses.
    own.remove(order);
    this.levelChanged(events, order.side, level);
    this.orders.delete(order.id);
    order.px = newPx;
    order.qty = newQty;
    if (this.output.enabled) events.push(amendedExec(order, cmd.ts));
    this.matchAndSettle(order, cmd.ts, events);
    // It stays registered while it matches so that, if it rests again, it keeps its place in the
    // account's acceptance order (`orders`, cancel_all); unregister it only if it no longer rests.
    if (order.level === null) this.accounts.unregister(order);
    return { ok: true, id: order.id, cid: order.cid, events };
  }

  /**
   * How much a taker could fill without changing anything, stopping once `needed` is reached:
   * the dry run behind fok and market-order checks. Self-trade prevention counts as matching
   * would apply it: cancel_maker skips own orders, cancel_taker/cancel_both stop at the first.
   */
  fillable(side: Side, px: number | null, account: string, stp: PlaceCommand['stp'], needed: number): number {
    const opposite = this.oppositeOf(side);
    let sum = 0;
    opposite.heap.forEachBest((level) => {
      if (!opposite.reaches(level, px)) return false;
      for (let maker = level.head; maker !== null; maker = maker.next) {
        if (maker.account === account && stp !== 'none') {
          if (stp === 'cancel_maker') continue;
          return false;
        }
        sum += maker.leaves;
        if (sum >= needed) return false;
      }
      return true;
    });
    return sum;
  }

  /** fillable(side, null, account, stp, 1) > 0, without the walk when no STP can skip a maker. */
  private anyFillable(side: Side, account: string, stp: PlaceCommand['stp']): boolean {
    // A resting order always has leaves > 0, so with no STP any best level is enough.
    if (this.oppositeOf(side).best() === undefined) return false;
    return stp === 'none' || this.fillable(side, null, account, stp, 1) > 0;
  }

  openOrderView(order: Order): OrderView {
    return {
      sym: order.sym,
      id: order.id,
      cid: order.cid,
      side: order.side,
      kind: order.kind,
      tif: order.tif,
      post: order.post,
      px: order.px,
      qty: order.qty,
      filled: order.filled,
      leaves: order.leaves,
      status: order.filled > 0 ? 'partial' : 'new',
      ts: order.ts,
    };
  }

  levels(side: Side, depth: number): Level[] {
    return this.sideOf(side).top(depth);
  }

  /** Matches a taker, then rests it (gtc limit) or cancels what is left. */
  private matchAndSettle(taker: Order, ts: number, events: EngineEvent[]): void {
    const stoppedBy = this.match(taker, ts, events);
    if (taker.leaves === 0) return;
    if (stoppedBy === null && taker.kind === 'limit' && taker.tif === 'gtc') {
      const level = this.sideOf(taker.side).add(taker);
      this.orders.set(taker.id, taker);
      this.accounts.register(taker);
      this.levelChanged(events, taker.side, level);
      return;
    }
    const reason: CancelReason = stoppedBy ?? (taker.kind === 'market' ? 'market' : 'ioc');
    if (this.output.enabled) events.push(canceledExec(taker, ts, reason));
  }

  /** Fills the taker against the opposite side; returns 'stp' when self-trade prevention stopped it. */
  private match(taker: Order, ts: number, events: EngineEvent[]): 'stp' | null {
    const opposite = this.oppositeOf(taker.side);
    for (;;) {
      const level = opposite.best();
      if (level === undefined || !opposite.reaches(level, taker.px)) return null;
      const stop = this.matchLevel(taker, level, ts, events);
      this.levelChanged(events, opposite.side, level);
      if (level.isEmpty()) opposite.dropLevel(level);
      if (stop) return 'stp';
      if (taker.leaves === 0) return null;
    }
  }

  /** Fills against one level in FIFO order; returns true when STP stopped the taker. */
  private matchLevel(taker: Order, level: PriceLevel, ts: number, events: EngineEvent[]): boolean {
    let maker = level.head;
    while (maker !== null && taker.leaves > 0) {
      const next = maker.next;
      if (maker.account === taker.account && taker.stp !== 'none') {
        if (taker.stp === 'cancel_taker') return true;
        this.removeResting(maker, level);
        if (this.output.enabled) events.push(canceledExec(maker, ts, 'stp'));
        if (taker.stp === 'cancel_both') return true;
        maker = next;
        continue;
      }
      const qty = Math.min(taker.leaves, maker.leaves);
      const tradeId = this.nextTradeId++;
      maker.filled += qty;
      taker.filled += qty;
      level.total -= qty;
      const px = level.px;
      if (this.output.enabled) events.push(fillExec(maker, ts, tradeId, px, qty, 'maker'));
      if (this.output.enabled) events.push(fillExec(taker, ts, tradeId, px, qty, 'taker'));
      if (this.output.enabled) events.push({
        kind: 'trade',
        sym: this.sym,
        tradeId,
        px,
        qty,
        takerSide: taker.side,
        makerOrderId: maker.id,
        takerOrderId: taker.id,
        makerAccount: maker.account,
        takerAccount: taker.account,
        ts,
      });
      if (maker.leaves === 0) this.removeResting(maker, level);
      maker = next;
    }
    return false;
  }

  /** Unlinks a maker while its level is being matched; the caller drops the level if it empties. */
  private removeResting(order: Order, level: PriceLevel): void {
    level.unlink(order);
    this.orders.delete(order.id);
    this.accounts.unregister(order);
  }

  /** Counted even when events are off, so a quiet replay still knows which books changed. */
  private levelChanged(events: EngineEvent[], side: Side, level: PriceLevel): void {
    this.levelChanges++;
    if (this.output.enabled) events.push({ kind: 'level', sym: this.sym, side, px: level.px, qty: level.total });
  }
}
