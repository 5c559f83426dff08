// One journal replay shared by every sink that keeps up. The feed owns one JournalFollower and
// keeps a window of the batches it made, from the oldest one a reading sink still needs; each sink
// reads the window with its own cursor. While the sinks await their I/O, the feed replays ahead
// (bounded by the window), so replay and sink writes overlap. A sink that holds a full window while
// another waits is cut loose at once if its calls are failing (an outage, a hung call), after
// `stallMs` if it is only slow: it goes on with a follower of its own (batch-source.ts) and
// rejoins when it reaches the window. A slow sink that works is kept in step: cutting it loose
// costs a second replay (and one from its snapshot to open its follower) on the same thread.
// Memory stays bounded by the window; the journal stays the buffer.
import type { Clock } from './resilience/clock.js';
import type { BookTop, EventBatch } from './event-batch.js';
import { BatchBuilder, type JournalFollower } from './journal-follower.js';

/** The journal seq known durable, and a way to wait for it to move past a point. */
export interface DurableSource {
  readonly seq: number;
  waitBeyond(seq: number, signal: AbortSignal): Promise<void>;
}

export interface FeedLimits {
  /** A batch closes once it holds this many commands (records are never split). */
  readonly maxBatchCommands: number;
  /** Commands held ahead of the slowest sink reading the feed (the open batch included). */
  readonly maxCommands: number;
  /** Batches held ahead of the slowest sink reading the feed. */
  readonly maxBatches: number;
  /**
   * How long a full window may wait for its slowest reader before that reader is cut loose when
   * its sink is not failing, only slow (a failing one is cut loose at once).
   */
  readonly stallMs: number;
}

export const DEFAULT_FEED_LIMITS: FeedLimits = { maxBatchCommands: 5_000, maxCommands: 20_000, maxBatches: 64, stallMs: 5_000 };

/** Replay ahead in steps of about this many commands, so sink callbacks are not held up for long. */
const READ_AHEAD_STEP_COMMANDS = 1_000;

/** One sink's place in the feed: the index of the next batch it reads. */
export class FeedCursor {
  detached = false;
  waiting = false;
  /** Its sink's last call failed (retrying, breaker open): it is cut loose as soon as it holds the others. */
  failing = false;
  constructor(public index: number) {}
}

/**
 * Consecutive batches as one: the commands in order and each changed book as of the last batch
 * that changed it, in the order the books first changed (what one follower batch over the same
 * range holds, byte for byte).
 */
export function mergeBatches(batches: readonly EventBatch[]): EventBatch {
  if (batches.length === 1) return batches[0]!;
  const books = new Map<string, BookTop>();
  const commands = [];
  for (const batch of batches) {
    for (const command of batch.commands) commands.push(command);
    for (const book of batch.books) books.set(book.sym, book);
  }
  return { fromSeq: batches[0]!.fromSeq, toSeq: batches[batches.length - 1]!.toSeq, commands, books: [...books.values()] };
}

export interface BatchFeedDeps {
  readonly openFollower: (appliedSeq: number) => Promise<JournalFollower>;
  readonly durable: DurableSource;
  readonly clock: Clock;
  readonly limits: FeedLimits;
}

export class BatchFeed {
  private follower: JournalFollower | null = null;
  /** Sealed batches, oldest first; batches[0] has index `base`. */
  private batches: EventBatch[] = [];
  private base = 0;
  /** The batch being replayed into; its index is base + batches.length. */
  private builder = new BatchBuilder();
  /** First seq not in a sealed batch (the open batch starts here). */
  private headSeq = 0;
  private readonly cursors = new Set<FeedCursor>();
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private producer: Promise<void> | null = null;
  /** The producer's read in flight: the follower is not replaced or closed under it. */
  private reading: Promise<unknown> = Promise.resolve();
  private stalledSince: number | null = null;
  private opening: Promise<void> | null = null;
  /** Seqs where a reader with its own follower will be next: a batch closes right before each. */
  private readonly joinPoints = new Map<object, number>();

  constructor(private readonly deps: BatchFeedDeps) {}

  /** Last seq replayed by the feed's follower (0 before it opens). */
  get readSeq(): number {
    return this.follower?.readSeq ?? 0;
  }

