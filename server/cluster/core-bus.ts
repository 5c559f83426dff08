// The core's side of the bus (docs/SCALING.md): it reads what the edges forward, runs each read as
// one batch of its own (journaled like any other), and once a batch's record is durable publishes it
// to the journal stream, with the origin of every forwarded command and the answers to those the
// journal does not hold. Every record the journal commits is published, in journal order, whatever
// its source: the edges replay that stream into their own engines, so it must be the journal.
//
// Reading stops while more than MAX_UNPUBLISHED records wait to be published (Redis away): the
// forwarded commands stay in Redis, bounded by its stream length, and the edges answer their
// waiting requests `unavailable` when their deadline passes.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Batch } from '../gateway/batch.js';
import type { RequestHandler } from '../gateway/request-handler.js';
import type { CommandCodec } from '../journal/command-codec.js';
import type { JournalRecord } from '../journal/journal-reader.js';
import { backoffDelay } from '../persistence/resilience/retry.js';
import {
  busKeys,
  decodeForwarded,
  decodeRecord,
  encodeRecord,
  encodeSnapshot,
  type BusKeys,
  type BusRecord,
  type BusSnapshot,
  type RecordAnswer,
  type RecordOrigin,
} from './bus-format.js';

export interface CoreBusOptions {
  readonly url: string;
  readonly prefix: string;
  readonly logger: Logger;
  readonly codec: CommandCodec;
  /** Runs `work` as a batch of its own, sealed and committed at once (Gateway.runBatch). */
  readonly runBatch: (work: (batch: Batch) => void) => void;
  readonly handler: RequestHandler;
  /** The state as of the batch just committed: published as the snapshot edges start from. */
  readonly captureSnapshot: () => BusSnapshot;
  /** How often a new snapshot is published when records were (ms). */
  readonly snapshotEveryMs: number;
  /** Entries the journal stream keeps (XADD MAXLEN ~, BUS_STREAM_MAXLEN). */
  readonly streamLength: number;
}

/** What a bus batch carries beyond its journal entries, keyed by the batch. */
interface BusBatchNotes {
  readonly origins: RecordOrigin[];
  readonly answers: RecordAnswer[];
}

const MAX_UNPUBLISHED = 256;
const READ_COUNT = 512;
const BLOCK_MS = 1_000;

export class CoreBus {
  private readonly keys: BusKeys;
  private readonly reader: Redis;
  private readonly writer: Redis;
  private readonly notes = new WeakMap<Batch, BusBatchNotes>();
  /** The last commands-stream id read: the next read starts after it. */
  private cursor = '$';
  private publishing: Promise<void> = Promise.resolve();
  private unpublished = 0;
  private lastSeq = 0;
  private lastSnapshotAt = 0;
  private recordsSinceSnapshot = 0;
  private stopped = false;
  private reading: Promise<void> | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  /** Redis's clock minus this one (ms): entry ids carry Redis time. */
  private redisClockOffset = 0;
  published = 0;
  forwarded = 0;
  expired = 0;

