// The reference engine's orders and books (reference-book.ts), written plainly from
// docs/PROTOCOL.md: orders in arrays kept sorted best-first, what each order shows, and the rules
// that ask no more than the book: whether an order rests, which stop is due, and matching played
// on a copy of the book for the dry runs (fok, no_liquidity, a market buy's cost).
import type { CancelReason, OrderKind, Side, StpMode } from '../../protocol/constants.js';
import type { Exec, Fill, Level } from '../../protocol/messages.js';
import type { CommandResult, EngineEvent, PlaceCommand } from '../../server/engine/types.js';
import { MAX, type RefMarketMoney } from './reference-ledger.js';

export const HOLD_TOO_LARGE = 'the amount this order would hold exceeds 2^53-1 ledger units';

export interface RefOrder {
  readonly sym: string;
  readonly id: number;
  readonly account: string;
  readonly cid: string | null;
  readonly side: Side;
  readonly kind: OrderKind;
  readonly tif: 'gtc' | 'ioc' | 'fok';
  readonly post: boolean;
  readonly stp: PlaceCommand['stp'];
  px: number | null;
  qty: number;
  filled: number;
  readonly ts: number;
  /** A stop's trigger (null for other kinds), and whether it still waits for it (outside the book). */
  trigger: number | null;
  waiting: boolean;
  /** An iceberg's slice size (null: it shows all its leaves), and what is left of its current slice. */
  readonly display: number | null;
  slice: number;
  /** Engine-wide acceptance sequence: the order of `openOrders` and `cancel_all`. */
  readonly accepted: number;
  /** Time priority within a price level; renewed when the order goes to the back of a level. */
  priority: number;
  /** What it holds now; a rule of its leaves, except a market buy's, which is its remaining cost. */
  hold: bigint;
  receivedTaker: bigint;
  receivedMaker: bigint;
  feesPaid: bigint;
}

export function leavesOf(order: RefOrder): number {
  return order.qty - order.filled;
}

/** What a resting order shows in its level: its leaves, or an iceberg's current slice. */
export function visibleOf(order: RefOrder): number {
  return order.display === null ? leavesOf(order) : order.slice;
}

export function fail(code: Extract<CommandResult, { ok: false }>['code'], msg: string): CommandResult {
  return { ok: false, code, msg, events: [] };
}

export class RefBook {
  /** Resting buy orders, best first: highest px, then oldest priority. */
  bids: RefOrder[] = [];
  /** Resting sell orders, best first: lowest px, then oldest priority. */
  asks: RefOrder[] = [];
  /** Stop orders waiting for their trigger, in no order. */
  stops: RefOrder[] = [];
  nextOrderId = 1;
  nextTradeId = 1;

  constructor(
    readonly sym: string,
    readonly money: RefMarketMoney,
  ) {}

  resting(side: Side): RefOrder[] {
    return side === 'buy' ? this.bids : this.asks;
  }

  /** Every open order: resting and waiting. */
  all(): RefOrder[] {
    return [...this.bids, ...this.asks, ...this.stops];
  }

  sortSide(side: Side): void {
    const sign = side === 'buy' ? -1 : 1;
    this.resting(side).sort((a, b) => (a.px! !== b.px! ? sign * (a.px! - b.px!) : a.priority - b.priority));
  }

