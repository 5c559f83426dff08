// What a redriven dead letter may write besides its events: the state of the orders and books it
// touched as of the sink's applied seq, not as of the batch's end. Later batches (applied while the
// letter waited) may have filled, amended or canceled those orders and moved those books; Redis keeps
// no seq beside an order or a book, so writing the batch's own end state would bring those back.
//
// The journal is the truth: a follower restored at the batch's end (newest snapshot at or before
// it, then quiet replay, as JournalFollower.open does for a sink) reads on up to the applied seq,
// and every later exec of a touched order and every later state of a touched book replaces the
// batch's. Following with events rather than restoring at the applied seq gives each order's latest
// exec exactly as a fresh replay writes it (an open order's value is its latest exec, with its last
// fill; the engine's order state alone does not hold that).
import type { ExecEvent } from '../engine/types.js';
import type { BookTop, EventBatch, RedriveState } from './event-batch.js';
import { JournalFollower, type JournalFollowerOptions } from './journal-follower.js';

/** Folds the batches that followed a dead letter into the state of what the letter touched. */
export class BatchAftermath {
  private readonly orders = new Map<string, Map<number, ExecEvent>>();
  private readonly books = new Map<string, BookTop>();
  private seq: number;

  constructor(dead: EventBatch) {
    this.seq = dead.toSeq;
    for (const { events } of dead.commands) {
      for (const event of events) {
        if (event.kind !== 'exec') continue;
        let ofSym = this.orders.get(event.exec.sym);
        if (ofSym === undefined) {
          ofSym = new Map();
          this.orders.set(event.exec.sym, ofSym);
        }
        ofSym.set(event.exec.id, event);
      }
    }
    for (const book of dead.books) this.books.set(book.sym, book);
  }

  /** Takes in the next batch after the letter (batches in journal order, without gaps). */
  follow(batch: EventBatch): void {
    if (batch.fromSeq !== this.seq + 1) throw new Error(`batch ${batch.fromSeq}..${batch.toSeq} does not follow seq ${this.seq}`);
    this.seq = batch.toSeq;
    for (const { events } of batch.commands) {
      for (const event of events) {
        if (event.kind !== 'exec') continue;
        const ofSym = this.orders.get(event.exec.sym);
        if (ofSym?.has(event.exec.id)) ofSym.set(event.exec.id, event);
      }
    }
    for (const book of batch.books) if (this.books.has(book.sym)) this.books.set(book.sym, book);
  }

  state(): RedriveState {
    return { appliedSeq: this.seq, orders: [...this.orders.values()].flatMap((ofSym) => [...ofSym.values()]), books: [...this.books.values()] };
  }
}

/** A BatchAftermath fed from the journal on disk, advanced on demand to a sink's applied seq. */
export class JournalAftermath {
  private constructor(
    private readonly follower: JournalFollower,
    private readonly aftermath: BatchAftermath,
  ) {}

  static async open(dead: EventBatch, options: JournalFollowerOptions): Promise<JournalAftermath> {
    const follower = await JournalFollower.open('redrive', dead.toSeq, options);
    return new JournalAftermath(follower, new BatchAftermath(dead));
  }

  /** The state as of `appliedSeq` (at or after the letter's end, a record boundary the sink applied). */
  async at(appliedSeq: number): Promise<RedriveState> {
    while (this.follower.readSeq < appliedSeq) {
      const batch = await this.follower.next(appliedSeq);
      if (batch === null) break;
      this.aftermath.follow(batch);
    }
    const state = this.aftermath.state();
    if (state.appliedSeq !== appliedSeq) throw new Error(`the journal ends at seq ${state.appliedSeq}, before the sink's applied seq ${appliedSeq}`);
    return state;
  }

  close(): Promise<void> {
    return this.follower.close();
  }
}
