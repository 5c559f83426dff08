// A naive reference engine for differential tests (as exchange-core tests a naive book against the
// fast one): the same `execute(cmd) → CommandResult` contract as server/engine, written from
// docs/PROTOCOL.md "Matching rules" on plain arrays kept sorted best-first. It favours being obviously
// right over being fast: every book question is answered by scanning or re-sorting an array, and
// every sum that could pass 2^53 is taken in BigInt. Money lives in reference-ledger.ts.
// Stop orders wait in an unsorted list; after each command's taker, the trades of the command so
// far say which are due (reference-orders.ts nextDueStop). An iceberg shows `slice` of its leaves;
// a used-up slice is renewed with a new time priority. The books, the order shapes and the dry
// runs (matching played on a copy) are in reference-orders.ts.
import { FEES_ACCOUNT, MAX_ICEBERG_PARTS, type CancelReason, type Side } from '../../protocol/constants.js';
import type { Fill, Level, MarketInfo, OrderRef, OrderView } from '../../protocol/messages.js';
import type {
  AmendCommand,
  CancelAllCommand,
  CancelCommand,
  CommandResult,
  EngineCommand,
  EngineEvent,
  EngineLimits,
  PlaceCommand,
} from '../../server/engine/types.js';
import {
  MAX,
  ReferenceLedger,
  referenceAssets,
  referenceFee,
  referenceMoney,
  referenceTransfer,
  type RefMarketMoney,
} from './reference-ledger.js';
import {
  HOLD_TOO_LARGE,
  RefBook,
  crosses,
  execOf,
  fail,
  holdAssetOf,
  isMarketLike,
  leavesOf,
  levelEvent,
  nextDueStop,
  opposite,
  rests,
  simulateTaker,
  visibleOf,
  type RefOrder,
} from './reference-orders.js';

export class ReferenceEngine {
  private readonly books = new Map<string, RefBook>();
  private accepted = 0;
  private priority = 0;
  /** How many iceberg slices have been renewed (for the property test's tally). */
  refreshes = 0;
  readonly ledger: ReferenceLedger;

  constructor(
    markets: readonly MarketInfo[],
    private readonly limits: EngineLimits = { maxOpenOrdersPerAccount: 100_000 },
  ) {
    const assets = referenceAssets(markets);
    this.ledger = new ReferenceLedger(assets);
    for (const market of markets) this.books.set(market.sym, new RefBook(market.sym, referenceMoney(market, assets)));
  }

  /** The result the contract asks for; `balance` events are the test's to check (see property.test.ts). */
  execute(cmd: EngineCommand): CommandResult {
    switch (cmd.op) {
      case 'deposit':
      case 'withdraw':
        return referenceTransfer(this.ledger, cmd);
      case 'place':
        return this.place(cmd);
      case 'cancel':
        return this.cancel(cmd);
      case 'cancel_all':
        return this.cancelAll(cmd);
      case 'amend':
        return this.amend(cmd);
    }
  }

  openOrders(account: string, sym: string | null): OrderView[] {
    return this.openOf(account)
      .filter((order) => sym === null || order.sym === sym)
      .map((order): OrderView => ({
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
        leaves: leavesOf(order),
        status: order.filled > 0 ? 'partial' : 'new',
        ts: order.ts,
        ...(order.trigger !== null ? { trigger: order.trigger, triggered: !order.waiting } : {}),
        ...(order.display !== null ? { display: order.display } : {}),
      }));
  }

  levels(sym: string, side: Side, depth: number): Level[] {
    return this.books.get(sym)?.levels(side, depth) ?? [];
  }

  /** The next order id and trade id a market would assign (for state comparisons). */
  counters(sym: string): { nextOrderId: number; nextTradeId: number } | undefined {
    const book = this.books.get(sym);
    return book && { nextOrderId: book.nextOrderId, nextTradeId: book.nextTradeId };
  }

  private openOf(account: string): RefOrder[] {
    const orders: RefOrder[] = [];
    for (const book of this.books.values()) for (const order of book.all()) if (order.account === account) orders.push(order);
    return orders.sort((a, b) => a.accepted - b.accepted);
  }

  // ---- place ----

