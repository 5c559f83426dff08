// Start-up recovery: the newest valid snapshot, then every journal record after it replayed
// through the same engine, batch by batch, so order ids, trade ids and market-data seqs continue
// exactly where they were. Market data (candles, ticker windows, recent trades) is rebuilt the same
// way when asked for: the snapshot's, then the trades of every replayed record. A torn tail is cut off (it was never acknowledged); corruption anywhere
// else refuses to start.
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { MarketInfo } from '../../protocol/messages.js';
import { restoreEngine } from '../engine/engine-state.js';
import { MatchingEngine } from '../engine/engine.js';
import { ChangedBooks, TradesAndChangedBooks } from '../engine/engine-listener.js';
import type { CommandResult, EngineLimits } from '../engine/types.js';
import { MarketStats } from '../market-data/market-stats.js';
import type { CommandCodec, JournalEntry } from './command-codec.js';
import { readJournal, type TornTail } from './journal-reader.js';
import { loadNewestSnapshot } from './snapshot-store.js';

export interface RecoveryLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface RecoveryOptions {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly markets: readonly MarketInfo[];
  readonly limits: EngineLimits;
  readonly codec: CommandCodec;
  readonly log: RecoveryLog;
  /** Cut a torn tail off the segment file (the server does; read-only tools do not). */
  readonly truncateTornTail: boolean;
  /** Recover the state as of this sequence number at most (replay seeking). */
  readonly toSeq?: number;
  /**
   * Rebuild market data too (the server and replay --serve): every record is then replayed with
   * its events, for their trades.
   */
  readonly marketData?: boolean;
  /** Called after each replayed record, for progress bars and replay output. */
  readonly onRecord?: (record: ReplayedRecord) => void;
  /** Give the event loop a turn after this many records (a follower rebuilt while others run). */
  readonly yieldEveryRecords?: number;
}

export interface ReplayedRecord {
  readonly seq: number;
  readonly entries: readonly JournalEntry[];
  readonly results: readonly CommandResult[];
  /** Markets whose book changed in this batch, each with its new market-data seq. */
  readonly bookSeqs: ReadonlyMap<string, number>;
}

export interface RecoveredState {
  readonly engine: MatchingEngine;
  readonly bookSeqs: Map<string, number>;
  /** With `marketData`: as the live gateway had it after the last record replayed; else null. */
  readonly marketStats: MarketStats | null;
  /** The next journal sequence number to assign. */
  readonly nextSeq: number;
  readonly chain: number;
  readonly snapshotSeq: number;
  /** The chain value of the snapshot's last record: where reading the journal after it starts. */
  readonly snapshotChain: number;
  /** A cluster core's bus position: the last one a record or the snapshot holds (null: none). */
  readonly busCursor: string | null;
  readonly replayedCommands: number;
  readonly replayedRecords: number;
  readonly tornTail: TornTail | null;
}

export class ReplayDivergence extends Error {
  constructor(seq: number, detail: string) {
    super(`replay diverged at journal sequence ${seq}: ${detail}`);
    this.name = 'ReplayDivergence';
  }
}

/** Runs one journaled command and checks that the engine accepts it as it did live. */
export function executeEntry(engine: MatchingEngine, seq: number, entry: JournalEntry): CommandResult {
  const result = engine.execute(entry.command);
  // Only accepted commands are journaled, so a reject now means the engine is not deterministic.
  if (!result.ok) throw new ReplayDivergence(seq, `journaled command was rejected now (${result.code})`);
  if (entry.id !== null && result.id !== entry.id) {
    throw new ReplayDivergence(seq, `order id ${String(result.id)} where the journal recorded ${entry.id}`);
  }
  return result;
}

/**
 * Applies one journal record (one live batch) to the engine and advances the market-data seq of
 * every market whose book it changed, exactly as the gateway did when it was live.
 */
export function applyRecord(
  engine: MatchingEngine,
  bookSeqs: Map<string, number>,
  seq: number,
  entries: readonly JournalEntry[],
): ReplayedRecord {
  const results: CommandResult[] = [];
  const changed = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) {
    const result = executeEntry(engine, seq + i, entries[i]!);
    for (const event of result.events) if (event.kind === 'level') changed.set(event.sym, 0);
    results.push(result);
  }
  for (const sym of changed.keys()) {
    const next = (bookSeqs.get(sym) ?? 0) + 1;
    bookSeqs.set(sym, next);
    changed.set(sym, next);
  }
  return { seq, entries, results, bookSeqs: changed };
}

