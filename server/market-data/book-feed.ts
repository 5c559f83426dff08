// Book market data for one market: the `seq` and one view per subscribed depth. Each batch that
// changed the book advances `seq` by one and gives every view one delta (possibly empty, so that
// every subscriber of a market sees every seq): the levels of its top `depth` that changed, appeared
// (with their qty) or left (qty 0). A view diffs its last published top-`depth` against the book's
// new one, so deltas stay exact however many orders changed, and cost O(depth log depth) per batch.
import { bookChecksum } from '../../protocol/checksum.js';
import { CHECKSUM_LEVELS } from '../../protocol/constants.js';
import type { BookMessage, Level } from '../../protocol/messages.js';

/** What the feed reads from the engine: the best `depth` levels of a side, best first. */
export interface BookSource {
  top(side: 'buy' | 'sell', depth: number): Level[];
}

interface DepthView {
  readonly depth: number;
  readonly topic: string;
  bids: Level[];
  asks: Level[];
  subscribers: number;
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
  private readonly views = new Map<number, DepthView>();

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

  topicFor(depth: number): string {
    return `book/${this.sym}/${depth}`;
  }

  /** Adds a subscriber to the view of `depth` and returns its snapshot at the current seq. */
  subscribe(depth: number): BookMessage {
    let view = this.views.get(depth);
    if (!view) {
      view = {
        depth,
        topic: this.topicFor(depth),
        bids: this.source.top('buy', depth),
        asks: this.source.top('sell', depth),
        subscribers: 0,
      };
      this.views.set(depth, view);
    }
    view.subscribers++;
    return {
      type: 'book',
      sym: this.sym,
      seq: this.seq,
      snapshot: true,
      bids: view.bids,
      asks: view.asks,
      cs: checksumOf(view),
    };
  }

  unsubscribe(depth: number): void {
    const view = this.views.get(depth);
    if (!view) return;
    view.subscribers--;
    if (view.subscribers <= 0) this.views.delete(depth);
  }

  /** The book changed in this batch: next seq, and one delta per view. */
  advance(): ViewDelta[] {
    this.seq++;
    const deltas: ViewDelta[] = [];
    for (const view of this.views.values()) {
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
      message.cs = checksumOf(view);
      deltas.push({ topic: view.topic, message });
    }
    return deltas;
  }
}
