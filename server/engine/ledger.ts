// Every account's funds (account.ts), per asset: `available` and `hold` (what open orders have reserved), as
// exact integers in ledger units. Only the engine moves them, inside a command, so balances are as
// deterministic as the book. The ledger also keeps each asset's supply (deposits − withdrawals) and
// caps it at 2^53−1: with conservation, no balance, hold or fee can then leave the safe integers,
// so settlement never needs an overflow check. Amounts are JS numbers; widening to 64 bits means
// new storage here and in the state format, not new rules.
import { FEES_ACCOUNT, type TransferOp } from '../../protocol/constants.js';
import type { AssetInfo, BalanceView } from '../../protocol/messages.js';
import { Account } from './account.js';

/** What a transfer `ref` was applied as; a ref is accepted once. */
export interface TransferRecord {
  readonly op: TransferOp;
  readonly account: string;
  readonly asset: string;
  readonly amount: number;
}

export class Ledger {
  private readonly assetIndex: Map<string, number>;
  readonly accounts = new Map<string, Account>();
  /** Per asset: deposits minus withdrawals, which conservation says all balances sum to. */
  readonly supply: number[];
  readonly refs = new Map<string, TransferRecord>();
  private stamp = 0;
  /**
   * The (account, asset) pairs the current command changed, in the order first changed: the first
   * `touchedCount` entries (the arrays are reused, not truncated, from command to command).
   */
  readonly touchedFunds: Account[] = [];
  readonly touchedAssets: number[] = [];
  touchedCount = 0;
  private feesFunds: Account | null = null;

  constructor(readonly assets: readonly AssetInfo[]) {
    this.assetIndex = new Map(assets.map((info, index) => [info.asset, index]));
    this.supply = new Array<number>(assets.length).fill(0);
  }

  assetOf(name: string): number | undefined {
    return this.assetIndex.get(name);
  }

  /** Starts a command: what it touches is collected afresh. */
  beginCommand(): void {
    this.stamp++;
    this.touchedCount = 0;
  }

  peek(account: string): Account | undefined {
    return this.accounts.get(account);
  }

  funds(account: string): Account {
    let funds = this.accounts.get(account);
    if (!funds) {
      funds = new Account(account, this.assets.length);
      this.accounts.set(account, funds);
    }
    return funds;
  }

  /** The reserved account fees are credited to (FEES_ACCOUNT), looked up once. */
  fees(): Account {
    this.feesFunds ??= this.funds(FEES_ACCOUNT);
    return this.feesFunds;
  }

  available(account: string, asset: number): number {
    return this.accounts.get(account)?.available[asset] ?? 0;
  }

  /** Moves `amount` from available to hold; the caller has checked that it is available. */
  reserve(funds: Account, asset: number, amount: number): void {
    if (amount === 0) return;
    funds.available[asset]! -= amount;
    funds.hold[asset]! += amount;
    this.touch(funds, asset);
  }

  /** Moves `amount` from hold back to available. */
  release(funds: Account, asset: number, amount: number): void {
    if (amount === 0) return;
    funds.hold[asset]! -= amount;
    funds.available[asset]! += amount;
    this.touch(funds, asset);
  }

  /** Takes `amount` out of hold: it leaves the account (paid to a counterparty). */
  payFromHold(funds: Account, asset: number, amount: number): void {
    funds.hold[asset]! -= amount;
    this.touch(funds, asset);
  }

  credit(funds: Account, asset: number, amount: number): void {
    if (amount === 0) return;
    funds.available[asset]! += amount;
    this.touch(funds, asset);
  }

  debit(funds: Account, asset: number, amount: number): void {
    funds.available[asset]! -= amount;
    this.touch(funds, asset);
  }

  /** Every asset's balance of an account, sorted by asset name; never-touched ones are 0/0. */
  balances(account: string): BalanceView[] {
    const funds = this.accounts.get(account);
    return this.assets.map((info, index) => ({
      asset: info.asset,
      available: funds?.available[index] ?? 0,
      hold: funds?.hold[index] ?? 0,
    }));
  }

  private touch(funds: Account, asset: number): void {
    if (funds.touchedAt[asset] === this.stamp) return;
    funds.touchedAt[asset] = this.stamp;
    this.touchedFunds[this.touchedCount] = funds;
    this.touchedAssets[this.touchedCount] = asset;
    this.touchedCount++;
  }
}