  private place(cmd: PlaceCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return fail('unknown_market', `unknown market ${cmd.sym}`);
    const open = this.openOf(cmd.account);
    if (cmd.cid !== null && open.some((order) => order.cid === cmd.cid)) {
      return fail('duplicate_cid', `cid ${cmd.cid} is in use by an open order`);
    }
    const staysOpen = (cmd.kind === 'limit' && cmd.tif === 'gtc') || cmd.kind === 'stop';
    if (staysOpen && open.length >= this.limits.maxOpenOrdersPerAccount) {
      return fail('too_many_orders', 'too many open orders for this account');
    }
    if (cmd.kind === 'stop') return this.placeStop(book, cmd);
    const best = book.resting(opposite(cmd.side))[0];
    if (cmd.post && best !== undefined && crosses(cmd.side, cmd.px, best.px!)) {
      return fail('post_would_take', 'post-only order would take liquidity');
    }
    if (cmd.tif === 'fok' && this.dryRun(book, cmd.side, cmd.px, cmd.account, cmd.stp) < BigInt(cmd.qty)) {
      return fail('fok_unfilled', 'fill-or-kill order cannot fill completely');
    }
    if (cmd.kind === 'market' && this.dryRun(book, cmd.side, null, cmd.account, cmd.stp) === 0n) {
      return fail('no_liquidity', 'no liquidity to fill a market order');
    }
    if (cmd.px !== null && book.levelTotal(cmd.side, cmd.px) + BigInt(cmd.qty) > MAX) {
      return fail('bad_number', 'quantity at this price level would exceed 2^53-1');
    }
    const hold =
      cmd.side === 'sell'
        ? BigInt(cmd.qty) * book.money.basePerLot
        : cmd.px === null
          ? this.marketBuyCost(book, cmd)
          : BigInt(cmd.qty) * BigInt(cmd.px) * book.money.quotePerTickLot;
    if (hold > MAX) return fail('bad_number', HOLD_TOO_LARGE);
    const holdAsset = holdAssetOf(book, cmd.side);
    const available = this.ledger.of(cmd.account, holdAsset).available;
    if (hold > available) return fail('insufficient_funds', `needs ${hold} ${holdAsset} (ledger units), ${available} available`);

    const taker = this.newOrder(book, cmd, hold);
    const events: EngineEvent[] = [execOf(taker, 'new', cmd.ts)];
    this.takeAndSettle(book, taker, cmd.ts, events);
    this.triggerStops(book, cmd.ts, events);
    return { ok: true, id: taker.id, cid: taker.cid, events };
  }

  /** Accepts an order holding `hold` (the caller checked it is available). */
  private newOrder(book: RefBook, cmd: PlaceCommand, hold: bigint): RefOrder {
    const order: RefOrder = {
      sym: cmd.sym,
      id: book.nextOrderId++,
      account: cmd.account,
      cid: cmd.cid,
      side: cmd.side,
      kind: cmd.kind,
      tif: cmd.tif,
      post: cmd.post,
      stp: cmd.stp,
      px: cmd.px,
      qty: cmd.qty,
      filled: 0,
      ts: cmd.ts,
      trigger: cmd.trigger ?? null,
      waiting: false,
      display: cmd.display ?? null,
      slice: 0,
      accepted: ++this.accepted,
      priority: 0,
      hold,
      receivedTaker: 0n,
      receivedMaker: 0n,
      feesPaid: 0n,
    };
    this.ledger.restate(cmd.account, holdAssetOf(book, cmd.side), 0n, hold);
    return order;
  }

  /**
   * A stop waits, matching nothing, holding what the order it becomes holds: a sell its qty, a buy
   * with px the notional at px; a buy without px (stop-market) nothing, until it triggers.
   */
  private placeStop(book: RefBook, cmd: PlaceCommand): CommandResult {
    if (cmd.trigger === undefined) return fail('bad_request', 'a stop order needs a trigger');
    const hold = waitingStopHold(book, cmd.side, cmd.qty, cmd.px);
    if (hold > MAX) return fail('bad_number', HOLD_TOO_LARGE);
    const holdAsset = holdAssetOf(book, cmd.side);
    const available = this.ledger.of(cmd.account, holdAsset).available;
    if (hold > available) return fail('insufficient_funds', `needs ${hold} ${holdAsset} (ledger units), ${available} available`);
    const stop = this.newOrder(book, cmd, hold);
    stop.waiting = true;
    book.stops.push(stop);
    return { ok: true, id: stop.id, cid: stop.cid, events: [execOf(stop, 'new', cmd.ts)] };
  }

