// The markets a data dir's journal was written with, kept in <dataDir>/markets.json. The journal
// holds commands by symbol, and replaying them under other market definitions rebuilds another
// state (or diverges), so a start compares before it writes anything: markets may be added (the
// file is append-only), never removed or changed. Markets are compared field by field over every
// key either side has, so a field added to MarketInfo later is covered without a list to update;
// an added market must also leave the decimals of every asset already in use as they were.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { MarketInfo } from '../protocol/messages.js';
import { deriveAssets } from './engine/assets.js';

export class MarketsChanged extends Error {
  override readonly name = 'MarketsChanged';
  constructor(
    readonly recordedFile: string,
    readonly differences: readonly string[],
  ) {
    super(
      `the markets given do not match the ones this data dir's journal was written with (${recordedFile}): ` +
        `${differences.join('; ')}. Markets may be added, not removed or changed; nothing was written`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  return value === undefined ? '(absent)' : JSON.stringify(value);
}

/** What removing or changing `recorded` into `configured` would do, one line per difference; [] when none. */
export function marketDifferences(recorded: readonly Record<string, unknown>[], configured: readonly MarketInfo[]): string[] {
  const bySym = new Map<unknown, Record<string, unknown>>(configured.map((market) => [market.sym, { ...market }]));
  const differences: string[] = [];
  for (const old of recorded) {
    const now = bySym.get(old.sym);
    if (now === undefined) {
      differences.push(`${String(old.sym)} is missing`);
      continue;
    }
    for (const key of new Set([...Object.keys(old), ...Object.keys(now)])) {
      if (JSON.stringify(old[key]) !== JSON.stringify(now[key])) {
        differences.push(`${String(old.sym)} ${key} was ${describeValue(old[key])}, now ${describeValue(now[key])}`);
      }
    }
  }
  // An added market may not change the decimals of an asset already in use: every balance and
  // hold of it is counted in those units.
  const isMarket = (m: Record<string, unknown>): boolean =>
    typeof m.base === 'string' && typeof m.quote === 'string' && Number.isInteger(m.pxDecimals) && Number.isInteger(m.qtyDecimals);
  if (recorded.every(isMarket)) {
    const before = new Map(deriveAssets(recorded as unknown as MarketInfo[]).map((a) => [a.asset, a.decimals]));
    for (const { asset, decimals } of deriveAssets(configured)) {
      const was = before.get(asset);
      if (was !== undefined && was !== decimals)
        differences.push(`asset ${asset} would change from ${was} to ${decimals} decimals (balances are counted in its units)`);
    }
  }
  return differences;
}

function readRecorded(file: string): Record<string, unknown>[] | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file} (the markets this data dir's journal was written with) is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isRecord)) throw new Error(`${file} is not a JSON array of markets`);
  return parsed;
}

/**
 * Refuses (MarketsChanged) when `markets` removes or changes a market recorded in `file`. A data
 * dir without the file (a new one) takes any markets. Writes nothing.
 */
export function checkRecordedMarkets(file: string, markets: readonly MarketInfo[]): void {
  const recorded = readRecorded(file);
  if (recorded === null) return;
  const differences = marketDifferences(recorded, markets);
  if (differences.length > 0) throw new MarketsChanged(file, differences);
}

/** Records the markets the server runs with; whole or not at all (temp file, then rename). */
export function recordMarkets(file: string, markets: readonly MarketInfo[]): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(markets, null, 2));
  renameSync(`${file}.tmp`, file);
}
