// A client's mirror of one market's book as published on the `book` channel: a snapshot, then
// deltas carrying the new aggregate qty of each changed level (0 = gone). Every message is checked
// twice, as the contract asks: its seq (or seqFrom) must be exactly the previous seq + 1, and after applying it
// the `cs` checksum of the best levels must match. After a failure the book is out of sync and takes
// no delta until the next snapshot, so deltas still in flight from the old subscription are inert.
//
// Each side is one array of [px, qty] sorted best first; a level is found by binary search and
// inserted or removed with splice, which beats a tree for the few hundred levels a view holds.
import { bookChecksum } from './checksum.js';
import type { BookMessage, Level } from './messages.js';

export type ApplyResult = { ok: true } | { ok: false; reason: 'gap' | 'checksum' | 'no_snapshot' };

const OK: ApplyResult = { ok: true };

/**
 * Index of `px` in `levels` if present, else the index where it belongs. `descending` is true for
 * bids (best = highest first).
 */
function search(levels: readonly Level[], px: number, descending: boolean): { index: number; found: boolean } {
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = levels[mid]![0];
    if (at === px) return { index: mid, found: true };
    if (descending ? at > px : at < px) lo = mid + 1;
    else hi = mid;
  }
  return { index: lo, found: false };
}

function setLevel(levels: Level[], px: number, qty: number, descending: boolean): void {
  const { index, found } = search(levels, px, descending);
  if (qty === 0) {
    if (found) levels.splice(index, 1);
  } else if (found) {
    levels[index] = [px, qty];
  } else {
    levels.splice(index, 0, [px, qty]);
  }
}

function top(levels: readonly Level[], n: number): Level[] {
  const count = Math.max(0, Math.min(n, levels.length));
  const out: Level[] = new Array<Level>(count);
  for (let i = 0; i < count; i++) {
    const level = levels[i]!;
    out[i] = [level[0], level[1]];
  }
  return out;
}

export class LocalBook {
  #bids: Level[] = [];
  #asks: Level[] = [];
  #seq = 0;
  #synced = false;

  constructor(readonly sym: string) {}

  /** The seq of the last message applied (0 before any snapshot). */
  get seq(): number {
    return this.#seq;
  }

  /** True after a snapshot whose checksum matched, until a gap or a checksum mismatch. */
  get synced(): boolean {
    return this.#synced;
  }

  get bestBid(): Level | undefined {
    const level = this.#bids[0];
    return level === undefined ? undefined : [level[0], level[1]];
  }

  get bestAsk(): Level | undefined {
    const level = this.#asks[0];
    return level === undefined ? undefined : [level[0], level[1]];
  }

  get bidCount(): number {
    return this.#bids.length;
  }

  get askCount(): number {
    return this.#asks.length;
  }

  /** Copies of the best `n` bids, highest first (all of them when n is omitted). */
  bids(n: number = this.#bids.length): Level[] {
    return top(this.#bids, n);
  }

  /** Copies of the best `n` asks, lowest first (all of them when n is omitted). */
  asks(n: number = this.#asks.length): Level[] {
    return top(this.#asks, n);
  }

  /** The checksum of the current book, as the server computes `cs`. */
  checksum(): number {
    return bookChecksum(this.#asks, this.#bids);
  }

  /** Replaces the whole book. Levels are inserted one by one, so their order on the wire is not trusted. */
  applySnapshot(msg: BookMessage): ApplyResult {
    this.#bids = [];
    this.#asks = [];
    for (const [px, qty] of msg.bids) setLevel(this.#bids, px, qty, true);
    for (const [px, qty] of msg.asks) setLevel(this.#asks, px, qty, false);
    this.#seq = msg.seq;
    return this.#verify(msg);
  }

  applyDelta(msg: BookMessage): ApplyResult {
    if (!this.#synced) return { ok: false, reason: 'no_snapshot' };
    // A merged delta (a subscription with an `interval`) covers seqFrom..seq.
    if ((msg.seqFrom ?? msg.seq) !== this.#seq + 1) {
      this.#synced = false;
      return { ok: false, reason: 'gap' };
    }
    for (const [px, qty] of msg.bids) setLevel(this.#bids, px, qty, true);
    for (const [px, qty] of msg.asks) setLevel(this.#asks, px, qty, false);
    this.#seq = msg.seq;
    return this.#verify(msg);
  }

  /** Out of sync until the next snapshot (its connection dropped): deltas are refused meanwhile. */
  markStale(): void {
    this.#synced = false;
  }

  /** Applies a snapshot or a delta, whichever `msg` is. */
  apply(msg: BookMessage): ApplyResult {
    return msg.snapshot === true ? this.applySnapshot(msg) : this.applyDelta(msg);
  }

  #verify(msg: BookMessage): ApplyResult {
    this.#synced = this.checksum() === msg.cs;
    return this.#synced ? OK : { ok: false, reason: 'checksum' };
  }
}