  /**
   * After a command's taker: while some waiting stop is due (a buy stop at or under the highest
   * trade of this command so far, a sell stop at or over the lowest), trigger the next one: per
   * side the trigger reached first (buys lowest, sells highest), then the lower id; across sides
   * the lower id. It enters as a taker, and its trades count for the stops after it.
   */
  private triggerStops(book: RefBook, ts: number, events: EngineEvent[]): void {
    for (;;) {
      const next = nextDueStop(book, events);
      if (next === undefined) return;
      book.stops.splice(book.stops.indexOf(next), 1);
      next.waiting = false;
      events.push(execOf(next, 'new', ts, { triggered: true }));
      if (next.side === 'buy' && next.px === null) {
        // A stop-market buy pays for what it is about to take, as a market buy placed now would.
        const cost = simulateTaker(book, 'buy', null, next.account, next.stp, BigInt(leavesOf(next))).cost;
        if (cost > MAX || cost > this.ledger.of(next.account, book.money.quote).available) {
          events.push(execOf(next, 'canceled', ts, { reason: 'insufficient_funds', leaves: 0 }));
          continue;
        }
        this.ledger.restate(next.account, book.money.quote, 0n, cost);
        next.hold = cost;
      }
      this.takeAndSettle(book, next, ts, events);
    }
  }

  /** All a taker could fill right now, with self-trade prevention applied as matching would. */
  private dryRun(book: RefBook, side: Side, px: number | null, account: string, stp: PlaceCommand['stp']): bigint {
    return simulateTaker(book, side, px, account, stp, null).filled;
  }

  /** What a market buy of cmd.qty would pay for what the book offers it now, STP applied. */
  private marketBuyCost(book: RefBook, cmd: PlaceCommand): bigint {
    return simulateTaker(book, 'buy', null, cmd.account, cmd.stp, BigInt(cmd.qty)).cost;
  }

  /** The hold an order's rule asks for now (a market buy's is whatever it has left). */
  private ruleHold(book: RefBook, order: RefOrder): bigint {
    if (order.side === 'sell') return BigInt(leavesOf(order)) * book.money.basePerLot;
    if (isMarketLike(order)) return order.hold;
    return BigInt(leavesOf(order)) * BigInt(order.px!) * book.money.quotePerTickLot;
  }

  /** An order that leaves the book or never rests gives back all it still holds. */
  private release(book: RefBook, order: RefOrder): void {
    this.ledger.restate(order.account, holdAssetOf(book, order.side), order.hold, 0n);
    order.hold = 0n;
  }

  /** Matches the taker level by level, then rests it (limit gtc) or cancels what is left. */
  private takeAndSettle(book: RefBook, taker: RefOrder, ts: number, events: EngineEvent[]): void {
    const makers = book.resting(opposite(taker.side));
    let stoppedBySelfTrade = false;
    while (leavesOf(taker) > 0 && !stoppedBySelfTrade) {
      const best = makers[0];
      if (best === undefined || !crosses(taker.side, taker.px, best.px!)) break;
      const px = best.px!;
      // The level's first order each time: makers leave as they fill or are canceled, and an
      // iceberg whose slice is used up goes to the back with a new one, where it is met again.
      for (let maker = makers[0]; maker !== undefined && maker.px === px; maker = makers[0]) {
        if (leavesOf(taker) === 0) break;
        if (maker.account === taker.account && taker.stp !== 'none') {
          if (taker.stp === 'cancel_taker') {
            stoppedBySelfTrade = true;
            break;
          }
          book.remove(maker);
          this.release(book, maker);
          events.push(execOf(maker, 'canceled', ts, { reason: 'stp', leaves: 0 }));
          if (taker.stp === 'cancel_both') {
            stoppedBySelfTrade = true;
            break;
          }
          continue;
        }
        this.trade(book, maker, taker, ts, events);
      }
      events.push(levelEvent(book.sym, opposite(taker.side), px, book.levelTotal(opposite(taker.side), px)));
    }

    if (leavesOf(taker) === 0) {
      this.release(book, taker);
      return;
    }
    if (!stoppedBySelfTrade && rests(taker)) {
      taker.priority = ++this.priority;
      if (taker.display !== null) taker.slice = Math.min(taker.display, leavesOf(taker));
      book.resting(taker.side).push(taker);
      book.sortSide(taker.side);
      events.push(levelEvent(book.sym, taker.side, taker.px!, book.levelTotal(taker.side, taker.px!)));
      return;
    }
    const reason: CancelReason = stoppedBySelfTrade ? 'stp' : isMarketLike(taker) ? 'market' : 'ioc';
    this.release(book, taker);
    events.push(execOf(taker, 'canceled', ts, { reason, leaves: 0 }));
  }

