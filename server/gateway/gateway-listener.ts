// The engine's listener for the commands the gateway runs (Liquibook's style): each report goes
// where it is used as it happens, and only the messages that are sent or kept are built, with no
// event objects in between. A fill's trade message is built from the report, a level change only
// marks its book changed, a balance is noted in the batch (one entry per account and asset per
// batch, updated in place). An exec is the message itself (exec-events.ts), held until the
// command's ack is in the batch, since a client gets its ack before the execs it caused. A reject
// reports nothing (the engine refuses before it changes anything), so only an accepted command
// has execs to deliver.
import type { CancelReason } from '../../protocol/constants.js';
import type { Exec } from '../../protocol/messages.js';
import { QuietListener, type FillReport } from '../engine/engine-listener.js';
import { amendedExec, canceledExec, fillExec, plainExec, triggeredExec } from '../engine/exec-events.js';
import type { Order } from '../engine/order.js';
import type { Batch } from './batch.js';
import type { EventRouter } from './event-router.js';

/** Trades and changed books only: a cluster core's, which keeps no private streams. */
export class MarketDataListener extends QuietListener {
  protected batch: Batch | null = null;

  /** Points the reports of the next command at `batch`; returns the listener to install. */
  into(batch: Batch): this {
    this.batch = batch;
    return this;
  }

  /** After the command's ack: the private messages it held back go out (none here). */
  deliver(): void {}

  override filled(fill: FillReport): void {
    this.batch!.addTrade(fill.sym, fill.tradeId, fill.px, fill.qty, fill.taker.side, fill.ts);
  }

  override levelChanged(sym: string): void {
    this.batch!.changedBooks.add(sym);
  }
}

/** Market data, and each account's execs and balances: a gateway's. */
export class GatewayListener extends MarketDataListener {
  /** The current command's execs, in the order the engine reported them, and whose each is. */
  private readonly heldExecs: Exec[] = [];
  private readonly heldAccounts: string[] = [];

  constructor(private readonly router: EventRouter) {
    super();
  }

  /** Anything still held is from a command that threw (a bug): it got no ack, so its execs go too. */
  override into(batch: Batch): this {
    this.heldExecs.length = 0;
    this.heldAccounts.length = 0;
    return super.into(batch);
  }

  override accepted(order: Order, ts: number): void {
    this.hold(order, plainExec(order, 'new', ts));
  }

  override canceled(order: Order, ts: number, reason: CancelReason): void {
    this.hold(order, canceledExec(order, ts, reason));
  }

  override amended(order: Order, ts: number): void {
    this.hold(order, amendedExec(order, ts));
  }

  override triggered(order: Order, ts: number): void {
    this.hold(order, triggeredExec(order, ts));
  }

  /** The maker's exec, the taker's, then the trade: the order the collector's events have. */
  override filled(fill: FillReport): void {
    const { maker, taker, tradeId, px, qty, ts } = fill;
    this.hold(maker, fillExec(maker, ts, tradeId, px, qty, 'maker', fill.makerFee, fill.makerFeeAsset));
    this.hold(taker, fillExec(taker, ts, tradeId, px, qty, 'taker', fill.takerFee, fill.takerFeeAsset));
    super.filled(fill);
  }

  override balanceChanged(account: string, asset: string, available: number, hold: number): void {
    this.batch!.noteBalance(account, asset, available, hold);
  }

  override deliver(): void {
    const { heldExecs, heldAccounts } = this;
    for (let i = 0; i < heldExecs.length; i++) this.router.exec(this.batch!, heldAccounts[i]!, heldExecs[i]!);
    heldExecs.length = 0;
    heldAccounts.length = 0;
  }

  private hold(order: Order, exec: Exec): void {
    this.heldExecs.push(exec);
    this.heldAccounts.push(order.account);
  }
}
