// A MatchingEngine wrapped for unit tests: every command is followed by checkInvariants, and
// `rejects` proves that a reject carried no events and left every observable bit of state
// (books, open orders, balances, id counters) exactly as it was.
import { expect } from 'vitest';
import type { RejectCode } from '../../protocol/constants.js';
import type { Level, OrderView } from '../../protocol/messages.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import { checkInvariants } from '../../server/engine/invariants.js';
import type { CommandResult, EngineCommand, EngineLimits } from '../../server/engine/types.js';
import { BTC, FUNDED, fundAll, MARKETS, snapshot } from './engine-fixtures.js';

export const ACCOUNTS = ['alice', 'bob', 'carol'] as const;

export type Accepted = Extract<CommandResult, { ok: true }>;

export class EngineHarness {
  readonly engine: MatchingEngine;

  /** Every account starts with `funding` of every asset (FUNDED: enough for any test order). */
  constructor(limits?: EngineLimits, funding: number = FUNDED) {
    this.engine = limits ? new MatchingEngine(MARKETS, limits) : new MatchingEngine(MARKETS);
    if (funding > 0) fundAll(this.engine, ACCOUNTS, funding);
  }

  /** Deposits `amount` of `asset` (tests that need one account near the 2^53 supply cap). */
  fund(account: string, asset: string, amount: number): void {
    this.ok({ op: 'deposit', ts: 0, account, asset, amount, ref: `fund:${account}:${asset}:${this.engine.ledger.refs.size}` });
  }

  run(cmd: EngineCommand): CommandResult {
    const result = this.engine.execute(cmd);
    expect(checkInvariants(this.engine), `invariants after ${JSON.stringify(cmd)}`).toBeNull();
    return result;
  }

  /** Runs a command that must be accepted. */
  ok(cmd: EngineCommand): Accepted {
    const result = this.run(cmd);
    if (!result.ok) expect.fail(`${cmd.op} rejected with ${result.code}: ${JSON.stringify(cmd)}`);
    return result;
  }

  /** Runs a command that must be rejected with `code` and change nothing. */
  rejects(cmd: EngineCommand, code: RejectCode): void {
    const before = snapshot(this.engine, ACCOUNTS);
    const result = this.run(cmd);
    expect(result).toMatchObject({ ok: false, code, events: [] });
    expect(snapshot(this.engine, ACCOUNTS)).toEqual(before);
  }

  bids(sym: string = BTC): Level[] {
    return this.engine.levels(sym, 'buy', 1_000);
  }

  asks(sym: string = BTC): Level[] {
    return this.engine.levels(sym, 'sell', 1_000);
  }

  orders(account: string, sym: string | null = null): OrderView[] {
    return this.engine.openOrders(account, sym);
  }
}
