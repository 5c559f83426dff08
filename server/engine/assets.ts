// Ledger units (docs/PROTOCOL.md "Accounts and money"): every asset a market names gets the fewest
// decimals that make each market's conversions exact, and each market gets the integer scales that
// turn a fill's lots and ticks into those units.
import type { AssetInfo, MarketInfo } from '../../protocol/messages.js';

/** One market's money rules, resolved once: asset indexes into the ledger, scales and fee rates. */
export interface MarketMoney {
  readonly base: string;
  readonly quote: string;
  readonly baseAsset: number;
  readonly quoteAsset: number;
  /** Ledger units of base per lot: 10^(d_base − qtyDecimals). */
  readonly baseScale: number;
  /** Ledger units of quote per tick·lot: 10^(d_quote − pxDecimals − qtyDecimals). */
  readonly quoteScale: number;
  readonly makerFee: number;
  readonly takerFee: number;
  /** Both fees are 0: settlement skips the fee arithmetic. */
  readonly feeFree: boolean;
}

/** Every asset with its decimals, sorted by name (the `assets` of the markets reply). */
export function deriveAssets(markets: readonly MarketInfo[]): AssetInfo[] {
  const decimals = new Map<string, number>();
  const atLeast = (asset: string, d: number): void => {
    decimals.set(asset, Math.max(decimals.get(asset) ?? 0, d));
  };
  for (const market of markets) {
    atLeast(market.base, market.qtyDecimals);
    atLeast(market.quote, market.pxDecimals + market.qtyDecimals);
  }
  return [...decimals.keys()].sort().map((asset) => ({ asset, decimals: decimals.get(asset)! }));
}

export function marketMoney(market: MarketInfo, assets: readonly AssetInfo[]): MarketMoney {
  const indexOf = (name: string): number => assets.findIndex((a) => a.asset === name);
  const baseAsset = indexOf(market.base);
  const quoteAsset = indexOf(market.quote);
  return {
    base: market.base,
    quote: market.quote,
    baseAsset,
    quoteAsset,
    baseScale: 10 ** (assets[baseAsset]!.decimals - market.qtyDecimals),
    quoteScale: 10 ** (assets[quoteAsset]!.decimals - market.pxDecimals - market.qtyDecimals),
    makerFee: market.makerFee,
    takerFee: market.takerFee,
    feeFree: market.makerFee === 0 && market.takerFee === 0,
  };
}

/** a·b·c when it is a safe integer, else -1. Exact: a product below 2^53 of integers is exact in a double. */
export function safeProduct(a: number, b: number, c: number): number {
  const ab = a * b;
  if (!Number.isSafeInteger(ab)) return -1;
  const abc = ab * c;
  return Number.isSafeInteger(abc) ? abc : -1;
}
