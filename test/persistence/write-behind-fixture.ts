// Builds a real journal on disk from engine commands (one record per call to `commit`), and reads
// it back as EventBatches through a JournalFollower: what the write-behind hands its sinks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import type { EngineCommand } from '../../server/engine/types.js';
import { createCommandCodec, type JournalEntry } from '../../server/journal/command-codec.js';
import type { Journal } from '../../server/journal/journal.js';
import { openScratchJournal } from '../../bench/lib/scratch-journal.js';
import type { EventBatch, PersistedCommand } from '../../server/persistence/event-batch.js';
import { JournalFollower, type JournalFollowerOptions } from '../../server/persistence/journal-follower.js';
import { fundingCommands, MARKETS } from '../support/engine-fixtures.js';

export const LIMITS = { maxOpenOrdersPerAccount: 10_000 };
const FIXTURE_ACCOUNTS = ['alice', 'bob', 'carol', 'dave', 'erin'];
/** The seqs of the funding record every fixture journal starts with. */
export const FUNDING_RECORD_COMMANDS = FIXTURE_ACCOUNTS.length * 3;
export const silentLog = pino({ level: 'silent' });

export class JournalFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'spotwire-wb-'));
  readonly journalDir = join(this.dir, 'journal');
  readonly snapshotDir = join(this.dir, 'snapshots');
  readonly engine = new MatchingEngine(MARKETS, LIMITS);
  readonly codec = createCommandCodec();
  readonly journal: Journal;
  /** Market-data seq per market, advanced per record as the gateway does per batch. */
  readonly bookSeqs = new Map<string, number>();
  /** What the engine produced live for every journaled command, by seq. */
  readonly live: PersistedCommand[] = [];
  private funded = false;

  constructor(options: { snapshotEveryCommands?: number; segmentBytes?: number; retainFromSeq?: () => number } = {}) {
    this.journal = openScratchJournal({
      journalDir: this.journalDir,
      snapshotDir: this.snapshotDir,
      snapshotEveryCommands: options.snapshotEveryCommands ?? 1_000_000,
      codec: this.codec,
      captureState: () => ({ engine: exportEngineState(this.engine), bookSeqs: Object.fromEntries(this.bookSeqs) }),
      clock: () => 0,
      ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
      ...(options.retainFromSeq ? { retainFromSeq: options.retainFromSeq } : {}),
    });
  }

  /** Runs the commands through the engine and journals the accepted ones as one record. */
  /** Where a pipeline or worker started on this fixture reads: its journal, from the start. */
  get journalSource(): { journalDir: string; snapshotDir: string; markets: typeof MARKETS; limits: typeof LIMITS; durableSeq: number } {
    return { journalDir: this.journalDir, snapshotDir: this.snapshotDir, markets: MARKETS, limits: LIMITS, durableSeq: 0 };
  }

  async commit(commands: readonly EngineCommand[]): Promise<void> {
    const entries: JournalEntry[] = [];
    const changed = new Set<string>();
    // The first record funds the test accounts, as a server funds configured keys at start.
    if (!this.funded) {
      this.funded = true;
      await this.commit(fundingCommands(FIXTURE_ACCOUNTS));
    }
    for (const command of commands) {
      const result = this.engine.execute(command);
      if (result.ok) {
        const id = command.op === 'place' ? (result.id ?? null) : null;
        entries.push({ command, id });
        this.live.push({ seq: this.journal.lastSeq + entries.length, command, id, events: result.events });
      }
      for (const event of result.events) if (event.kind === 'level') changed.add(event.sym);
    }
    for (const sym of changed) this.bookSeqs.set(sym, (this.bookSeqs.get(sym) ?? 0) + 1);
    if (entries.length > 0) await this.journal.commit(entries);
  }

  /** Follower options over this journal (depth 10 unless a test needs the write-behind's 50). */
  followerOptions(maxBatchCommands = 5_000, depth = 10): JournalFollowerOptions {
    return {
      journalDir: this.journalDir,
      snapshotDir: this.snapshotDir,
      markets: MARKETS,
      limits: LIMITS,
      codec: this.codec,
      depth,
      maxBatchCommands,
      log: silentLog,
    };
  }

  follower(appliedSeq: number, maxBatchCommands = 5_000, depth = 10): Promise<JournalFollower> {
    return JournalFollower.open('test', appliedSeq, this.followerOptions(maxBatchCommands, depth));
  }

  /** Every batch after `appliedSeq` up to the journal's end. */
  async batches(appliedSeq = 0, maxBatchCommands = 5_000, depth = 10): Promise<EventBatch[]> {
    const follower = await this.follower(appliedSeq, maxBatchCommands, depth);
    const batches: EventBatch[] = [];
    for (let batch = await follower.next(this.journal.lastSeq); batch; batch = await follower.next(this.journal.lastSeq))
      batches.push(batch);
    await follower.close();
    return batches;
  }

  async close(): Promise<void> {
    await this.journal.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
