// Where one sink's runner gets its batches: the shared feed while the sink keeps up with it, a
// journal follower of its own otherwise (a sink rebuilt from an older seq, or one the feed cut
// loose after it held the others back). A sink reading on its own stops at the feed's batch
// boundaries and rejoins as soon as it reaches one the feed still holds; either way it gets the
// same commands with the same events, whole records, in journal order.
import type { BatchFeed, DurableSource, FeedCursor } from './batch-feed.js';
import type { EventBatch } from './event-batch.js';
import type { JournalFollower } from './journal-follower.js';

export class BatchSource {
  private cursor: FeedCursor | null = null;
  private own: JournalFollower | null = null;
  /** First seq not yet handed to the runner. */
  private nextSeq: number;

  constructor(
    appliedSeq: number,
    private readonly feed: BatchFeed,
    private readonly openFollower: (appliedSeq: number) => Promise<JournalFollower>,
    private readonly durable: DurableSource,
  ) {
    this.nextSeq = appliedSeq + 1;
  }

  /** Whether the batches come from the shared feed right now. */
  get shared(): boolean {
    return this.cursor !== null;
  }

  /** Whether the sink's calls are failing: a failing sink does not hold the shared feed back. */
  setFailing(failing: boolean): void {
    if (this.cursor !== null && this.cursor.failing !== failing) {
      this.cursor.failing = failing;
      this.feed.poke();
    }
  }

  /** The next batch after the last one handed out; waits for durable records. Throws when aborted. */
  async next(signal: AbortSignal): Promise<EventBatch> {
    for (;;) {
      signal.throwIfAborted();
      if (this.cursor !== null) {
        const batch = await this.feed.take(this.cursor, signal);
        if (batch !== null) return this.handOut(batch);
        this.cursor = null; // cut loose: read on our own from here
        continue;
      }
      const joined = await this.feed.join(this.nextSeq, this.own);
      if (joined !== null) {
        this.feed.forget(this);
        if (!joined.adopted) await this.own?.close();
        this.own = null;
        this.cursor = joined.cursor;
        continue;
      }
      this.own ??= await this.openFollower(this.nextSeq - 1);
      const durableSeq = this.durable.seq;
      const limit = this.feed.readLimit(this, this.nextSeq, durableSeq);
      if (limit >= this.nextSeq) {
        const batch = await this.own.next(limit);
        if (batch !== null) return this.handOut(batch);
      }
      await this.durable.waitBeyond(this.nextSeq - 1, signal);
    }
  }

  /** Starts again after `appliedSeq` (the sink lost data and is rebuilt from the journal). */
  async restart(appliedSeq: number): Promise<void> {
    await this.leave();
    this.nextSeq = appliedSeq + 1;
  }

  async close(): Promise<void> {
    await this.leave();
  }

  private async leave(): Promise<void> {
    if (this.cursor !== null) this.feed.leave(this.cursor);
    this.cursor = null;
    this.feed.forget(this);
    await this.own?.close();
    this.own = null;
  }

  private handOut(batch: EventBatch): EventBatch {
    this.nextSeq = batch.toSeq + 1;
    return batch;
  }
}
