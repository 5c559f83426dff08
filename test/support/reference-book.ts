// A naive reference engine for differential tests (as exchange-core tests a naive book against the
// fast one): the same `execute(cmd) → CommandResult` contract as server/engine, written from
// PROTOCOL.md "Matching rules" on plain arrays kept sorted best-first. It favours being obviously
// right over being fast: every book question is answered by scanning or re-sorting an array, and
// every sum that could pass 2^53 is taken in BigInt.
import type { CancelReason, Side } from '../../protocol/constants.js';
import type { Exec, Fill, Level, MarketInfo, OrderRef, OrderView } from '../../protocol/messages.js';
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

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

interface RefOrder {
  readonly sym: string;
  readonly id: number;
  readonly account: string;
  readonly cid: string | null;
  readonly side: Side;
  readonly kind: 'limit' | 'market';
  readonly tif: 'gtc' | 'ioc' | 'fok';
  readonly post: boolean;
  readonly stp: PlaceCommand['stp'];
  px: number | null;
  qty: number;
  filled: number;
  readonly ts: number;
  /** Engine-wide acceptance sequence: the order of `openOrders` and `cancel_all`. */
  readonly accepted: number;
  /** Time priority within a price level; renewed when the order goes to the back of a level. */
  priority: number;
}

function leavesOf(order: RefOrder): number {
  return order.qty - order.filled;
}

function fail(code: Extract<CommandResult, { ok: false }>['code'], msg: string): CommandResult {
  return { ok: false, code, msg, events: [] };
}

class RefBook {
  /** Resting buy orders, best first: highest px, then oldest priority. */
  bids: RefOrder[] = [];
  /** Resting sell orders, best first: lowest px, then oldest priority. */
  asks: RefOrder[] = [];
  nextOrderId = 1;
  nextTradeId = 1;

  constructor(readonly sym: string) {}

  resting(side: Side): RefOrder[] {
    return side === 'buy' ? this.bids : this.asks;
  }

  all(): RefOrder[] {
    return [...this.bids, ...this.asks];
  }

  sortSide(side: Side): void {
    const sign = side === 'buy' ? -1 : 1;
    this.resting(side).sort((a, b) => (a.px! !== b.px! ? sign * (a.px! - b.px!) : a.priority - b.priority));
  }

  levelTotal(side: Side, px: number): bigint {
    let total = 0n;
    for (const order of this.resting(side)) if (order.px === px) total += BigInt(leavesOf(order));
    if (total > MAX) throw new Error(`reference: level ${this.sym} ${side} ${px} holds ${total}`);
    return total;
  }

  remove(order: RefOrder): void {
    const list = this.resting(order.side);
    const index = list.indexOf(order);
    if (index < 0) throw new Error(`reference: order ${order.id} is not resting`);
    list.splice(index, 1);
  }

  levels(side: Side, depth: number): Level[] {
    const out: Level[] = [];
    for (const order of this.resting(side)) {
      const last = out[out.length - 1];
      if (last && last[0] === order.px) continue;
      if (out.length === depth) break;
      out.push([order.px!, Number(this.levelTotal(side, order.px!))]);
    }
    return out;
  }
}

function opposite(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}

/** True when a taker on `takerSide` with limit `px` (null: market) may trade at `makerPx`. */
function crosses(takerSide: Side, px: number | null, makerPx: number): boolean {
  if (px === null) return true;
  return takerSide === 'buy' ? makerPx <= px : makerPx >= px;
}

export class ReferenceEngine {
  private readonly books = new Map<string, RefBook>();
  private accepted = 0;
  private priority = 0;

  constructor(
    markets: readonly MarketInfo[],
    private readonly limits: EngineLimits = { maxOpenOrdersPerAccount: 100_000 },
  ) {
    for (const market of markets) this.books.set(market.sym, new RefBook(market.sym));
  }

