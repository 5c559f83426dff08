// Regenerates a sink's EventBatches from the journal. Each sink has its own follower with its own
// engine, restored at the sink's applied seq exactly as recovery restores the server (the newest
// snapshot at or before it, then journal replay; read-only), and then fed the durable records as
// they come through the same deterministic engine. So a batch holds exactly what clients were told,
// sinks never wait for each other, and a sink that is down holds nothing but its one batch in
// memory: the journal is the buffer.
import type { BalanceView, MarketInfo, OrderView } from '../../protocol/messages.js';
import { restoreEngine } from '../engine/engine-state.js';
import { MatchingEngine } from '../engine/engine.js';
import type { EngineLimits } from '../engine/types.js';
import type { CommandCodec } from '../journal/command-codec.js';
import { JournalCorruption, readJournal, type JournalRecord } from '../journal/journal-reader.js';
import { applyRecord, applyRecordQuietly } from '../journal/recovery.js';
import { loadNewestSnapshot } from '../journal/snapshot-store.js';
import type { BookTop, EventBatch, PersistedCommand } from './event-batch.js';
import { JournalTail, type TailPosition } from '../journal/journal-tail.js';
import { listSegments, seqOfName } from '../journal/file-names.js';

export interface JournalFollowerOptions {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly markets: readonly MarketInfo[];
  readonly limits: EngineLimits;
  readonly codec: CommandCodec;
  /** Book levels per side in each batch's depth snapshot. */
  readonly depth: number;
  /** A batch closes once it holds this many commands (records are never split). */
  readonly maxBatchCommands: number;
  readonly log: { warn(fields: object, msg: string): void };
}

const YIELD_EVERY_RECORDS = 1_000;

/** Commands read for a batch that is not sealed yet (see JournalFollower.apply and seal). */
export class BatchBuilder {
  readonly commands: PersistedCommand[] = [];
  readonly changedBooks = new Set<string>();
  /** Last seq applied into this batch. */
  toSeq = 0;
}

export class JournalGap extends Error {
  constructor(sink: string, appliedSeq: number, detail: string) {
    super(`sink ${sink} applied up to ${appliedSeq} but the journal cannot continue from there: ${detail}`);
    this.name = 'JournalGap';
  }
}

export class JournalFollower {
  private constructor(
    private readonly options: JournalFollowerOptions,
    private readonly engine: MatchingEngine,
    private readonly bookSeqs: Map<string, number>,
    private readonly tail: JournalTail,
    /** Commands at or below this are replayed into the engine but not handed to the sink. */
    private readonly skipThrough: number,
  ) {}

  /** A follower whose next batch starts right after `appliedSeq`. */
  static async open(sinkName: string, appliedSeq: number, options: JournalFollowerOptions): Promise<JournalFollower> {
    const snapshot = await loadNewestSnapshot(
      options.snapshotDir,
      (name, error) => options.log.warn({ sink: sinkName, snapshot: name, err: error.message }, 'skipping unreadable snapshot'),
      appliedSeq,
    );
    const engine = snapshot
      ? restoreEngine(options.markets, options.limits, snapshot.contents.engine)
      : new MatchingEngine(options.markets, options.limits);
    const bookSeqs = new Map(options.markets.map((m) => [m.sym, snapshot?.contents.bookSeqs[m.sym] ?? 0]));
    let position: TailPosition = { segment: null, offset: 0, chain: snapshot?.contents.chain ?? 0, nextSeq: (snapshot?.contents.journalSeq ?? 0) + 1 };
    const first = listSegments(options.journalDir)[0];
    if (first !== undefined && seqOfName(first) > position.nextSeq) {
      throw new JournalGap(sinkName, appliedSeq, `it needs seq ${position.nextSeq} but its oldest segment is ${first}`);
    }
    try {
      let replayed = 0;
      for (const record of readJournal(options.journalDir, { fromSeq: position.nextSeq, chainBefore: position.chain, codec: options.codec })) {
        // A sink rebuilt while the server trades must not hold the event loop for the whole replay.
        if (++replayed % YIELD_EVERY_RECORDS === 0) await new Promise((resolve) => setImmediate(resolve));
        if (record.seq + record.count - 1 > appliedSeq) {
          position = { segment: record.segment, offset: record.offset, chain: position.chain, nextSeq: record.seq };
          break;
        }
        // Already applied by the sink: only the state matters, so no event objects are built.
        applyRecordQuietly(engine, bookSeqs, record.seq, record.entries);
        // Restart at this record and skip it: its length is not part of JournalRecord.
        position = { segment: record.segment, offset: record.offset, chain: record.chain, nextSeq: record.seq + record.count };
      }
    } catch (error) {
      if (error instanceof JournalCorruption) throw new JournalGap(sinkName, appliedSeq, error.message);
      throw error;
    }
    return new JournalFollower(options, engine, bookSeqs, new JournalTail(options.journalDir, options.codec, position), appliedSeq);
  }