  private trade(book: RefBook, maker: RefOrder, taker: RefOrder, ts: number, events: EngineEvent[]): void {
    const qty = Math.min(visibleOf(maker), leavesOf(taker));
    if (maker.display !== null) maker.slice -= qty;
    const px = maker.px!;
    const tradeId = book.nextTradeId++;
    maker.filled += qty;
    taker.filled += qty;
    const { money } = book;
    const base = BigInt(qty) * money.basePerLot;
    const quote = BigInt(qty) * BigInt(px) * money.quotePerTickLot;
    const buyer = taker.side === 'buy' ? taker : maker;
    const seller = taker.side === 'buy' ? maker : taker;
    const fees = new Map<RefOrder, bigint>();
    // The buyer's hold pays the notional at px; what it held above that (a higher limit) comes back.
    const buyerHold = isMarketLike(buyer) ? buyer.hold - quote : this.ruleHold(book, buyer);
    this.ledger.restate(buyer.account, money.quote, buyer.hold, buyerHold + quote);
    this.ledger.of(buyer.account, money.quote).hold -= quote;
    buyer.hold = buyerHold;
    fees.set(buyer, this.charge(buyer, base, buyer === taker ? 'taker' : 'maker', money));
    this.ledger.of(buyer.account, money.base).available += base - fees.get(buyer)!;
    this.ledger.of(FEES_ACCOUNT, money.base).available += fees.get(buyer)!;
    // The seller's hold pays the base.
    const sellerHold = this.ruleHold(book, seller);
    if (seller.hold - sellerHold !== base)
      throw new Error(`reference: seller ${seller.id} hold moved by ${seller.hold - sellerHold}, fill is ${base}`);
    this.ledger.of(seller.account, money.base).hold -= base;
    seller.hold = sellerHold;
    fees.set(seller, this.charge(seller, quote, seller === taker ? 'taker' : 'maker', money));
    this.ledger.of(seller.account, money.quote).available += quote - fees.get(seller)!;
    this.ledger.of(FEES_ACCOUNT, money.quote).available += fees.get(seller)!;

    const fill = (order: RefOrder, liquidity: Fill['liquidity']): Fill => ({
      tradeId,
      px,
      qty,
      liquidity,
      fee: Number(fees.get(order)!),
      feeAsset: order === buyer ? money.base : money.quote,
    });
    events.push(execOf(maker, leavesOf(maker) === 0 ? 'filled' : 'partial', ts, { fill: fill(maker, 'maker') }));
    events.push(execOf(taker, leavesOf(taker) === 0 ? 'filled' : 'partial', ts, { fill: fill(taker, 'taker') }));
    events.push({
      kind: 'trade',
      sym: book.sym,
      tradeId,
      px,
      qty,
      takerSide: taker.side,
      makerOrderId: maker.id,
      takerOrderId: taker.id,
      makerAccount: maker.account,
      takerAccount: taker.account,
      baseAmount: Number(base),
      quoteAmount: Number(quote),
      makerFee: Number(fees.get(maker)!),
      takerFee: Number(fees.get(taker)!),
      ts,
    });
    if (leavesOf(maker) === 0) {
      book.remove(maker);
      this.release(book, maker);
    } else if (maker.display !== null && maker.slice === 0) {
      // A new slice, at the back of the level.
      maker.slice = Math.min(maker.display, leavesOf(maker));
      maker.priority = ++this.priority;
      book.sortSide(maker.side);
      this.refreshes++;
    }
  }

