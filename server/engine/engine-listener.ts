// How the engine reports what a command did, as it does it (Liquibook's listener): accepted,
// canceled, amended and triggered orders, fills, level changes, balances, transfers. The listener decides
// what to build: the EventCollector builds the event objects the journal follower, `replay` and
// the tests read from `CommandResult.events`; the gateway's listener builds only the messages it
// sends (server/gateway/gateway-listener.ts); a replay that needs only which books changed, or
// only the trades, installs a listener that builds nothing else (MatchingEngine.withListener).
import type { CancelReason, Side } from '../../protocol/constants.js';
import type { Exec } from '../../protocol/messages.js';
import { amendedExec, canceledExec, fillExec, plainExec, triggeredExec } from './exec-events.js';
import type { Order } from './order.js';
import type { EngineEvent, ExecEvent, TransferCommand } from './types.js';

/**
 * One fill, as the book reports it. The book reuses one object for every fill, so a listener
 * copies what it keeps; maker and taker are the orders after the fill.
 */
export interface FillReport {
  sym: string;
  tradeId: number;
  px: number;
  qty: number;
  maker: Order;
  taker: Order;
  baseAmount: number;
  quoteAmount: number;
  makerFee: number;
  takerFee: number;
  /** The asset each side's fee is in: the one it received. */
  makerFeeAsset: string;
  takerFeeAsset: string;
  ts: number;
}

/** A report for a book to reuse (its orders are set before each report). */
export function newFillReport(sym: string): FillReport {
  const none = null as unknown as Order;
  return {
    sym,
    tradeId: 0,
    px: 0,
    qty: 0,
    maker: none,
    taker: none,
    baseAmount: 0,
    quoteAmount: 0,
    makerFee: 0,
    takerFee: 0,
    makerFeeAsset: '',
    takerFeeAsset: '',
    ts: 0,
  };
}

export interface EngineListener {
  accepted(order: Order, ts: number): void;
  canceled(order: Order, ts: number, reason: CancelReason): void;
  amended(order: Order, ts: number): void;
  /** A waiting stop's trigger was reached: it enters as a taker now. */
  triggered(order: Order, ts: number): void;
  filled(fill: FillReport): void;
  /** A level's new aggregate quantity (0: gone). */
  levelChanged(sym: string, side: Side, px: number, qty: number): void;
  /** At the end of a command, once per (account, asset) it changed, with the balance it ended at. */
  balanceChanged(account: string, asset: string, available: number, hold: number): void;
  transferred(cmd: TransferCommand): void;
}

/** The events of the command being run, shared by the engine, its books and the collector. */
export interface EngineOutput {
  listener: EngineListener;
  /** The current command's events; NO_EVENTS while a listener other than the collector runs. */
  events: EngineEvent[];
}

/**
 * Results' `events` while a listener other than the collector runs: one shared empty array (not
 * frozen: a frozen array has another elements kind, which makes every loop over events slower).
 */
export const NO_EVENTS: EngineEvent[] = [];

function execEvent(order: Order, exec: Exec): ExecEvent {
  return { kind: 'exec', account: order.account, exec };
}

/**
 * Builds every event, in the order and with the exact key order the encoded output depends on
 * (exec-events.ts): for a fill the maker's exec, the taker's exec, then the trade.
 */
export class EventCollector implements EngineListener {
  constructor(private readonly out: EngineOutput) {}

  accepted(order: Order, ts: number): void {
    this.out.events.push(execEvent(order, plainExec(order, 'new', ts)));
  }

  canceled(order: Order, ts: number, reason: CancelReason): void {
    this.out.events.push(execEvent(order, canceledExec(order, ts, reason)));
  }

  amended(order: Order, ts: number): void {
    this.out.events.push(execEvent(order, amendedExec(order, ts)));
  }

  triggered(order: Order, ts: number): void {
    this.out.events.push(execEvent(order, triggeredExec(order, ts)));
  }

  filled(fill: FillReport): void {
    const { maker, taker, tradeId, px, qty, ts } = fill;
    const events = this.out.events;
    events.push(execEvent(maker, fillExec(maker, ts, tradeId, px, qty, 'maker', fill.makerFee, fill.makerFeeAsset)));
    events.push(execEvent(taker, fillExec(taker, ts, tradeId, px, qty, 'taker', fill.takerFee, fill.takerFeeAsset)));
    events.push({
      kind: 'trade',
      sym: fill.sym,
      tradeId,
      px,
      qty,
      takerSide: taker.side,
      makerOrderId: maker.id,
      takerOrderId: taker.id,
      makerAccount: maker.account,
      takerAccount: taker.account,
      baseAmount: fill.baseAmount,
      quoteAmount: fill.quoteAmount,
      makerFee: fill.makerFee,
      takerFee: fill.takerFee,
      ts,
    });
  }

  levelChanged(sym: string, side: Side, px: number, qty: number): void {
    this.out.events.push({ kind: 'level', sym, side, px, qty });
  }

  balanceChanged(account: string, asset: string, available: number, hold: number): void {
    this.out.events.push({ kind: 'balance', account, asset, available, hold });
  }

  transferred(cmd: TransferCommand): void {
    this.out.events.push({
      kind: 'transfer',
      op: cmd.op,
      account: cmd.account,
      asset: cmd.asset,
      amount: cmd.amount,
      ref: cmd.ref,
      ts: cmd.ts,
    });
  }
}

/** Builds nothing; the base of listeners that want one kind of report. */
export class QuietListener implements EngineListener {
  accepted(_order: Order, _ts: number): void {}
  canceled(_order: Order, _ts: number, _reason: CancelReason): void {}
  amended(_order: Order, _ts: number): void {}
  triggered(_order: Order, _ts: number): void {}
  filled(_fill: FillReport): void {}
  levelChanged(_sym: string, _side: Side, _px: number, _qty: number): void {}
  balanceChanged(_account: string, _asset: string, _available: number, _hold: number): void {}
  transferred(_cmd: TransferCommand): void {}
}

/** Which books changed (a level moved): what a replay needs to advance market-data seqs. */
export class ChangedBooks extends QuietListener {
  readonly syms = new Set<string>();

  override levelChanged(sym: string): void {
    this.syms.add(sym);
  }
}

/** A trade as market data sees it: `side` is the taker's. */
export interface TradePrint {
  readonly sym: string;
  readonly tradeId: number;
  readonly px: number;
  readonly qty: number;
  readonly side: Side;
  readonly ts: number;
}

/** Which books changed, and the trades: what rebuilding market data (candles, ticker) needs. */
export class TradesAndChangedBooks extends ChangedBooks {
  readonly trades: TradePrint[] = [];

  override filled(fill: FillReport): void {
    this.trades.push({ sym: fill.sym, tradeId: fill.tradeId, px: fill.px, qty: fill.qty, side: fill.taker.side, ts: fill.ts });
  }
}
