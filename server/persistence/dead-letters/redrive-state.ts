// What a redriven dead letter may write besides its events: the state of the orders, balances and
// books it touched as of the sink's applied seq, not as of the batch's end. Later batches (applied while the
// letter waited) may have filled, amended or canceled those orders and moved those books; Redis keeps
// no seq beside an order or a book, so writing the batch's own end state would bring those back.
//
// The journal is the truth. An engine is restored (newest snapshot at or before the start, then
// quiet replay: JournalFollower.open) and read on to the applied seq. An open order's value in Redis
// is its latest exec (with its last fill), which the engine's order state alone does not hold, so
// the start is the batch's end when the journal still has it: every later exec of a touched order is
// then seen, and the result is what a fresh replay writes. Journal retirement does not keep a dead
// letter's range (it keeps what the sinks' applied seqs need), so an older letter starts at the
// applied seq instead: an order closed by then is removed, one whose state is still the one the
// batch left gets the batch's exec, and one a later batch changed keeps the value that batch wrote.
// A balance is all engine state (available, hold), so it is simply read from the engine there.
import type { BalanceView, OrderView } from '../../../protocol/messages.js';
import type { BalanceEvent, ExecEvent } from '../../engine/types.js';
import type { BookTop, EventBatch, RedriveState } from '../event-batch.js';
import { JournalFollower, JournalGap, type JournalFollowerOptions } from '../journal-follower.js';

/** The engine's state at the applied seq, as far as a redrive needs it (a JournalFollower). */
export interface EngineView {
  openOrders(account: string): readonly OrderView[];
  book(sym: string): BookTop;
  /** Every asset's balance of the account. */
  balances(account: string): readonly BalanceView[];
}

/** The dead letter's touched orders and books, with every later exec of those orders seen since. */
export class BatchAftermath {
  // Per market, by order id (ids are per market): the batch's latest exec, then any later one.
  private readonly orders = new Map<string, Map<number, ExecEvent>>();
  private readonly changedLater = new Set<ExecEvent>();
  private readonly syms: readonly string[];
  /** Per account, the assets whose balance the batch changed. */
  private readonly funds = new Map<string, Set<string>>();

  constructor(dead: EventBatch) {
    for (const { events } of dead.commands) {
      for (const event of events) {
        if (event.kind === 'balance') {
          const assets = this.funds.get(event.account);
          if (assets === undefined) this.funds.set(event.account, new Set([event.asset]));
          else assets.add(event.asset);
        }
        if (event.kind !== 'exec') continue;
        let ofSym = this.orders.get(event.exec.sym);
        if (ofSym === undefined) {
          ofSym = new Map();
          this.orders.set(event.exec.sym, ofSym);
        }
        ofSym.set(event.exec.id, event);
      }
    }
    this.syms = dead.books.map((book) => book.sym);
  }

  /** Takes in a batch read after the letter (in journal order). */
  follow(batch: EventBatch): void {
    for (const { events } of batch.commands) {
      for (const event of events) {
        if (event.kind !== 'exec') continue;
        const ofSym = this.orders.get(event.exec.sym);
        if (!ofSym?.has(event.exec.id)) continue;
        ofSym.set(event.exec.id, event);
        this.changedLater.add(event);
      }
    }
  }

  /**
   * The state as of `appliedSeq`, `now` being the engine there. An exec seen after the letter is the
   * order's latest. Without one, the order is closed if `now` has it no more; otherwise its value is
   * the batch's exec if that still describes it, and is left out if it does not (a later batch this
   * aftermath did not read changed it and wrote it).
   */
  state(appliedSeq: number, now: EngineView): RedriveState {
    const open: ExecEvent[] = [];
    const closed: ExecEvent[] = [];
    const openByAccount = new Map<string, Map<string, OrderView>>();
    const openNow = (account: string): Map<string, OrderView> => {
      let views = openByAccount.get(account);
      if (views === undefined) {
        views = new Map(now.openOrders(account).map((view) => [`${view.sym}:${view.id}`, view]));
        openByAccount.set(account, views);
      }
      return views;
    };
    for (const ofSym of this.orders.values()) {
      for (const event of ofSym.values()) {
        const { exec } = event;
        const view = openNow(event.account).get(`${exec.sym}:${exec.id}`);
        if (view === undefined) closed.push(event);
        else if (this.changedLater.has(event) || (view.px === exec.px && view.qty === exec.qty && view.filled === exec.filled))
          open.push(event);
      }
    }
    const balances: BalanceEvent[] = [];
    for (const [account, assets] of this.funds) {
      for (const { asset, available, hold } of now.balances(account))
        if (assets.has(asset)) balances.push({ kind: 'balance', account, asset, available, hold });
    }
    return { appliedSeq, open, closed, books: this.syms.map((sym) => now.book(sym)), balances };
  }
}

/** A BatchAftermath fed from the journal on disk, advanced on demand to a sink's applied seq. */
export class JournalAftermath {
  private constructor(
    private readonly follower: JournalFollower,
    private readonly aftermath: BatchAftermath,
  ) {}

  /** Starts at the letter's end if the journal still holds it, else at `appliedSeq`. */
  static async open(dead: EventBatch, appliedSeq: number, options: JournalFollowerOptions): Promise<JournalAftermath> {
    let follower: JournalFollower;
    try {
      follower = await JournalFollower.open('redrive', dead.toSeq, options);
    } catch (error) {
      if (!(error instanceof JournalGap)) throw error;
      options.log.warn(
        { from: dead.toSeq, appliedSeq, err: error.message },
        'journal retired past the dead letter: its orders are checked against the state at the applied seq',
      );
      follower = await JournalFollower.open('redrive', appliedSeq, options);
    }
    return new JournalAftermath(follower, new BatchAftermath(dead));
  }

  /** The state as of `appliedSeq` (a record boundary the sink applied, at or after where this started). */
  async at(appliedSeq: number): Promise<RedriveState> {
    while (this.follower.readSeq < appliedSeq) {
      const batch = await this.follower.next(appliedSeq);
      if (batch === null) break;
      this.aftermath.follow(batch);
    }
    if (this.follower.readSeq !== appliedSeq) {
      throw new Error(`the redrive's replay is at seq ${this.follower.readSeq}, not at the sink's applied seq ${appliedSeq}`);
    }
    return this.aftermath.state(appliedSeq, this.follower);
  }

  close(): Promise<void> {
    return this.follower.close();
  }
}
