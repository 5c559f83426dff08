// Finds a captured session on disk: a data dir (with journal/, snapshots/ and markets.json) or a
// bare journal dir, and the markets it was written with. Read-only: nothing here writes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MarketInfo } from '../../protocol/messages.js';
import { DEMO_MARKETS, parseMarkets } from '../config.js';

export interface SessionPaths {
  readonly journalDir: string;
  readonly snapshotDir: string;
  readonly markets: readonly MarketInfo[];
}

export function locateSession(dir: string, marketsFile: string | null): SessionPaths {
  const isDataDir = existsSync(join(dir, 'journal'));
  const dataDir = isDataDir ? dir : dirname(dir);
  const journalDir = isDataDir ? join(dir, 'journal') : dir;
  if (!existsSync(journalDir)) throw new Error(`no journal at ${dir}`);
  const recorded = join(dataDir, 'markets.json');
  const source = marketsFile ?? (existsSync(recorded) ? recorded : null);
  const markets = source === null ? DEMO_MARKETS : parseMarkets(JSON.parse(readFileSync(source, 'utf8')) as unknown, source);
  return { journalDir, snapshotDir: join(dataDir, 'snapshots'), markets };
}
