// Regenerates a sink's EventBatches from the journal. Each sink has its own follower with its own
// engine, restored at the sink's applied seq exactly as recovery restores the server (the newest
// snapshot at or before it, then journal replay; read-only), and then fed the durable records as
// they come through the same deterministic engine. So a batch holds exactly what clients were told,
// sinks never wait for each other, and a sink that is down holds nothing but its one batch in
// memory: the journal is the buffer.
import type { BalanceView, MarketInfo, OrderView } from '../../protocol/messages.js';
import type { MatchingEngine } from '../engine/engine.js';
import type { EngineLimits } from '../engine/types.js';
import type { CommandCodec } from '../journal/command-codec.js';
import { JournalCorruption, type JournalRecord } from '../journal/journal-reader.js';
import { applyRecord, recover } from '../journal/recovery.js';
import type { BookTop, EventBatch, PersistedCommand } from './event-batch.js';
import { JournalTail, type TailPosition } from '../journal/journal-tail.js';

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

  /**
   * A follower whose next batch starts right after `appliedSeq`: the server's recovery, stopped at
   * the last whole record the sink has applied (a record it applied only part of is read again,
   * and its applied commands skipped).
   */
  static async open(sinkName: string, appliedSeq: number, options: JournalFollowerOptions): Promise<JournalFollower> {
    let recovered;
    try {
      recovered = await recover({
        journalDir: options.journalDir,
        snapshotDir: options.snapshotDir,
        markets: options.markets,
        limits: options.limits,
        codec: options.codec,
        // A record being written past the durable seq looks torn to a reader: normal, not news.
        log: {
          info: () => undefined,
          warn: (fields, msg) => (msg.includes('torn record') ? undefined : options.log.warn({ sink: sinkName, ...fields }, msg)),
        },
        truncateTornTail: false,
        toSeq: appliedSeq,
        yieldEveryRecords: YIELD_EVERY_RECORDS,
      });
    } catch (error) {
      if (error instanceof JournalCorruption) throw new JournalGap(sinkName, appliedSeq, error.message);
      throw error;
    }
    const position: TailPosition = { segment: null, offset: 0, chain: recovered.chain, nextSeq: recovered.nextSeq };
    return new JournalFollower(
      options,
      recovered.engine,
      recovered.bookSeqs,
      new JournalTail(options.journalDir, options.codec, position),
      appliedSeq,
    );
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