/**
 * applyRecord for a replay whose events nobody reads (start-up recovery, seeking): the engine
 * builds no event objects, only which books changed, so the market-data seqs advance exactly as
 * with applyRecord. With `listener`, that one collects (e.g. the trades too).
 */
export function applyRecordQuietly(
  engine: MatchingEngine,
  bookSeqs: Map<string, number>,
  seq: number,
  entries: readonly JournalEntry[],
  listener: ChangedBooks = new ChangedBooks(),
): void {
  engine.withListener(listener, () => {
    for (let i = 0; i < entries.length; i++) executeEntry(engine, seq + i, entries[i]!);
  });
  for (const sym of listener.syms) bookSeqs.set(sym, (bookSeqs.get(sym) ?? 0) + 1);
}

export async function recover(options: RecoveryOptions): Promise<RecoveredState> {
  const { log } = options;
  const snapshot = await loadNewestSnapshot(
    options.snapshotDir,
    (name, error) => log.warn({ snapshot: name, err: error.message }, 'skipping unreadable snapshot'),
    options.toSeq,
  );
  const engine = snapshot
    ? restoreEngine(options.markets, options.limits, snapshot.contents.engine)
    : new MatchingEngine(options.markets, options.limits);
  const bookSeqs = new Map<string, number>(options.markets.map((m) => [m.sym, snapshot?.contents.bookSeqs[m.sym] ?? 0]));
  const snapshotSeq = snapshot?.contents.journalSeq ?? 0;
  let chain = snapshot?.contents.chain ?? 0;
  const snapshotChain = chain;
  let busCursor = snapshot?.contents.busCursor ?? null;
  let nextSeq = snapshotSeq + 1;
  let replayedCommands = 0;
  let replayedRecords = 0;
  let tornTail: TornTail | null = null;
  if (snapshot) log.info({ snapshot: snapshot.name, journalSeq: snapshotSeq }, 'loaded snapshot');
  const marketStats =
    options.marketData === true
      ? new MarketStats(
          options.markets.map((m) => m.sym),
          snapshot?.contents.marketData,
        )
      : null;

  const records = readJournal(options.journalDir, {
    fromSeq: nextSeq,
    chainBefore: chain,
    codec: options.codec,
    onTornTail: (tail) => {
      tornTail = tail;
    },
  });
  for (const record of records) {
    if (options.toSeq !== undefined && record.seq + record.count - 1 > options.toSeq) break;
    if (options.yieldEveryRecords !== undefined && replayedRecords > 0 && replayedRecords % options.yieldEveryRecords === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Only an onRecord caller reads the events of replayed commands; market data needs the trades.
    if (options.onRecord) {
      const replayed = applyRecord(engine, bookSeqs, record.seq, record.entries);
      marketStats?.applyRecord(replayed.entries, replayed.results);
      options.onRecord(replayed);
    } else if (marketStats) {
      const listener = new TradesAndChangedBooks();
      applyRecordQuietly(engine, bookSeqs, record.seq, record.entries, listener);
      marketStats.applyTrades(record.entries[0]!.command.ts, listener.trades);
    } else {
      applyRecordQuietly(engine, bookSeqs, record.seq, record.entries);
    }
    chain = record.chain;
    if (record.busCursor !== null) busCursor = record.busCursor;
    nextSeq = record.seq + record.count;
    replayedCommands += record.count;
    replayedRecords++;
  }
  const torn = tornTail as TornTail | null;
  if (torn) {
    log.warn(
      { segment: torn.segment, offset: torn.offset, reason: torn.reason },
      'journal ends in a torn record (never acknowledged); cutting it off',
    );
    if (options.truncateTornTail) truncateSync(join(options.journalDir, torn.segment), torn.offset);
  }
  return {
    engine,
    bookSeqs,
    marketStats,
    nextSeq,
    chain,
    snapshotSeq,
    snapshotChain,
    busCursor,
    replayedCommands,
    replayedRecords,
    tornTail: torn,
  };
}