  /**
   * A cursor whose first batch starts at `nextSeq`, or null if the feed cannot serve it from
   * there (the caller reads on its own and tries again later). A feed nobody reads moves to
   * `nextSeq`, taking over `own` (a follower whose next seq is `nextSeq`) when one is given.
   * `adopted` tells the caller that the feed now owns `own`.
   */
  async join(nextSeq: number, own: JournalFollower | null): Promise<{ cursor: FeedCursor; adopted: boolean } | null> {
    while (this.opening !== null) await this.opening;
    if (this.abort.signal.aborted) return null;
    // A reader right after what the feed replayed joins at once: what is replayed becomes a batch.
    if (this.follower !== null && nextSeq === this.follower.readSeq + 1 && this.builder.commands.length > 0) this.sealOpen();
    const index = this.indexStarting(nextSeq);
    if (index !== null) return { cursor: this.addCursor(index), adopted: false };
    if (this.cursors.size > 0) return null;
    // Nobody reads the feed: move it to this reader (no await before `opening` is set).
    const moving = this.moveTo(nextSeq, own);
    this.opening = moving.then(
      () => undefined,
      () => undefined,
    );
    try {
      await moving;
    } finally {
      this.opening = null;
    }
    if (this.abort.signal.aborted) return null;
    return { cursor: this.addCursor(this.base + this.batches.length), adopted: own !== null };
  }

  /**
   * The last seq a follower starting at `nextSeq` may read so that it stops at a batch boundary of
   * the feed (where it can join), capped at `durableSeq`.
   */
  readLimit(reader: object, nextSeq: number, durableSeq: number): number {
    this.joinPoints.delete(reader);
    if (this.follower === null) return durableSeq;
    const start = this.batches[0]?.fromSeq ?? this.headSeq;
    if (nextSeq < start) return Math.min(durableSeq, start - 1);
    for (const batch of this.batches) if (nextSeq > batch.fromSeq && nextSeq <= batch.toSeq) return Math.min(durableSeq, batch.toSeq);
    if (nextSeq > this.headSeq && nextSeq <= this.follower.readSeq) {
      // Inside the open batch: close it here, and the reader stops at its end.
      this.sealOpen();
      return Math.min(durableSeq, this.headSeq - 1);
    }
    // At or past what the feed replayed: the feed closes a batch where the reader will be.
    this.joinPoints.set(reader, nextSeq);
    return durableSeq;
  }

  /** The reader no longer wants to join (it joined, or stops). */
  forget(reader: object): void {
    this.joinPoints.delete(reader);
  }

  /**
   * The next batch for `cursor`: consecutive sealed batches merged up to the batch size. Waits
   * until there is one; null once the cursor was cut loose (see stallMs).
   */
  async take(cursor: FeedCursor, signal: AbortSignal): Promise<EventBatch | null> {
    for (;;) {
      if (cursor.detached) return null;
      signal.throwIfAborted();
      const first = cursor.index - this.base;
      if (first < this.batches.length) {
        const taken: EventBatch[] = [this.batches[first]!];
        let commands = taken[0]!.commands.length;
        for (let i = first + 1; i < this.batches.length; i++) {
          const batch = this.batches[i]!;
          if (commands + batch.commands.length > this.deps.limits.maxBatchCommands) break;
          taken.push(batch);
          commands += batch.commands.length;
        }
        cursor.index += taken.length;
        this.trim();
        this.wake();
        return mergeBatches(taken);
      }
      // What is replayed already goes out now rather than after the next read.
      if (this.builder.commands.length > 0) {
        this.sealOpen();
        continue;
      }
      this.ensureProducer();
      cursor.waiting = true;
      this.checkStall();
      try {
        await this.changed(signal);
      } finally {
        cursor.waiting = false;
      }
    }
  }

  /** Re-checks waiting readers (a cursor's sink started or stopped failing). */
  poke(): void {
    this.wake();
  }

