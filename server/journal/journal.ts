// The durable log as the server uses it: group-committed records through the writer, a snapshot
// every N commands (counted from the newest snapshot, across restarts) or M milliseconds (captured
// at a batch boundary, written once that batch is durable), and retirement of the segments a
// snapshot makes unnecessary.
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineState } from '../engine/engine-state.js';
import type { MarketDataState } from '../market-data/market-stats.js';
import type { JournalEntry, CommandCodec } from './command-codec.js';
import { JournalWriter, type JournalFileSystem } from './journal-writer.js';
import { pruneSnapshots, writeSnapshot } from './snapshot-store.js';
import { listSegments, listSnapshots, seqOfName } from './file-names.js';

export interface JournalOptions {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly nextSeq: number;
  readonly chain: number;
  readonly fsync: boolean;
  readonly segmentBytes: number;
  readonly snapshotEveryCommands: number;
  /**
   * Commands already journaled since the newest snapshot (recovery's next seq minus the
   * snapshot's seq). Counting them keeps the size rule across restarts: a server that crashes
   * before it ever reaches N commands in one life would otherwise never snapshot.
   */
  readonly commandsSinceSnapshot?: number;
  readonly snapshotEveryMs: number;
  /** Keep retired segments (for replay of whole sessions) instead of deleting them. */
  readonly keepJournal: boolean;
  readonly codec: CommandCodec;
  readonly fileSystem?: JournalFileSystem;
  readonly captureState: () => { engine: EngineState; bookSeqs: Record<string, number>; marketData?: MarketDataState };
  readonly clock: () => number;
  readonly log: { info(fields: object, msg: string): void; error(fields: object, msg: string): void };
  /**
   * The lowest seq a reader behind the journal still needs (the write-behind's slowest sink, which
   * restores from a snapshot at or before its applied seq and reads on from there). Retirement
   * keeps that snapshot and every segment after it. Absent: only the two newest snapshots count.
   */
  readonly retainFromSeq?: () => number;
}

export class Journal {
  private readonly writer: JournalWriter;
  private commandsSinceSnapshot: number;
  private lastSnapshotAt: number;
  private snapshotting: Promise<void> | null = null;
  private durableSeqValue: number;
  snapshotsWritten = 0;

  constructor(private readonly options: JournalOptions) {
    this.writer = new JournalWriter({
      dir: options.journalDir,
      nextSeq: options.nextSeq,
      chain: options.chain,
      segmentBytes: options.segmentBytes,
      fsync: options.fsync,
      codec: options.codec,
      ...(options.fileSystem ? { fileSystem: options.fileSystem } : {}),
    });
    this.lastSnapshotAt = options.clock();
    this.durableSeqValue = options.nextSeq - 1;
    this.commandsSinceSnapshot = options.commandsSinceSnapshot ?? 0;
  }

  /**
   * Takes a snapshot now if the journal since the last one is already over the size rule (call
   * after recovery, before serving): everything recovered is durable, so it is written at once.
   */
  snapshotIfDue(): void {
    if (this.commandsSinceSnapshot >= this.options.snapshotEveryCommands && this.snapshotting === null) this.snapshot(Promise.resolve());
  }

  get failed(): Error | null {
    return this.writer.failed;
  }

  /** The last seq appended; ahead of durableSeq while a group is in flight, and after a failure. */
  get lastSeq(): number {
    return this.writer.nextSeq - 1;
  }

  /** The body of the record the last commit appended. */
  get lastBody(): Uint8Array | null {
    return this.writer.lastBody;
  }

  /** The last seq on disk: what a restart recovers, and what a failed journal still holds. */
  get durableSeq(): number {
    return this.durableSeqValue;
  }

  get stats(): { groups: number; records: number } {
    return { groups: this.writer.groups, records: this.writer.records };
  }

  /**
   * Journals one batch; call at the batch boundary, right after the engine applied it. A cluster's
   * core passes the bus position its commands were read up to (recovered as `busCursor`).
   */
  commit(entries: readonly JournalEntry[], busCursor: string | null = null): Promise<void> {
    const durable = this.writer.append(entries, busCursor);
    const seq = this.writer.nextSeq - 1;
    // Groups resolve in order, and before any caller's own continuation (registered later) runs.
    durable.then(
      () => {
        this.durableSeqValue = seq;
      },
      () => undefined,
    );
    this.commandsSinceSnapshot += entries.length;
    const due =
      this.commandsSinceSnapshot >= this.options.snapshotEveryCommands ||
      this.options.clock() - this.lastSnapshotAt >= this.options.snapshotEveryMs;
    if (due && this.snapshotting === null) this.snapshot(durable);
    return durable;
  }

  /** Captures the state now, at a batch boundary; writes it once `durable` (that batch) resolves. */
  private snapshot(durable: Promise<void>): void {
    const state = this.options.captureState();
    const journalSeq = this.writer.nextSeq - 1;
    const chain = this.writer.chain;
    this.commandsSinceSnapshot = 0;
    this.lastSnapshotAt = this.options.clock();
    this.snapshotting = durable
      .then(() => this.writeAndRetire({ journalSeq, chain, ...state }))
      .catch((error: unknown) => this.options.log.error({ err: error }, 'snapshot failed; the journal still has everything'))
      .finally(() => {
        this.snapshotting = null;
      });
  }

  async close(): Promise<void> {
    await this.writer.close();
    await this.snapshotting;
  }

  private async writeAndRetire(contents: Parameters<typeof writeSnapshot>[1]): Promise<void> {
    const name = await writeSnapshot(this.options.snapshotDir, contents, this.options.fsync);
    this.snapshotsWritten++;
    this.options.log.info({ snapshot: name, journalSeq: contents.journalSeq }, 'snapshot written');
    if (this.options.retainFromSeq) return this.retireForReader(this.options.retainFromSeq());
    await pruneSnapshots(this.options.snapshotDir, 2);
    // Retire only what the older kept snapshot covers, so it can still serve if the newer is bad.
    const oldestKept = (await listSnapshots(this.options.snapshotDir))[0];
    if (!this.options.keepJournal && oldestKept) this.retireSegments(seqOfName(oldestKept));
  }

  /** As above, plus the newest snapshot before `retainFromSeq`; with none, nothing is retired. */
  private async retireForReader(retainFromSeq: number): Promise<void> {
    const names = await listSnapshots(this.options.snapshotDir);
    const restorable = names.filter((name) => seqOfName(name) < retainFromSeq).at(-1);
    const kept = new Set(names.slice(-2));
    if (restorable !== undefined) kept.add(restorable);
    for (const name of names) if (!kept.has(name)) unlinkSync(join(this.options.snapshotDir, name));
    const oldestKept = Math.min(...[...kept].map(seqOfName));
    if (!this.options.keepJournal && restorable !== undefined) this.retireSegments(oldestKept);
  }

  /** Deletes segments all of whose records are at or before `journalSeq`; never the newest. */
  private retireSegments(journalSeq: number): void {
    const segments = listSegments(this.options.journalDir);
    for (let i = 0; i + 1 < segments.length; i++) {
      const nextFirstSeq = seqOfName(segments[i + 1]!);
      if (nextFirstSeq <= journalSeq + 1) unlinkSync(join(this.options.journalDir, segments[i]!));
    }
  }
}

/** Removes leftovers of an interrupted snapshot write. */
export function removeTempFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.endsWith('.tmp')) unlinkSync(join(dir, name));
}
