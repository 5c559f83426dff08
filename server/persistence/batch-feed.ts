// Where every sink's runner gets its batches: one journal replay shared by every sink that keeps up.
// The feed owns one JournalFollower and keeps a window of the batches it made, from the oldest one a
// reading sink still needs; each sink reads it at its own place (FeedReader). While the sinks await
// their I/O, the feed replays ahead (bounded by the window), so replay and sink writes overlap. A
// sink that holds a full window while another waits is cut loose at once if its calls are failing
// (an outage, a hung call), after `stallMs` if it is only slow: it reads on with a follower of its
// own, stopping at the feed's batch boundaries, and rejoins at one the window still holds. A slow
// sink that works is kept in step: cutting it loose costs a second replay (and one from its snapshot
// to open its follower) on the same thread. Either way a sink gets the same commands with the same
// events, whole records, in journal order; memory stays bounded, the journal is the buffer.
import type { Clock } from './resilience/clock.js';
import { mergeBatches, type EventBatch } from './event-batch.js';
import { BatchBuilder, type JournalFollower } from './journal-follower.js';
import type { WriteBehindTuning } from './setup.js';

/** The journal seq known durable, and a way to wait for it to move past a point. */
export interface DurableSource {
  readonly seq: number;
  waitBeyond(seq: number, signal: AbortSignal): Promise<void>;
}

/** Replay ahead in steps of about this many commands, so sink callbacks are not held up for long. */
const READ_AHEAD_STEP_COMMANDS = 1_000;

/** One sink's place: in the feed at `index`, or on a follower of its own (`own`) until it can join. */
export class FeedReader {
  /** Whether its batches come from the shared feed (the feed may have cut it loose since). */
  shared = false;
  /** Index of the next feed batch it takes. */
  index = 0;
  waiting = false;
  /** Its sink's last call failed (retrying, breaker open): it is cut loose as soon as it holds the others. */
  failing = false;
  own: JournalFollower | null = null;
  /** First seq not yet handed to the sink. */
  nextSeq: number;

  /** For the sink `name`, whose first batch starts right after `appliedSeq`. */
  constructor(
    readonly name: string,
    appliedSeq: number,
  ) {
    this.nextSeq = appliedSeq + 1;
  }
}

export interface BatchFeedDeps {
  /** A follower whose next batch starts after `appliedSeq`; `name` says whose it is in its errors. */
  readonly openFollower: (name: string, appliedSeq: number) => Promise<JournalFollower>;
  readonly durable: DurableSource;
  readonly clock: Clock;
  readonly tuning: WriteBehindTuning;
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
  /** The readers in the feed (not cut loose). */
  private readonly readers = new Set<FeedReader>();
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private producer: Promise<void> | null = null;
  /** The producer's read in flight: the follower is not replaced or closed under it. */
  private reading: Promise<unknown> = Promise.resolve();
  private stalledSince: number | null = null;
  private opening: Promise<void> | null = null;
  /** Seqs where a reader with its own follower will be next: a batch closes right before each. */
  private readonly joinPoints = new Map<FeedReader, number>();

  constructor(private readonly deps: BatchFeedDeps) {}

  /** Last seq replayed by the feed's follower (0 before it opens). */
  get readSeq(): number {
    return this.follower?.readSeq ?? 0;
  }

  /** The next batch after the last one `reader` got; waits for durable records. Throws when aborted. */
  async next(reader: FeedReader, signal: AbortSignal): Promise<EventBatch> {
    const { durable, openFollower } = this.deps;
    for (;;) {
      signal.throwIfAborted();
      if (reader.shared) {
        const batch = await this.take(reader, signal);
        if (batch !== null) return handOut(reader, batch);
        reader.shared = false; // cut loose: read on its own from here
        continue;
      }
      if (await this.join(reader)) continue;
      reader.own ??= await openFollower(reader.name, reader.nextSeq - 1);
      const limit = this.readLimit(reader, durable.seq);
      if (limit >= reader.nextSeq) {
        const batch = await reader.own.next(limit);
        if (batch !== null) return handOut(reader, batch);
      }
      await durable.waitBeyond(reader.nextSeq - 1, signal);
    }
  }

  /** Whether the reader's sink is failing: a failing sink does not hold the feed back. */
  setFailing(reader: FeedReader, failing: boolean): void {
    if (reader.shared && reader.failing !== failing) {
      reader.failing = failing;
      this.wake();
    }
  }

