// Which books hold merged deltas not yet published (subscriptions with an `interval`), and the one
// timer that makes sure they go out when no batch comes along: the deltas always leave inside a
// batch, after what is durable, so the timer only opens an (empty) batch.
import type { BookFeed, ViewDelta } from './book-feed.js';

export class BookConflation {
  private readonly pending = new Set<BookFeed>();
  private timer: NodeJS.Timeout | null = null;
  private due = Infinity;

  constructor(
    /** Opens a batch (sealed at the end of the turn), whose seal calls flush. */
    private readonly openBatch: () => void,
  ) {}

  /** After a feed advanced: note it if a conflated view of it now waits. */
  note(feed: BookFeed): void {
    if (feed.hasUnpublished) this.pending.add(feed);
  }

  /** The merged deltas due by `now`; arms the timer for the next one due. */
  flush(now: number): ViewDelta[] {
    const deltas: ViewDelta[] = [];
    if (this.pending.size === 0) return deltas;
    let nextDue = Infinity;
    for (const feed of this.pending) {
      const flushed = feed.flushConflated(now);
      deltas.push(...flushed.deltas);
      if (flushed.nextDue === Infinity) this.pending.delete(feed);
      else nextDue = Math.min(nextDue, flushed.nextDue);
    }
    if (nextDue < this.due) {
      if (this.timer) clearTimeout(this.timer);
      this.due = nextDue;
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.due = Infinity;
          this.openBatch();
        },
        Math.max(1, nextDue - now),
      );
      this.timer.unref();
    }
    return deltas;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