  /** This fill's fee: the order's fees on all it has received, rounded up, less what it paid. */
  private charge(order: RefOrder, received: bigint, liquidity: Fill['liquidity'], money: RefMarketMoney): bigint {
    if (liquidity === 'taker') order.receivedTaker += received;
    else order.receivedMaker += received;
    const owed = referenceFee(order.receivedTaker, money.takerRate, order.receivedMaker, money.makerRate);
    const fee = owed - order.feesPaid;
    order.feesPaid = owed;
    return fee;
  }

  // ---- cancel ----

  private find(book: RefBook, account: string, ref: OrderRef): RefOrder | undefined {
    return book.all().find((order) => order.account === account && ('id' in ref ? order.id === ref.id : order.cid === ref.cid));
  }

  private cancelOne(book: RefBook, order: RefOrder, reason: CancelReason, ts: number, events: EngineEvent[]): void {
    if (order.waiting) {
      // A waiting stop is in no level: no level changes.
      book.stops.splice(book.stops.indexOf(order), 1);
      this.release(book, order);
    } else {
      book.remove(order);
      this.release(book, order);
      events.push(levelEvent(book.sym, order.side, order.px!, book.levelTotal(order.side, order.px!)));
    }
    events.push(execOf(order, 'canceled', ts, { reason, leaves: 0 }));
  }

  private cancel(cmd: CancelCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return fail('unknown_market', `unknown market ${cmd.sym}`);
    const order = this.find(book, cmd.account, cmd.ref);
    if (!order) return fail('unknown_order', 'unknown order');
    const events: EngineEvent[] = [];
    this.cancelOne(book, order, 'user', cmd.ts, events);
    return { ok: true, id: order.id, cid: order.cid, events };
  }

  private cancelAll(cmd: CancelAllCommand): CommandResult {
    if (cmd.sym !== null && !this.books.has(cmd.sym)) return fail('unknown_market', `unknown market ${cmd.sym}`);
    const events: EngineEvent[] = [];
    let canceled = 0;
    for (const order of this.openOf(cmd.account)) {
      if (cmd.sym !== null && order.sym !== cmd.sym) continue;
      this.cancelOne(this.books.get(order.sym)!, order, cmd.reason, cmd.ts, events);
      canceled++;
    }
    return { ok: true, canceled, events };
  }

  // ---- amend ----

