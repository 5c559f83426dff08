// bench:write-behind's source journal: maker/taker pairs that each trade once, executed on an
// engine and committed the way the server commits them, funding first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import type { EngineCommand } from '../../server/engine/types.js';
import { createCommandCodec, type JournalEntry } from '../../server/journal/command-codec.js';
import type { Journal } from '../../server/journal/journal.js';
import { fundAccounts } from './funding.js';
import { openScratchJournal } from './scratch-journal.js';

export const MARKETS = [{ sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 }];
export const LIMITS = { maxOpenOrdersPerAccount: 1_000_000 };
const ACCOUNTS_PER_ROLE = 1000;
const ACCOUNTS = ['maker', 'taker'].flatMap((role) => Array.from({ length: ACCOUNTS_PER_ROLE }, (_, i) => `${role}-${i}`));

/** A journal written the way the server writes it: engine first, then one record per batch. */
export class BenchJournal {
  readonly dir = mkdtempSync(join(tmpdir(), 'spotwire-bench-wb-'));
  readonly journalDir = join(this.dir, 'journal');
  readonly snapshotDir = join(this.dir, 'snapshots');
  readonly engine = new MatchingEngine(MARKETS, LIMITS);
  readonly codec = createCommandCodec();
  readonly journal: Journal;
  private round = 0;

  constructor(retainFromSeq?: () => number) {
    this.journal = openScratchJournal({
      journalDir: this.journalDir,
      snapshotDir: this.snapshotDir,
      codec: this.codec,
      captureState: () => ({ engine: exportEngineState(this.engine), bookSeqs: {} }),
      clock: () => Date.now(),
      ...(retainFromSeq ? { retainFromSeq } : {}),
    });
  }

  /** `trades` maker/taker pairs (one trade each) as one record; the first also carries the deposits. */
  commit(trades: number): Promise<void> {
    // Journaled, not just executed: the pipeline replays from seq 0 and must fund as this engine did.
    const entries: JournalEntry[] = this.round === 0 ? fundAccounts(this.engine, ACCOUNTS) : [];
    const ts = Date.now();
    for (let i = 0; i < trades; i++, this.round++) {
      const px = 10_000 + (this.round % 5);
      const base = { op: 'place', ts, sym: 'BTC-USD', kind: 'limit', px, qty: 2, tif: 'gtc', post: false, stp: 'none', cid: null } as const;
      for (const command of [
        { ...base, account: `maker-${this.round % ACCOUNTS_PER_ROLE}`, side: 'sell' },
        { ...base, account: `taker-${this.round % ACCOUNTS_PER_ROLE}`, side: 'buy' },
      ] as EngineCommand[]) {
        const result = this.engine.execute(command);
        // Every pair must trade (lags and rates are per trade): a reject ends the bench.
        if (!result.ok) throw new Error(`bench command rejected: ${result.code} (${result.msg})`);
        entries.push({ command, id: result.id ?? null });
      }
    }
    return this.journal.commit(entries);
  }

  async close(): Promise<void> {
    await this.journal.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
