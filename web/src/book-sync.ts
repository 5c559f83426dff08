// One market's book as the page shows it: a LocalBook fed from raw `book` messages, every message
// checked (seq exactly +1, then the checksum of the best levels against `cs`), and on a gap or a
// mismatch one unsub+sub in a frame to get a fresh snapshot. The page keeps this instead of the
// client's subscribeBook so it can show the user each resync and remember which levels changed
// (they flash). `dropNextDeltas` loses deltas and `corruptNextDeltas` damages their checksum on
// purpose: the browser tests force a gap and a mismatch with them.
import { LocalBook, type BookMessage } from '@spotwire/client';

export type SyncState = 'waiting' | 'synced' | 'resyncing';
export type ResyncReason = 'gap' | 'checksum';

/** How long a changed level stays marked (the flash animation's length). */
export const FLASH_MS = 600;

export class BookSync {
  readonly book: LocalBook;
  state: SyncState = 'waiting';
  /** Messages applied whose checksum matched. */
  checksumsVerified = 0;
  resyncs = 0;
  lastResync: { reason: ResyncReason; at: number } | null = null;
  /** Price → when its level last changed (performance.now()), for the flash. */
  readonly changedAt = new Map<number, number>();
  dropNextDeltas = 0;
  corruptNextDeltas = 0;

  constructor(
    readonly sym: string,
    readonly depth: number,
    /** Sends unsub+sub for this book in one frame; resolves when both are answered. */
    private readonly resubscribe: () => Promise<unknown>,
    private readonly now: () => number,
  ) {
    this.book = new LocalBook(sym);
  }

  /** Applies one message of this market; true when the book changed. */
  apply(msg: BookMessage): boolean {
    if (msg.snapshot !== true && this.dropNextDeltas > 0) {
      this.dropNextDeltas--;
      return false;
    }
    if (msg.snapshot !== true && this.corruptNextDeltas > 0) {
      this.corruptNextDeltas--;
      msg = { ...msg, cs: (msg.cs ^ 1) >>> 0 };
    }
    // A snapshot ends a resync whatever its checksum says, so a bad one starts another.
    if (msg.snapshot === true) this.state = 'waiting';
    const result = this.book.apply(msg);
    if (result.ok) {
      this.checksumsVerified++;
      this.state = 'synced';
      const at = this.now();
      if (msg.snapshot === true) this.changedAt.clear();
      else for (const [px] of msg.bids.concat(msg.asks)) this.changedAt.set(px, at);
      this.#forgetOldFlashes(at);
      return true;
    }
    // A delta still in flight from before the resync: the coming snapshot replaces it.
    if (result.reason === 'no_snapshot') return false;
    this.#resync(result.reason);
    return true;
  }

  /** True while the level at `px` changed within the flash period. */
  flashing(px: number, at: number): boolean {
    const changed = this.changedAt.get(px);
    return changed !== undefined && at - changed < FLASH_MS;
  }

  #resync(reason: ResyncReason): void {
    this.resyncs++;
    this.lastResync = { reason, at: this.now() };
    if (this.state === 'resyncing') return;
    this.state = 'resyncing';
    this.resubscribe().catch(() => {
      // The connection went away; the reconnect subscribes afresh.
    });
  }

  #forgetOldFlashes(at: number): void {
    if (this.changedAt.size < 256) return;
    for (const [px, changed] of this.changedAt) if (at - changed >= FLASH_MS) this.changedAt.delete(px);
  }
}
