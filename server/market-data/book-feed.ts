// Book market data for one market: the `seq` and one view per subscribed depth. Each batch that
// changed the book advances `seq` by one and gives every view one delta (possibly empty, so that
// every subscriber of a market sees every seq): the levels of its top `depth` that changed, appeared
// (with their qty) or left (qty 0). A view diffs its last published top-`depth` against the book's
// new one, so deltas stay exact however many orders changed, and cost O(depth log depth) per batch.
// A view with an `interval` (conflated) publishes at most one delta per interval instead: the same
// diff, taken against what it published last, so it spans several seqs (`seqFrom`..`seq`).
import { bookChecksum } from '../../protocol/checksum.js';
import { CHECKSUM_LEVELS, type BookInterval } from '../../protocol/constants.js';
import type { BookMessage, Level } from '../../protocol/messages.js';

/** What the feed reads from the engine: the best `depth` levels of a side, best first. */
export interface BookSource {
  top(side: 'buy' | 'sell', depth: number): Level[];
}

interface DepthView {
  readonly depth: number;
  readonly interval: BookInterval;
  readonly topic: string;
  /** What the view's subscribers hold: its top `depth` as of `seq`. */
  bids: Level[];
  asks: Level[];
  seq: number;
  subscribers: number;
  /** Conflated views: the book changed since `seq`, and when the view last published. */
  dirty: boolean;
  publishedAt: number;
}

export interface ViewDelta {
  readonly topic: string;
  readonly message: BookMessage;
}

/** Levels of `next` that differ from `previous` (new qty, or 0 when gone), best first. */
export function diffLevels(previous: readonly Level[], next: readonly Level[], better: (a: number, b: number) => boolean): Level[] {
  const changes: Level[] = [];
  let i = 0;
  let j = 0;
  while (i < previous.length || j < next.length) {
    const old = previous[i];
    const now = next[j];
    if (old && now && old[0] === now[0]) {
      if (old[1] !== now[1]) changes.push([now[0], now[1]]);
      i++;
      j++;
    } else if (now && (!old || better(now[0], old[0]))) {
      changes.push([now[0], now[1]]);
      j++;
    } else {
      changes.push([old![0], 0]);
      i++;
    }
  }
  return changes;
}

const bidBetter = (a: number, b: number): boolean => a > b;
const askBetter = (a: number, b: number): boolean => a < b;

function checksumOf(view: { bids: readonly Level[]; asks: readonly Level[] }): number {
  return bookChecksum(view.asks.slice(0, CHECKSUM_LEVELS), view.bids.slice(0, CHECKSUM_LEVELS));
}

export class BookFeed implements BookSource {
  /** By `depth/interval`. */
  private readonly views = new Map<string, DepthView>();
  private conflatedViews = 0;

  constructor(
    readonly sym: string,
    private readonly source: BookSource,
    /** The seq of the last delta published (restored from a snapshot after a restart). */
    public seq = 0,
  ) {}

  /** The book's best `depth` levels of a side now (the ticker's best bid and ask). */
  top(side: 'buy' | 'sell', depth: number): Level[] {
    return this.source.top(side, depth);
  }

  topicFor(depth: number, interval: BookInterval = 0): string {
    return interval === 0 ? `book/${this.sym}/${depth}` : `book/${this.sym}/${depth}/${interval}`;
  }

  /**
   * Adds a subscriber to the view of `depth` and `interval` and returns its snapshot. A conflated
   * view that already has subscribers hands out the state it published last (up to one interval
   * old), so that its next merged delta applies to the newcomer's snapshot too.
   */
  subscribe(depth: number, interval: BookInterval = 0, now = 0): BookMessage {
    const key = `${depth}/${interval}`;
    let view = this.views.get(key);
    if (!view) {
      view = {
        depth,
        interval,
        topic: this.topicFor(depth, interval),
        bids: this.source.top('buy', depth),
        asks: this.source.top('sell', depth),
        seq: this.seq,
        subscribers: 0,
        dirty: false,
        publishedAt: now,
      };
      this.views.set(key, view);
      if (interval !== 0) this.conflatedViews++;
    }
    view.subscribers++;
    return {
      type: 'book',
      sym: this.sym,
      seq: interval === 0 ? this.seq : view.seq,
      snapshot: true,
      bids: view.bids,
      asks: view.asks,
      cs: checksumOf(view),
    };
  }

  unsubscribe(depth: number, interval: BookInterval = 0): void {
    const key = `${depth}/${interval}`;
    const view = this.views.get(key);
    if (!view) return;
    view.subscribers--;
    if (view.subscribers > 0) return;
    this.views.delete(key);
    if (interval !== 0) this.conflatedViews--;
  }

  /** The book changed in this batch: next seq, and one delta per per-batch view. */
  advance(): ViewDelta[] {
    this.seq++;
    const deltas: ViewDelta[] = [];
    for (const view of this.views.values()) {
      if (view.interval !== 0) {
        view.dirty = true;
        continue;
      }
      deltas.push({ topic: view.topic, message: this.publish(view) });
    }
    return deltas;
  }

  /** Whether a conflated view holds changes not yet published (the gateway keeps a timer for them). */
  get hasUnpublished(): boolean {
    if (this.conflatedViews === 0) return false;
    for (const view of this.views.values()) if (view.dirty) return true;
    return false;
  }

  /**
   * The merged deltas of conflated views whose interval has passed since they last published;
   * `nextDue` is the earliest time another one falls due (Infinity: none waits).
   */
  flushConflated(now: number): { deltas: ViewDelta[]; nextDue: number } {
    const deltas: ViewDelta[] = [];
    let nextDue = Infinity;
    if (this.conflatedViews === 0) return { deltas, nextDue };
    for (const view of this.views.values()) {
      if (!view.dirty) continue;
      const due = view.publishedAt + view.interval;
      if (now < due) {
        nextDue = Math.min(nextDue, due);
        continue;
      }
      const seqFrom = view.seq + 1;
      const message = this.publish(view);
      message.seqFrom = seqFrom;
      view.dirty = false;
      view.publishedAt = now;
      deltas.push({ topic: view.topic, message });
    }
    return { deltas, nextDue };
  }

  private publish(view: DepthView): BookMessage {
    const bids = this.source.top('buy', view.depth);
    const asks = this.source.top('sell', view.depth);
    const message: BookMessage = {
      type: 'book',
      sym: this.sym,
      seq: this.seq,
      bids: diffLevels(view.bids, bids, bidBetter),
      asks: diffLevels(view.asks, asks, askBetter),
      cs: 0,
    };
    view.bids = bids;
    view.asks = asks;
    view.seq = this.seq;
    message.cs = checksumOf(view);
    return message;
  }
}