  /** The last journal seq run through this follower's engine. */
  get readSeq(): number {
    return this.tail.nextSeq - 1;
  }

  /** The next batch from what is durable up to `durableSeq`; null when there is nothing new. */
  async next(durableSeq: number): Promise<EventBatch | null> {
    const builder = new BatchBuilder();
    while (builder.commands.length < this.options.maxBatchCommands) {
      const records = await this.read(durableSeq, this.options.maxBatchCommands - builder.commands.length);
      if (records.length === 0) break;
      this.apply(builder, records);
    }
    return this.seal(builder);
  }

  /** Durable records after the last one read, about `maxCommands` at most (whole records); not yet applied. */
  read(durableSeq: number, maxCommands: number): Promise<JournalRecord[]> {
    return this.tail.read(durableSeq, maxCommands);
  }

  /**
   * Runs `records` (the next ones `read` returned, in order) through the engine into `builder`.
   * Synchronous, so the engine is always at the end of the last record applied: the depth snapshot
   * `seal` takes is the book as of the builder's last seq as long as nothing is applied after it.
   */
  apply(builder: BatchBuilder, records: readonly JournalRecord[]): void {
    for (const record of records) {
      const replayed = applyRecord(this.engine, this.bookSeqs, record.seq, record.entries);
      const toSeq = record.seq + record.count - 1;
      if (toSeq <= this.skipThrough) continue;
      builder.toSeq = toSeq;
      for (const sym of replayed.bookSeqs.keys()) builder.changedBooks.add(sym);
      const { results } = replayed;
      for (let index = 0; index < results.length; index++) {
        const seq = record.seq + index;
        if (seq <= this.skipThrough) continue;
        const entry = record.entries[index]!;
        builder.commands.push({ seq, command: entry.command, id: entry.id, events: results[index]!.events });
      }
    }
  }

  /** The batch `builder` holds, with each changed book as it is now; null when it holds no command. */
  seal(builder: BatchBuilder): EventBatch | null {
    const { commands } = builder;
    if (commands.length === 0) return null;
    const books: BookTop[] = [];
    for (const sym of builder.changedBooks) books.push(this.book(sym));
    return { fromSeq: commands[0]!.seq, toSeq: builder.toSeq, commands, books };
  }

  /** A market's book as of the last seq applied, with its market-data seq. */
  book(sym: string): BookTop {
    return {
      sym,
      seq: this.bookSeqs.get(sym) ?? 0,
      bids: this.engine.levels(sym, 'buy', this.options.depth),
      asks: this.engine.levels(sym, 'sell', this.options.depth),
    };
  }

  /** An account's open orders as of the last seq applied. */
  openOrders(account: string): OrderView[] {
    return this.engine.openOrders(account, null);
  }

  /** An account's balances as of the last seq applied. */
  balances(account: string): BalanceView[] {
    return this.engine.balances(account);
  }

  close(): Promise<void> {
    return this.tail.close();
  }
}