  constructor(private readonly options: CoreBusOptions) {
    this.keys = busKeys(options.prefix);
    const redisOptions = { maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 100, 1_000) };
    this.reader = new Redis(options.url, redisOptions);
    this.writer = new Redis(options.url, redisOptions);
    for (const connection of [this.reader, this.writer]) {
      connection.on('error', (error: Error) => options.logger.debug({ err: error.message }, 'bus connection error'));
    }
  }

  /**
   * Publishes what the journal holds beyond the bus's last record (a crash between the two), then
   * reads forwarded commands after the position the journal recorded (the stream's end if none).
   * `journalAfter` reads the journal's records from the last snapshot on; null when that no longer
   * reaches back to the bus's last record.
   */
  async start(
    journalSeq: number,
    cursor: string | null,
    journalAfter: (publishedSeq: number) => Iterable<JournalRecord> | null,
  ): Promise<void> {
    this.lastSeq = journalSeq;
    const newest = await this.writer.xrevrangeBuffer(this.keys.journal, '+', '-', 'COUNT', 1);
    const publishedSeq = newest.length === 0 ? 0 : decodeRecord(newest[0]![1][1]!).lastSeq;
    if (publishedSeq > journalSeq) {
      throw new Error(
        `the bus (${this.keys.journal}) has records up to seq ${publishedSeq}, this core's journal ends at ${journalSeq}: ` +
          'another data dir? Point the core at its own data dir, or give this cluster a new --redis-prefix',
      );
    }
    if (publishedSeq < journalSeq) this.republish(publishedSeq, journalAfter(publishedSeq));
    const [seconds, micros] = await this.writer.time();
    this.redisClockOffset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
    if (cursor !== null) this.cursor = cursor;
    else {
      // A fresh core serves what is forwarded from now on: older entries were never answered.
      const last = await this.writer.xrevrange(this.keys.commands, '+', '-', 'COUNT', 1);
      this.cursor = last[0]?.[0] ?? '0-0';
    }
    this.publishSnapshot();
    // A Redis that restarted empty has lost the snapshot: an idle core publishes it again.
    this.snapshotTimer = setInterval(() => void this.restoreSnapshotIfLost(), this.options.snapshotEveryMs);
    this.snapshotTimer.unref();
    this.reading = this.readLoop();
  }

  /** The commands-stream position up to which forwarded commands have been run (journaled in the record). */
  get position(): string {
    return this.cursor;
  }

  get backlog(): number {
    return this.unpublished;
  }

  /**
   * Called for every committed batch, in commit order, with the journal record's body: publishes
   * the record once `durable` resolves (at once when it journaled nothing but answers forwarded
   * commands). The body's trailing bus position is skipped by the edges' decode.
   */
  committed(batch: Batch, firstSeq: number, body: Uint8Array | null, durable: Promise<void> | undefined): void {
    const notes = this.notes.get(batch);
    if (batch.commands.length === 0 && (notes === undefined || notes.answers.length === 0)) return;
    const lastSeq = batch.commands.length === 0 ? this.lastSeq : firstSeq + batch.commands.length - 1;
    this.lastSeq = lastSeq;
    const record: BusRecord = {
      seq: batch.commands.length === 0 ? 0 : firstSeq,
      lastSeq,
      body: batch.commands.length === 0 ? null : body,
      origins: notes?.origins ?? [],
      answers: notes?.answers ?? [],
    };
    // Often enough by time, and by count: a snapshot older than what the stream still holds could
    // start no gateway (it would find the records after it trimmed).
    this.recordsSinceSnapshot++;
    const due =
      Date.now() - this.lastSnapshotAt >= this.options.snapshotEveryMs ||
      this.recordsSinceSnapshot >= Math.max(1, Math.floor(this.options.streamLength / 4));
    const snapshot = due ? this.options.captureSnapshot() : null;
    if (snapshot) {
      this.lastSnapshotAt = Date.now();
      this.recordsSinceSnapshot = 0;
    }
    this.unpublished++;
    this.publishing = this.publishing
      .then(() => durable)
      .then(
        () => this.publish(record, snapshot),
        () => {
          // Not journaled: the edges never see it (its requests time out), and the core halts.
          this.unpublished--;
        },
      );
  }

  /** Stops reading and waits for what is committed to be published. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    this.reader.disconnect();
    await this.reading?.catch(() => undefined);
    await this.publishing;
    this.writer.disconnect();
  }

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      if (this.unpublished >= MAX_UNPUBLISHED) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.reader.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', this.keys.commands, this.cursor)) as
          [string, [string, string[]][]][] | null;
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.warn({ err: (error as Error).message }, 'bus: cannot read forwarded commands; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (reply === null || this.stopped) continue;
      const entries = reply[0]![1] as unknown as [Buffer, Buffer[]][];
      this.runForwarded(entries);
    }
  }

  /** One read of forwarded commands as one batch: each command runs stamped with the core's time. */
  private runForwarded(entries: [Buffer, Buffer[]][]): void {
    this.options.runBatch((batch) => {
      const notes: BusBatchNotes = { origins: [], answers: [] };
      this.notes.set(batch, notes);
      const now = Date.now() + this.redisClockOffset;
      for (const [id, fields] of entries) {
        this.cursor = id.toString();
        const age = now - Number(this.cursor.slice(0, this.cursor.indexOf('-')));
        const value = fields[1];
        if (value === undefined) continue;
        let forwarded;
        try {
          forwarded = decodeForwarded(value, batch.ts);
        } catch (error) {
          this.options.logger.error({ err: (error as Error).message, id: this.cursor }, 'bus: skipping an undecodable forwarded entry');
          continue;
        }
        for (const { tag, command } of forwarded.commands) {
          this.forwarded++;
          const { orderEntry } = this.options.handler;
          if (age > forwarded.timeoutMs) {
            this.expired++;
            const msg = `not run: it waited ${age} ms for the core, past the gateway's ${forwarded.timeoutMs} ms`;
            notes.answers.push({ edge: forwarded.edge, tag, command, result: { ok: false, code: 'unavailable', msg } });
            continue;
          }
          if (orderEntry !== 'open') {
            const code = orderEntry === 'shutting_down' ? 'shutting_down' : 'internal';
            const msg = orderEntry === 'shutting_down' ? 'the core is shutting down' : 'the core halted: its journal cannot write';
            notes.answers.push({ edge: forwarded.edge, tag, command, result: { ok: false, code, msg } });
            continue;
          }
          const journaledBefore = batch.commands.length;
          const result = this.options.handler.execute(batch, command);
          if (batch.commands.length > journaledBefore) notes.origins.push({ index: journaledBefore, edge: forwarded.edge, tag });
          else if (!result.ok)
            notes.answers.push({ edge: forwarded.edge, tag, command, result: { ok: false, code: result.code, msg: result.msg } });
          else if (result.transfer)
            notes.answers.push({ edge: forwarded.edge, tag, command, result: { ok: true, transfer: result.transfer } });
          this.options.handler.completed(batch, null, command, result);
        }
      }
    });
  }

  private async publish(record: BusRecord, snapshot: BusSnapshot | null): Promise<void> {
    const bytes = encodeRecord(record);
    for (let attempt = 0; !this.stopped || attempt === 0; attempt++) {
      try {
        const pipeline = this.writer.multi();
        pipeline.xadd(this.keys.journal, 'MAXLEN', '~', this.options.streamLength, '*', 'r', bytes);
        if (snapshot) pipeline.set(this.keys.snapshot, encodeSnapshot(snapshot));
        await pipeline.exec();
        this.unpublished--;
        this.published++;
        return;
      } catch (error) {
        const delayMs = backoffDelay(attempt, { baseMs: 50, maxMs: 2_000, random: Math.random });
        this.options.logger.warn({ err: (error as Error).message, seq: record.seq, delayMs }, 'bus: cannot publish a record; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /** Journal records the bus never got, published now in order (their origins are lost: edges time those requests out). */
  private republish(publishedSeq: number, records: Iterable<JournalRecord> | null): void {
    if (records === null) {
      this.options.logger.warn(
        { publishedSeq },
        'bus: the journal no longer reaches back to the last published record; running gateways must restart',
      );
      return;
    }
    let count = 0;
    for (const record of records) {
      if (record.seq <= publishedSeq) continue;
      const lastSeq = record.seq + record.count - 1;
      const bus: BusRecord = { seq: record.seq, lastSeq, body: this.options.codec.encodeBatch(record.entries), origins: [], answers: [] };
      this.unpublished++;
      this.publishing = this.publishing.then(() => this.publish(bus, null));
      count++;
    }
    this.options.logger.info({ publishedSeq, records: count }, 'bus: republished journal records the bus did not have');
  }

  private async restoreSnapshotIfLost(): Promise<void> {
    try {
      if ((await this.writer.exists(this.keys.snapshot)) === 1 || this.stopped) return;
    } catch {
      return;
    }
    // Seal any open batch first: the state captured must be that of committed batches only.
    this.options.runBatch(() => undefined);
    this.publishSnapshot();
  }

  /** Publishes the state now (at start, so an edge can begin before the first record). */
  private publishSnapshot(): void {
    const snapshot = this.options.captureSnapshot();
    this.lastSnapshotAt = Date.now();
    this.unpublished++;
    this.publishing = this.publishing.then(async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.writer.set(this.keys.snapshot, encodeSnapshot(snapshot));
          break;
        } catch (error) {
          await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, { baseMs: 50, maxMs: 2_000, random: Math.random })));
          this.options.logger.warn({ err: (error as Error).message }, 'bus: cannot publish the snapshot; retrying');
        }
      }
      this.unpublished--;
    });
  }
}