  private amend(cmd: AmendCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return fail('unknown_market', `unknown market ${cmd.sym}`);
    const order = this.find(book, cmd.account, cmd.ref);
    if (!order) return fail('unknown_order', 'unknown order');
    const ok = (events: EngineEvent[]): CommandResult => ({ ok: true, id: order.id, cid: order.cid, events });
    if (order.waiting) return this.amendWaitingStop(book, order, cmd);
    if (cmd.trigger !== undefined) return fail('bad_request', 'only a stop order that has not triggered has a trigger to amend');
    const qty = cmd.qty ?? order.qty;
    const px = cmd.px ?? order.px!;
    const events: EngineEvent[] = [];

    // qty is the new total: at or below what already traded, nothing is left to rest.
    if (qty <= order.filled) {
      this.cancelOne(book, order, 'amend', cmd.ts, events);
      return ok(events);
    }
    if (order.display !== null && Math.ceil((qty - order.filled) / order.display) > MAX_ICEBERG_PARTS) {
      return fail(
        'bad_request',
        `an iceberg shows at most ${MAX_ICEBERG_PARTS} slices: qty - filled may be at most ${MAX_ICEBERG_PARTS} × display`,
      );
    }
    const newLeaves = BigInt(qty - order.filled);
    const holdAsset = holdAssetOf(book, order.side);
    const newHold = order.side === 'sell' ? newLeaves * book.money.basePerLot : newLeaves * BigInt(px) * book.money.quotePerTickLot;
    if (newHold > MAX) return fail('bad_number', HOLD_TOO_LARGE);
    const available = this.ledger.of(order.account, holdAsset).available;
    const insufficient = (): CommandResult =>
      fail('insufficient_funds', `needs ${newHold - order.hold} ${holdAsset} (ledger units), ${available} available`);
    const amendedExec = (): EngineEvent => execOf(order, order.filled > 0 ? 'partial' : 'new', cmd.ts, { amended: true });

    if (px === order.px) {
      if (qty === order.qty) return ok(events);
      const total = book.levelTotal(order.side, px);
      if (total - BigInt(visibleOf(order)) + newLeaves > MAX) {
        return fail('bad_number', 'quantity at this price level would exceed 2^53-1');
      }
      if (newHold - order.hold > available) return insufficient();
      // Lowering keeps time priority (an iceberg's slice shrinks to its leaves); raising goes to
      // the back of the level, with a new slice.
      const raising = qty > order.qty;
      if (raising) order.priority = ++this.priority;
      order.qty = qty;
      if (order.display !== null) order.slice = Math.min(raising ? order.display : order.slice, leavesOf(order));
      this.ledger.restate(order.account, holdAsset, order.hold, newHold);
      order.hold = newHold;
      book.sortSide(order.side);
      events.push(levelEvent(book.sym, order.side, px, book.levelTotal(order.side, px)));
      events.push(amendedExec());
      return ok(events);
    }

    const best = book.resting(opposite(order.side))[0];
    if (order.post && best !== undefined && crosses(order.side, px, best.px!)) {
      return fail('post_would_take', 'post-only order would take liquidity');
    }
    if (book.levelTotal(order.side, px) + newLeaves > MAX) {
      return fail('bad_number', 'quantity at this price level would exceed 2^53-1');
    }
    if (newHold - order.hold > available) return insufficient();
    // A new price: leave the old level, then act as an incoming order at the new price.
    const oldPx = order.px!;
    book.remove(order);
    events.push(levelEvent(book.sym, order.side, oldPx, book.levelTotal(order.side, oldPx)));
    order.px = px;
    order.qty = qty;
    this.ledger.restate(order.account, holdAsset, order.hold, newHold);
    order.hold = newHold;
    events.push(amendedExec());
    this.takeAndSettle(book, order, cmd.ts, events);
    this.triggerStops(book, cmd.ts, events);
    return ok(events);
  }

  /** A waiting stop changes qty, px (only a stop-limit has one) and trigger where it waits; nothing matches. */
  private amendWaitingStop(book: RefBook, order: RefOrder, cmd: AmendCommand): CommandResult {
    if (cmd.px !== null && order.px === null) {
      return fail('bad_request', 'a stop-market order has no px to amend: cancel it and place a stop-limit');
    }
    const qty = cmd.qty ?? order.qty;
    const px = cmd.px ?? order.px;
    const trigger = cmd.trigger ?? order.trigger!;
    const ok = (events: EngineEvent[]): CommandResult => ({ ok: true, id: order.id, cid: order.cid, events });
    if (qty === order.qty && px === order.px && trigger === order.trigger) return ok([]);
    const holdAsset = holdAssetOf(book, order.side);
    const newHold = waitingStopHold(book, order.side, qty, px);
    if (newHold > MAX) return fail('bad_number', HOLD_TOO_LARGE);
    const available = this.ledger.of(order.account, holdAsset).available;
    if (newHold - order.hold > available) {
      return fail('insufficient_funds', `needs ${newHold - order.hold} ${holdAsset} (ledger units), ${available} available`);
    }
    order.qty = qty;
    order.px = px;
    order.trigger = trigger;
    this.ledger.restate(order.account, holdAsset, order.hold, newHold);
    order.hold = newHold;
    return ok([execOf(order, 'new', cmd.ts, { amended: true })]);
  }
}

/** What a waiting stop holds: a sell its qty in base, a buy with px the notional at it, a stop-market buy nothing. */
function waitingStopHold(book: RefBook, side: Side, qty: number, px: number | null): bigint {
  if (side === 'sell') return BigInt(qty) * book.money.basePerLot;
  return px === null ? 0n : BigInt(qty) * BigInt(px) * book.money.quotePerTickLot;
}