  /** The reader is done: its sink stops, or starts again from an older seq with a new reader. */
  release(reader: FeedReader): Promise<void> {
    this.leave(reader);
    reader.shared = false;
    this.joinPoints.delete(reader);
    const own = reader.own;
    reader.own = null;
    return own?.close() ?? Promise.resolve();
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

  /**
   * Puts `reader` in the feed, if the feed can serve it from its next seq (else it reads on its own
   * and tries again later). A feed nobody reads moves to the reader, taking over its own follower
   * when it has one.
   */
  private async join(reader: FeedReader): Promise<boolean> {
    const { nextSeq, own } = reader;
    while (this.opening !== null) await this.opening;
    if (this.abort.signal.aborted) return false;
    // A reader right after what the feed replayed joins at once: what is replayed becomes a batch.
    if (this.follower !== null && nextSeq === this.follower.readSeq + 1 && this.builder.commands.length > 0) this.sealOpen();
    const index = this.indexStarting(nextSeq);
    if (index !== null) return this.admit(reader, index, false);
    if (this.readers.size > 0) return false;
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
    if (this.abort.signal.aborted) return false;
    return this.admit(reader, this.base + this.batches.length, own !== null);
  }

  /** Adds the reader at `index`; its own follower is closed unless the feed `adopted` it. */
  private async admit(reader: FeedReader, index: number, adopted: boolean): Promise<true> {
    reader.index = index;
    reader.waiting = false;
    reader.failing = false;
    this.readers.add(reader);
    this.ensureProducer();
    this.wake();
    this.joinPoints.delete(reader);
    if (!adopted) await reader.own?.close();
    reader.own = null;
    reader.shared = true;
    return true;
  }

  /**
   * The last seq the reader's own follower may read so that it stops at a batch boundary of the
   * feed (where it can join), capped at `durableSeq`.
   */
  private readLimit(reader: FeedReader, durableSeq: number): number {
    const { nextSeq } = reader;
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

  /**
   * The next batch for `reader`: consecutive sealed batches merged up to the batch size. Waits
   * until there is one; null once the reader was cut loose (see stallMs).
   */
  private async take(reader: FeedReader, signal: AbortSignal): Promise<EventBatch | null> {
    for (;;) {
      if (!this.readers.has(reader)) return null;
      signal.throwIfAborted();
      const first = reader.index - this.base;
      if (first < this.batches.length) {
        const taken: EventBatch[] = [this.batches[first]!];
        let commands = taken[0]!.commands.length;
        for (let i = first + 1; i < this.batches.length; i++) {
          const batch = this.batches[i]!;
          if (commands + batch.commands.length > this.deps.tuning.maxBatchCommands) break;
          taken.push(batch);
          commands += batch.commands.length;
        }
        reader.index += taken.length;
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
      reader.waiting = true;
      this.checkStall();
      try {
        await this.changed(signal);
      } finally {
        reader.waiting = false;
      }
    }
  }

  /** The reader no longer reads the feed (it rebuilds, stops, or the feed failed). */
  private leave(reader: FeedReader): void {
    if (!this.readers.delete(reader)) return;
    this.trim();
    this.wake();
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
    this.follower = own ?? (await this.deps.openFollower('shared', nextSeq - 1));
    this.headSeq = nextSeq;
  }

  private sealOpen(): void {
    const batch = this.follower!.seal(this.builder);
    this.builder = new BatchBuilder();
    if (batch === null) return;
    this.batches.push(batch);
    this.headSeq = batch.toSeq + 1;
  }

  /** Index of the next batch the slowest reader in the feed takes (Infinity when none). */
  private lowestIndex(): number {
    let lowest = Infinity;
    for (const reader of this.readers) lowest = Math.min(lowest, reader.index);
    return lowest;
  }

  /** Drops the batches every reader has read. */
  private trim(): void {
    if (this.readers.size === 0) return;
    const drop = Math.min(this.lowestIndex() - this.base, this.batches.length);
    if (drop <= 0) return;
    this.batches.splice(0, drop);
    this.base += drop;
    this.stalledSince = null;
  }

  /** Commands and batches held from the slowest reader on. */
  private windowFull(): boolean {
    const { tuning } = this.deps;
    const from = Math.max(0, this.lowestIndex() - this.base);
    let commands = this.builder.commands.length;
    for (let i = from; i < this.batches.length; i++) commands += this.batches[i]!.commands.length;
    return commands >= tuning.windowCommands || this.batches.length - from >= tuning.windowBatches;
  }

  /** Cuts loose the slowest readers when a full window has kept another reader waiting for stallMs. */
  private checkStall(): void {
    const { clock, tuning } = this.deps;
    const someoneWaits = [...this.readers].some((reader) => reader.waiting);
    if (!someoneWaits || !this.windowFull()) {
      this.stalledSince = null;
      return;
    }
    const now = clock.now();
    const lowest = this.lowestIndex();
    const holding = [...this.readers].filter((reader) => reader.index === lowest && !reader.waiting);
    if (this.stalledSince === null) {
      this.stalledSince = now;
      clock.sleep(tuning.stallMs, this.abort.signal).then(
        () => this.wake(),
        () => undefined,
      );
    }
    const stalled = now - this.stalledSince >= tuning.stallMs;
    if (!stalled && !holding.some((reader) => reader.failing)) return;
    for (const reader of holding) {
      if (stalled || reader.failing) this.readers.delete(reader);
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
        if (follower === null || this.readers.size === 0 || this.windowFull()) {
          await this.changed(signal);
          continue;
        }
        const durable = this.deps.durable;
        if (durable.seq <= follower.readSeq) {
          await this.durableOrChange(follower.readSeq, signal);
          continue;
        }
        const { maxBatchCommands } = this.deps.tuning;
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
      for (const reader of [...this.readers]) this.leave(reader);
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

  /** Resolves at the next change of the feed (a batch made or taken, a reader added or gone). */
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

function handOut(reader: FeedReader, batch: EventBatch): EventBatch {
  reader.nextSeq = batch.toSeq + 1;
  return batch;
}