  /** The sink behind `cursor` no longer reads the feed (it rebuilds, or stops). */
  leave(cursor: FeedCursor): void {
    if (!this.cursors.delete(cursor)) return;
    cursor.detached = true;
    this.trim();
    this.wake();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('write-behind stopping'));
    this.wake();
    await this.producer;
    await this.reading;
    await this.opening;
    await this.follower?.close();
    this.follower = null;
  }

  private addCursor(index: number): FeedCursor {
    const cursor = new FeedCursor(index);
    this.cursors.add(cursor);
    this.ensureProducer();
    this.wake();
    return cursor;
  }

  private indexStarting(nextSeq: number): number | null {
    if (this.follower === null) return null;
    for (let i = 0; i < this.batches.length; i++) if (this.batches[i]!.fromSeq === nextSeq) return this.base + i;
    if (nextSeq !== this.headSeq) return null;
    if (this.builder.commands.length === 0) return this.base + this.batches.length;
    // The open batch starts where the reader is: it becomes the reader's first batch.
    this.sealOpen();
    const last = this.batches[this.batches.length - 1];
    return last?.fromSeq === nextSeq ? this.base + this.batches.length - 1 : null;
  }

  private async moveTo(nextSeq: number, own: JournalFollower | null): Promise<void> {
    await this.reading;
    const previous = this.follower;
    this.follower = null;
    await previous?.close();
    this.base += this.batches.length + 1;
    this.batches = [];
    this.builder = new BatchBuilder();
    this.follower = own ?? (await this.deps.openFollower(nextSeq - 1));
    this.headSeq = nextSeq;
  }

  private sealOpen(): void {
    const batch = this.follower!.seal(this.builder);
    this.builder = new BatchBuilder();
    if (batch === null) return;
    this.batches.push(batch);
    this.headSeq = batch.toSeq + 1;
  }

  /** Drops the batches every cursor has read. */
  private trim(): void {
    if (this.cursors.size === 0) return;
    let lowest = Infinity;
    for (const cursor of this.cursors) lowest = Math.min(lowest, cursor.index);
    const drop = Math.min(lowest - this.base, this.batches.length);
    if (drop <= 0) return;
    this.batches.splice(0, drop);
    this.base += drop;
    this.stalledSince = null;
  }

  /** Commands and batches held from the slowest cursor on. */
  private windowFull(): boolean {
    const { limits } = this.deps;
    let lowest = Infinity;
    for (const cursor of this.cursors) lowest = Math.min(lowest, cursor.index);
    const from = Math.max(0, lowest - this.base);
    let commands = this.builder.commands.length;
    for (let i = from; i < this.batches.length; i++) commands += this.batches[i]!.commands.length;
    return commands >= limits.maxCommands || this.batches.length - from >= limits.maxBatches;
  }

  /** Cuts loose the slowest cursors when a full window has kept another cursor waiting for stallMs. */
  private checkStall(): void {
    const { clock, limits } = this.deps;
    const someoneWaits = [...this.cursors].some((cursor) => cursor.waiting);
    if (!someoneWaits || !this.windowFull()) {
      this.stalledSince = null;
      return;
    }
    const now = clock.now();
    let lowest = Infinity;
    for (const cursor of this.cursors) lowest = Math.min(lowest, cursor.index);
    const holding = [...this.cursors].filter((cursor) => cursor.index === lowest && !cursor.waiting);
    if (this.stalledSince === null) {
      this.stalledSince = now;
      clock.sleep(limits.stallMs, this.abort.signal).then(
        () => this.wake(),
        () => undefined,
      );
    }
    const stalled = now - this.stalledSince >= limits.stallMs;
    if (!stalled && !holding.some((cursor) => cursor.failing)) return;
    for (const cursor of holding) {
      if (stalled || cursor.failing) {
        this.cursors.delete(cursor);
        cursor.detached = true;
      }
    }
    this.stalledSince = null;
    this.trim();
    this.wake();
  }

  private ensureProducer(): void {
    this.producer ??= this.produce().catch(() => undefined);
  }

  /**
   * Replays ahead while the window has room and someone reads the feed. A failure (a journal gap or
   * corruption) stops the feed: each sink then reads on its own and reports it.
   */
  private async produce(): Promise<void> {
    const signal = this.abort.signal;
    try {
      while (!signal.aborted) {
        const follower = this.follower;
        if (follower === null || this.cursors.size === 0 || this.windowFull()) {
          await this.changed(signal);
          continue;
        }
        const durable = this.deps.durable;
        if (durable.seq <= follower.readSeq) {
          await this.durableOrChange(follower.readSeq, signal);
          continue;
        }
        const { maxBatchCommands } = this.deps.limits;
        const room = Math.min(maxBatchCommands - this.builder.commands.length, READ_AHEAD_STEP_COMMANDS);
        const read = follower.read(durable.seq, Math.max(1, room));
        this.reading = read.catch(() => undefined);
        const records = await read;
        if (this.follower !== follower || signal.aborted) continue;
        if (records.length === 0) {
          // Durable but not readable yet (the next segment is being created): look again shortly.
          await this.deps.clock.sleep(10, signal).catch(() => undefined);
          continue;
        }
        for (const record of records) {
          follower.apply(this.builder, [record]);
          if (this.isJoinPoint(record.seq + record.count)) this.sealOpen();
        }
        if (this.builder.commands.length >= maxBatchCommands) this.sealOpen();
        this.wake();
      }
    } catch (error) {
      // The followers the sinks open on their own meet the same error and report it.
      for (const cursor of [...this.cursors]) this.leave(cursor);
      this.abort.abort(error);
    } finally {
      this.producer = null;
    }
  }

  private isJoinPoint(seq: number): boolean {
    for (const point of this.joinPoints.values()) if (point === seq) return true;
    return false;
  }

  private durableOrChange(seq: number, signal: AbortSignal): Promise<void> {
    const either = new AbortController();
    const onAbort = (): void => either.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    return Promise.race([
      this.deps.durable.waitBeyond(seq, either.signal).catch(() => undefined),
      this.changed(either.signal).catch(() => undefined),
    ]).finally(() => {
      signal.removeEventListener('abort', onAbort);
      either.abort();
    });
  }

  /** Resolves at the next change of the feed (a batch made or taken, a cursor added or gone). */
  private changed(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((other) => other !== wake);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(wake);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