  execute(cmd: EngineCommand): CommandResult {
    switch (cmd.op) {
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
      .map((order) => ({
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
    if (cmd.kind === 'limit' && cmd.tif === 'gtc' && open.length >= this.limits.maxOpenOrdersPerAccount) {
      return fail('too_many_orders', 'too many open orders for this account');
    }
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

    const taker: RefOrder = {
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
      accepted: ++this.accepted,
      priority: 0,
    };
    const events: EngineEvent[] = [execOf(taker, 'new', cmd.ts)];
    this.takeAndSettle(book, taker, cmd.ts, events);
    return { ok: true, id: taker.id, cid: taker.cid, events };
  }

  /** All a taker could fill right now, with self-trade prevention applied as matching would. */
  private dryRun(book: RefBook, side: Side, px: number | null, account: string, stp: PlaceCommand['stp']): bigint {
    let sum = 0n;
    for (const maker of book.resting(opposite(side))) {
      if (!crosses(side, px, maker.px!)) break;
      if (maker.account === account && stp !== 'none') {
        if (stp === 'cancel_maker') continue;
        break;
      }
      sum += BigInt(leavesOf(maker));
    }
    return sum;
  }

  /** Matches the taker level by level, then rests it (limit gtc) or cancels what is left. */
  private takeAndSettle(book: RefBook, taker: RefOrder, ts: number, events: EngineEvent[]): void {
    const makers = book.resting(opposite(taker.side));
    let stoppedBySelfTrade = false;
    while (leavesOf(taker) > 0 && !stoppedBySelfTrade) {
      const best = makers[0];
      if (best === undefined || !crosses(taker.side, taker.px, best.px!)) break;
      const px = best.px!;
      // Walk a copy of this level's queue: makers leave `makers` as they fill or are canceled.
      for (const maker of makers.filter((order) => order.px === px)) {
        if (leavesOf(taker) === 0) break;
        if (maker.account === taker.account && taker.stp !== 'none') {
          if (taker.stp === 'cancel_taker') {
            stoppedBySelfTrade = true;
            break;
          }
          book.remove(maker);
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

    if (leavesOf(taker) === 0) return;
    if (!stoppedBySelfTrade && taker.kind === 'limit' && taker.tif === 'gtc') {
      taker.priority = ++this.priority;
      book.resting(taker.side).push(taker);
      book.sortSide(taker.side);
      events.push(levelEvent(book.sym, taker.side, taker.px!, book.levelTotal(taker.side, taker.px!)));
      return;
    }
    const reason: CancelReason = stoppedBySelfTrade ? 'stp' : taker.kind === 'market' ? 'market' : 'ioc';
    events.push(execOf(taker, 'canceled', ts, { reason, leaves: 0 }));
  }

  private trade(book: RefBook, maker: RefOrder, taker: RefOrder, ts: number, events: EngineEvent[]): void {
    const qty = Math.min(leavesOf(maker), leavesOf(taker));
    const px = maker.px!;
    const tradeId = book.nextTradeId++;
    maker.filled += qty;
    taker.filled += qty;
    const fill = (liquidity: Fill['liquidity']): Fill => ({ tradeId, px, qty, liquidity, fee: 0 });
    events.push(execOf(maker, leavesOf(maker) === 0 ? 'filled' : 'partial', ts, { fill: fill('maker') }));
    events.push(execOf(taker, leavesOf(taker) === 0 ? 'filled' : 'partial', ts, { fill: fill('taker') }));
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
      ts,
    });
    if (leavesOf(maker) === 0) book.remove(maker);
  }

  // ---- cancel ----

  private find(book: RefBook, account: string, ref: OrderRef): RefOrder | undefined {
    return book.all().find((order) => order.account === account && ('id' in ref ? order.id === ref.id : order.cid === ref.cid));
  }

  private cancelOne(book: RefBook, order: RefOrder, reason: CancelReason, ts: number, events: EngineEvent[]): void {
    book.remove(order);
    events.push(levelEvent(book.sym, order.side, order.px!, book.levelTotal(order.side, order.px!)));
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
    const qty = cmd.qty ?? order.qty;
    const px = cmd.px ?? order.px!;
    const events: EngineEvent[] = [];

    // qty is the new total: at or below what already traded, nothing is left to rest.
    if (qty <= order.filled) {
      this.cancelOne(book, order, 'amend', cmd.ts, events);
      return ok(events);
    }
    const newLeaves = BigInt(qty - order.filled);
    const amendedExec = (): EngineEvent =>
      execOf(order, order.filled > 0 ? 'partial' : 'new', cmd.ts, { amended: true });

    if (px === order.px) {
      if (qty === order.qty) return ok(events);
      const total = book.levelTotal(order.side, px);
      if (total - BigInt(leavesOf(order)) + newLeaves > MAX) {
        return fail('bad_number', 'quantity at this price level would exceed 2^53-1');
      }
      // Lowering keeps time priority; raising goes to the back of the level.
      if (qty > order.qty) order.priority = ++this.priority;
      order.qty = qty;
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
    // A new price: leave the old level, then act as an incoming order at the new price.
    const oldPx = order.px!;
    book.remove(order);
    events.push(levelEvent(book.sym, order.side, oldPx, book.levelTotal(order.side, oldPx)));
    order.px = px;
    order.qty = qty;
    events.push(amendedExec());
    this.takeAndSettle(book, order, cmd.ts, events);
    return ok(events);
  }
}

function levelEvent(sym: string, side: Side, px: number, total: bigint): EngineEvent {
  return { kind: 'level', sym, side, px, qty: Number(total) };
}

function execOf(
  order: RefOrder,
  status: Exec['status'],
  ts: number,
  extra: { fill?: Fill; reason?: CancelReason; leaves?: number; amended?: true } = {},
): EngineEvent {
  const exec: Exec = {
    type: 'exec',
    sym: order.sym,
    id: order.id,
    cid: order.cid,
    side: order.side,
    status,
    px: order.px,
    qty: order.qty,
    leaves: extra.leaves ?? leavesOf(order),
    filled: order.filled,
    ts,
  };
  if (extra.fill !== undefined) exec.fill = extra.fill;
  if (extra.reason !== undefined) exec.reason = extra.reason;
  if (extra.amended !== undefined) exec.amended = extra.amended;
  return { kind: 'exec', account: order.account, exec };
}