  levelTotal(side: Side, px: number): bigint {
    let total = 0n;
    for (const order of this.resting(side)) if (order.px === px) total += BigInt(visibleOf(order));
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

export function opposite(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}

/** True when a taker on `takerSide` with limit `px` (null: market) may trade at `makerPx`. */
export function crosses(takerSide: Side, px: number | null, makerPx: number): boolean {
  if (px === null) return true;
  return takerSide === 'buy' ? makerPx <= px : makerPx >= px;
}

/** A gtc limit order rests what is left; so does a triggered stop with a px (a stop-limit). */
export function rests(order: RefOrder): boolean {
  return order.tif === 'gtc' && (order.kind === 'limit' || (order.kind === 'stop' && order.px !== null));
}

/** A market order, or a stop without px once it triggers: it matches at any price and never rests. */
export function isMarketLike(order: RefOrder): boolean {
  return order.kind === 'market' || (order.kind === 'stop' && order.px === null);
}

export function holdAssetOf(book: RefBook, side: Side): string {
  return side === 'buy' ? book.money.quote : book.money.base;
}

export function levelEvent(sym: string, side: Side, px: number, total: bigint): EngineEvent {
  return { kind: 'level', sym, side, px, qty: Number(total) };
}

export function execOf(
  order: RefOrder,
  status: Exec['status'],
  ts: number,
  extra: { fill?: Fill; reason?: CancelReason; leaves?: number; amended?: true; triggered?: true } = {},
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
  if (extra.triggered !== undefined) exec.triggered = extra.triggered;
  return { kind: 'exec', account: order.account, exec };
}

/**
 * The waiting stop to trigger next, given the command's events so far: a buy stop at or under its
 * highest trade, a sell stop at or over its lowest; per side the trigger reached first (buys
 * lowest, sells highest), then the lower id; across sides the lower id.
 */
export function nextDueStop(book: RefBook, events: readonly EngineEvent[]): RefOrder | undefined {
  const prices = events.filter((e) => e.kind === 'trade' && e.sym === book.sym).map((e) => (e as { px: number }).px);
  if (prices.length === 0) return undefined;
  const high = Math.max(...prices);
  const low = Math.min(...prices);
  const due = book.stops.filter((stop) => (stop.side === 'buy' ? stop.trigger! <= high : stop.trigger! >= low));
  const buy = due.filter((s) => s.side === 'buy').sort((a, b) => a.trigger! - b.trigger! || a.id - b.id)[0];
  const sell = due.filter((s) => s.side === 'sell').sort((a, b) => b.trigger! - a.trigger! || a.id - b.id)[0];
  return buy && sell ? (buy.id < sell.id ? buy : sell) : (buy ?? sell);
}

/**
 * Matching played on a copy of the opposite side, changing nothing: a taker of `qty` (null: no
 * limit) takes the first shown slice while it crosses; a maker used up leaves, an iceberg's
 * used-up slice is renewed at the back of its level; own orders are skipped (cancel_maker) or
 * stop it (cancel_taker, cancel_both). What it fills, and what that costs in quote.
 */
export function simulateTaker(
  book: RefBook,
  side: Side,
  px: number | null,
  account: string,
  stp: StpMode,
  qty: bigint | null,
): { filled: bigint; cost: bigint } {
  const queue = book.resting(opposite(side)).map((o) => ({
    own: o.account === account,
    px: o.px!,
    leaves: BigInt(leavesOf(o)),
    slice: BigInt(visibleOf(o)),
    display: o.display === null ? null : BigInt(o.display),
  }));
  let filled = 0n;
  let cost = 0n;
  while (queue.length > 0 && (qty === null || filled < qty)) {
    const maker = queue[0]!;
    if (!crosses(side, px, maker.px)) break;
    if (maker.own && stp !== 'none') {
      if (stp !== 'cancel_maker') break;
      queue.shift();
      continue;
    }
    const want = qty === null ? maker.slice : qty - filled;
    const take = want < maker.slice ? want : maker.slice;
    filled += take;
    cost += take * BigInt(maker.px) * book.money.quotePerTickLot;
    maker.leaves -= take;
    maker.slice -= take;
    queue.shift();
    if (maker.leaves > 0n && maker.slice === 0n) {
      maker.slice = maker.display! < maker.leaves ? maker.display! : maker.leaves;
      let back = 0;
      while (back < queue.length && queue[back]!.px === maker.px) back++;
      queue.splice(back, 0, maker);
    } else if (maker.leaves > 0n) {
      queue.unshift(maker);
    }
  }
  return { filled, cost };
}
