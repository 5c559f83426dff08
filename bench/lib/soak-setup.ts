// What the soaks start their child servers with: two markets and one funded trader key per
// account. Kept here, not in test/, because benches do not import tests; the kill -9 test uses the
// crash harness's funding from here too.
import type { MarketInfo } from '../../protocol/messages.js';
import type { ApiKey } from '../../server/config.js';

export const SOAK_MARKETS: readonly MarketInfo[] = [
  { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 },
  { sym: 'ETH-USD', base: 'ETH', quote: 'USD', pxDecimals: 2, qtyDecimals: 4, makerFee: 0, takerFee: 0 },
];

/** Per asset and account: ample for any soak order, and far below the per-asset supply cap. */
export const SOAK_FUNDING: Readonly<Record<string, number>> = { BTC: 1e12, ETH: 1e12, USD: 1e14 };

/** `token-<account>`, a funded trader, for each account. */
export function soakKeys(accounts: readonly string[]): ApiKey[] {
  return accounts.map((account) => ({ token: `token-${account}`, account, role: 'trader', deposit: SOAK_FUNDING }));
}
