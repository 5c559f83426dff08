// Money for the benches' accounts (protocol 1.1): an order beyond its account's available funds is
// rejected, so an unfunded bench measures rejects, not matching. One amount for every account and
// asset, ample for any bench order and small enough that each asset's supply (summed over all
// accounts, capped at 2^53 − 1 units) has room for about 9,000 accounts; the largest bench funds 2,000.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MarketInfo } from '../../protocol/messages.js';
import { deriveAssets } from '../../server/engine/assets.js';
import type { MatchingEngine } from '../../server/engine/engine.js';
import type { TransferCommand } from '../../server/engine/types.js';
import type { JournalEntry } from '../../server/journal/command-codec.js';

/** Ledger units per account and asset: 10,000 USD at 8 decimals, 1,000,000 BTC at 6. */
export const BENCH_FUNDING = 1e12;

/**
 * Deposits BENCH_FUNDING of every asset of the engine's markets to each account, and returns them
 * as journal entries: a bench that journals and later replays writes these first, so the replay
 * funds the accounts as the live engine did; an engine-only bench ignores them.
 */
export function fundAccounts(engine: MatchingEngine, accounts: Iterable<string>): JournalEntry[] {
  const assets = engine.assets.map((a) => a.asset);
  const deposits = [...new Set(accounts)].flatMap((account) =>
    assets.map((asset): TransferCommand => ({
      op: 'deposit',
      ts: 0,
      account,
      asset,
      amount: BENCH_FUNDING,
      ref: `fund:${account}:${asset}`,
    })),
  );
  return deposits.map((command) => {
    const result = engine.execute(command);
    if (!result.ok) throw new Error(`bench funding of ${command.account} ${command.asset} rejected: ${result.msg}`);
    return { command, id: null };
  });
}

export interface FundedKey {
  readonly token: string;
  readonly account: string;
  readonly deposit: Readonly<Record<string, number>>;
}

/** Keys-file entries whose accounts the server funds at start, in every asset of `markets`. */
export function fundedKeys(keys: readonly { token: string; account: string }[], markets: readonly MarketInfo[]): FundedKey[] {
  const deposit = Object.fromEntries(deriveAssets(markets).map((a) => [a.asset, BENCH_FUNDING]));
  return keys.map(({ token, account }) => ({ token, account, deposit }));
}

/**
 * What the load benches start a child server with: `count` funded bot keys (tokens
 * bench-token-0…, accounts bot0…) written to `dir`/keys.json, and the flags every such server
 * takes (any port, loopback, no rate limit or per-address cap, info logs for the port line).
 */
export function benchServerSetup(dir: string, count: number, markets: readonly MarketInfo[]): { tokens: string[]; args: string[] } {
  const tokens = Array.from({ length: count }, (_, i) => `bench-token-${i}`);
  const keysFile = join(dir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify(
      fundedKeys(
        tokens.map((token, i) => ({ token, account: `bot${i}` })),
        markets,
      ),
    ),
  );
  const args = [
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--keys',
    keysFile,
    '--rate-limit',
    '1000000000',
    '--max-connections-per-ip',
    '0',
    '--log-level',
    'info',
  ];
  return { tokens, args };
}
