// The reference engine's money, written from docs/PROTOCOL.md "Accounts and money" alone: balances in
// BigInt, so no sum can silently lose precision, and holds restated from each order's rule after
// every change instead of tracked by increments as the fast ledger does.
import type { AssetInfo, BalanceView, MarketInfo } from '../../protocol/messages.js';
import type { TransferCommand, TransferEvent, TransferOutcome } from '../../server/engine/types.js';

export const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const RATE_SCALE = 1_000_000n;

export interface RefBalance {
  available: bigint;
  hold: bigint;
}

/** A market's conversions: lots to base units, ticks·lots to quote units. */
export interface RefMarketMoney {
  readonly base: string;
  readonly quote: string;
  readonly basePerLot: bigint;
  readonly quotePerTickLot: bigint;
  readonly makerRate: bigint;
  readonly takerRate: bigint;
}

/** Each asset's decimals: the least that makes every market's base and notional exact. */
export function referenceAssets(markets: readonly MarketInfo[]): AssetInfo[] {
  const decimals: Record<string, number> = {};
  for (const m of markets) {
    decimals[m.base] = Math.max(decimals[m.base] ?? 0, m.qtyDecimals);
    decimals[m.quote] = Math.max(decimals[m.quote] ?? 0, m.pxDecimals + m.qtyDecimals);
  }
  return Object.keys(decimals)
    .sort()
    .map((asset) => ({ asset, decimals: decimals[asset]! }));
}

export function referenceMoney(market: MarketInfo, assets: readonly AssetInfo[]): RefMarketMoney {
  const decimalsOf = (name: string): number => assets.find((a) => a.asset === name)!.decimals;
  return {
    base: market.base,
    quote: market.quote,
    basePerLot: 10n ** BigInt(decimalsOf(market.base) - market.qtyDecimals),
    quotePerTickLot: 10n ** BigInt(decimalsOf(market.quote) - market.pxDecimals - market.qtyDecimals),
    makerRate: BigInt(market.makerFee),
    takerRate: BigInt(market.takerFee),
  };
}

/** ceil((receivedTaker·takerRate + receivedMaker·makerRate) / 10^6): an order's fees so far. */
export function referenceFee(receivedTaker: bigint, takerRate: bigint, receivedMaker: bigint, makerRate: bigint): bigint {
  const scaled = receivedTaker * takerRate + receivedMaker * makerRate;
  return (scaled + RATE_SCALE - 1n) / RATE_SCALE;
}

/** What a ref was applied as. */
type RefTransfer = Pick<TransferCommand, 'op' | 'account' | 'asset' | 'amount'>;

export class ReferenceLedger {
  private readonly balances = new Map<string, Map<string, RefBalance>>();
  readonly supply = new Map<string, bigint>();
  readonly refs = new Map<string, RefTransfer>();

  constructor(readonly assets: readonly AssetInfo[]) {
    for (const { asset } of assets) this.supply.set(asset, 0n);
  }

  isAsset(name: string): boolean {
    return this.supply.has(name);
  }

  of(account: string, asset: string): RefBalance {
    let perAsset = this.balances.get(account);
    if (!perAsset) {
      perAsset = new Map();
      this.balances.set(account, perAsset);
    }
    let balance = perAsset.get(asset);
    if (!balance) {
      balance = { available: 0n, hold: 0n };
      perAsset.set(asset, balance);
    }
    return balance;
  }

  view(account: string): BalanceView[] {
    return this.assets.map(({ asset }) => {
      const balance = this.balances.get(account)?.get(asset);
      return { asset, available: Number(balance?.available ?? 0n), hold: Number(balance?.hold ?? 0n) };
    });
  }

  /** Every (account, asset) balance as "account asset" → "available/hold", for before/after diffs. */
  picture(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [account, perAsset] of this.balances) {
      for (const [asset, b] of perAsset) out.set(`${account} ${asset}`, `${b.available}/${b.hold}`);
    }
    return out;
  }

  /** Sets an order's hold to `next`, moving the difference from or to available. */
  restate(account: string, asset: string, previous: bigint, next: bigint): void {
    const balance = this.of(account, asset);
    balance.hold += next - previous;
    balance.available -= next - previous;
  }
}

/** The engine's result shape for a transfer: the reference answers in the same words. */
export type TransferResult =
  | { ok: true; transfer: TransferOutcome; events: TransferEvent[] }
  | { ok: false; code: 'bad_request' | 'bad_number' | 'insufficient_funds'; msg: string; events: [] };

export function referenceTransfer(ledger: ReferenceLedger, cmd: TransferCommand): TransferResult {
  if (!ledger.isAsset(cmd.asset))
    return { ok: false, code: 'bad_request', msg: `unknown asset ${cmd.asset}: no market names it`, events: [] };
  const outcome = (duplicate: boolean): TransferOutcome => {
    const balance = ledger.of(cmd.account, cmd.asset);
    return {
      ref: cmd.ref,
      account: cmd.account,
      asset: cmd.asset,
      available: Number(balance.available),
      hold: Number(balance.hold),
      duplicate,
    };
  };
  const seen = ledger.refs.get(cmd.ref);
  if (seen) {
    const same = seen.op === cmd.op && seen.account === cmd.account && seen.asset === cmd.asset && seen.amount === cmd.amount;
    if (!same) return { ok: false, code: 'bad_request', msg: `ref ${cmd.ref} was already used for another transfer`, events: [] };
    return { ok: true, transfer: outcome(true), events: [] };
  }
  const amount = BigInt(cmd.amount);
  const balance = ledger.of(cmd.account, cmd.asset);
  const supply = ledger.supply.get(cmd.asset)!;
  if (cmd.op === 'deposit') {
    if (supply + amount > MAX)
      return { ok: false, code: 'bad_number', msg: `the total of ${cmd.asset} held by all accounts would exceed 2^53-1`, events: [] };
    balance.available += amount;
    ledger.supply.set(cmd.asset, supply + amount);
  } else {
    if (amount > balance.available) {
      return {
        ok: false,
        code: 'insufficient_funds',
        msg: `withdrawal of ${cmd.amount} ${cmd.asset}, ${balance.available} available`,
        events: [],
      };
    }
    balance.available -= amount;
    ledger.supply.set(cmd.asset, supply - amount);
  }
  ledger.refs.set(cmd.ref, { op: cmd.op, account: cmd.account, asset: cmd.asset, amount: cmd.amount });
  return {
    ok: true,
    transfer: outcome(false),
    events: [{ kind: 'transfer', op: cmd.op, account: cmd.account, asset: cmd.asset, amount: cmd.amount, ref: cmd.ref, ts: cmd.ts }],
  };
}
