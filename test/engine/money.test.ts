// The money rules (docs/PROTOCOL.md "Accounts and money") with real figures. BTC-USD has pxDecimals 2
// and qtyDecimals 6, so BTC has 6 decimals and USD 8: a lot is 1 BTC unit and a tick·lot 1 USD
// unit. 0.01 BTC (qty 10,000) at 50,000.00 USD (px 5,000,000) is a notional of 5·10^10 USD units,
// i.e. 500.00 USD. Fees: maker 1,000 ppm (0.1%), taker 2,000 ppm (0.2%).
import { describe, expect, it } from 'vitest';
import { FEES_ACCOUNT } from '../../protocol/constants.js';
import type { BalanceView, MarketInfo } from '../../protocol/messages.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import { checkInvariants } from '../../server/engine/invariants.js';
import type { CommandResult, EngineCommand, TransferCommand } from '../../server/engine/types.js';
import { amend, cancel, execs, moneyOutline, place, snapshot, trades } from '../support/engine-fixtures.js';

const FEE_MARKETS: readonly MarketInfo[] = [
  { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 1_000, takerFee: 2_000 },
  { sym: 'ETH-USD', base: 'ETH', quote: 'USD', pxDecimals: 2, qtyDecimals: 4, makerFee: 0, takerFee: 0 },
];
const PX_50K = 5_000_000;
const PX_49K = 4_900_000;
const CENT_BTC = 10_000;

function transfer(op: 'deposit' | 'withdraw', account: string, asset: string, amount: number, ref: string): TransferCommand {
  return { op, ts: 10, account, asset, amount, ref };
}

class MoneyEngine {
  readonly engine = new MatchingEngine(FEE_MARKETS);

  run(cmd: EngineCommand): CommandResult {
    const result = this.engine.execute(cmd);
    expect(checkInvariants(this.engine)).toBeNull();
    return result;
  }

  ok(cmd: EngineCommand): Extract<CommandResult, { ok: true }> {
    const result = this.run(cmd);
    if (!result.ok) expect.fail(`${cmd.op} rejected: ${result.code} ${result.msg}`);
    return result;
  }

  rejects(cmd: EngineCommand, code: string): string {
    const before = snapshot(this.engine, ['alice', 'bob']);
    const result = this.run(cmd);
    expect(result).toMatchObject({ ok: false, code, events: [] });
    expect(snapshot(this.engine, ['alice', 'bob'])).toEqual(before);
    return result.ok ? '' : result.msg;
  }

  fund(account: string, asset: string, amount: number): void {
    this.ok(transfer('deposit', account, asset, amount, `fund:${account}:${asset}:${amount}`));
  }

  balance(account: string, asset: string): Omit<BalanceView, 'asset'> {
    const view = this.engine.balances(account).find((b) => b.asset === asset)!;
    return { available: view.available, hold: view.hold };
  }
}

describe('assets and units', () => {
  it('each asset gets the fewest decimals that make every market exact, sorted by name', () => {
    expect(new MatchingEngine(FEE_MARKETS).assets).toEqual([
      { asset: 'BTC', decimals: 6 },
      { asset: 'ETH', decimals: 4 },
      { asset: 'USD', decimals: 8 },
    ]);
  });

  it('an order whose notional is not a safe integer is bad_number and changes nothing', () => {
    const m = new MoneyEngine();
    m.fund('alice', 'USD', 1e15);
    expect(m.rejects(place('alice', 'buy', 2 ** 30, 2 ** 30), 'bad_number')).toMatch(/2\^53-1 ledger units/);
  });
});

describe('holds', () => {
  it('a limit buy holds the notional of its leaves at its own price; cancel gives it back', () => {
    const m = new MoneyEngine();
    m.fund('alice', 'USD', 600 * 1e8);
    const { id } = m.ok(place('alice', 'buy', PX_50K, CENT_BTC));
    expect(m.balance('alice', 'USD')).toEqual({ available: 100 * 1e8, hold: 500 * 1e8 });
    const canceled = m.ok(cancel('alice', { id: id! }));
    expect(moneyOutline(canceled.events)).toEqual([`balance:alice:USD=${600 * 1e8}+0`]);
  });

  it('an order that would hold more than is available is insufficient_funds and changes nothing', () => {
    const m = new MoneyEngine();
    m.fund('alice', 'USD', 500 * 1e8 - 1);
    expect(m.rejects(place('alice', 'buy', PX_50K, CENT_BTC), 'insufficient_funds')).toBe(
      'needs 50000000000 USD (ledger units), 49999999999 available',
    );
    m.fund('bob', 'BTC', CENT_BTC - 1);
    m.rejects(place('bob', 'sell', PX_50K, CENT_BTC), 'insufficient_funds');
  });

  it('a sell holds its leaves in base; an ioc remainder releases at once', () => {
    const m = new MoneyEngine();
    m.fund('bob', 'BTC', CENT_BTC);
    const result = m.ok(place('bob', 'sell', PX_50K, CENT_BTC, { tif: 'ioc' }));
    expect(execs(result).map((e) => e.status)).toEqual(['new', 'canceled']);
    expect(m.balance('bob', 'BTC')).toEqual({ available: CENT_BTC, hold: 0 });
  });

  it('amend recomputes the hold: up needs the difference available, down releases it', () => {
    const m = new MoneyEngine();
    m.fund('alice', 'USD', 750 * 1e8);
    const { id } = m.ok(place('alice', 'buy', PX_50K, CENT_BTC));
    m.rejects(amend('alice', { id: id! }, { qty: 2 * CENT_BTC }), 'insufficient_funds');
    m.ok(amend('alice', { id: id! }, { qty: CENT_BTC / 2 }));
    expect(m.balance('alice', 'USD')).toEqual({ available: 500 * 1e8, hold: 250 * 1e8 });
    m.ok(amend('alice', { id: id! }, { px: PX_49K }));
    expect(m.balance('alice', 'USD')).toEqual({ available: 505 * 1e8, hold: 245 * 1e8 });
  });

  it('a market buy holds exactly what its fills cost; without enough for that, nothing fills', () => {
    const m = new MoneyEngine();
    m.fund('bob', 'BTC', 2 * CENT_BTC);
    m.ok(place('bob', 'sell', PX_49K, CENT_BTC));
    m.ok(place('bob', 'sell', PX_50K, CENT_BTC));
    const cost = PX_49K * CENT_BTC + PX_50K * (CENT_BTC / 2);
    m.fund('alice', 'USD', cost - 1);
    m.rejects(place('alice', 'buy', null, (3 * CENT_BTC) / 2), 'insufficient_funds');
    m.fund('alice', 'USD', 1);
    const result = m.ok(place('alice', 'buy', null, (3 * CENT_BTC) / 2));
    expect(trades(result).map((t) => t.quoteAmount)).toEqual([PX_49K * CENT_BTC, PX_50K * (CENT_BTC / 2)]);
    expect(m.balance('alice', 'USD')).toEqual({ available: 0, hold: 0 });
  });
});

describe('settlement and fees', () => {
  it('a fill settles both sides at the maker price, refunds a higher limit, and pays fees to @fees', () => {
    const m = new MoneyEngine();
    m.fund('bob', 'BTC', CENT_BTC);
    m.fund('alice', 'USD', 500 * 1e8);
    m.ok(place('bob', 'sell', PX_49K, CENT_BTC));
    const result = m.ok(place('alice', 'buy', PX_50K, CENT_BTC));
    const notional = PX_49K * CENT_BTC; // 490.00 USD
    const [trade] = trades(result);
    // Taker (the buyer) pays 0.2% of the 10,000 BTC units it gets; the maker 0.1% of 490 USD.
    expect(trade).toMatchObject({ baseAmount: CENT_BTC, quoteAmount: notional, takerFee: 20, makerFee: notional / 1_000 });
    expect(execs(result).map((e) => e.fill && { liquidity: e.fill.liquidity, fee: e.fill.fee, feeAsset: e.fill.feeAsset })).toEqual([
      undefined,
      { liquidity: 'maker', fee: notional / 1_000, feeAsset: 'USD' },
      { liquidity: 'taker', fee: 20, feeAsset: 'BTC' },
    ]);
    expect(m.balance('alice', 'USD')).toEqual({ available: 10 * 1e8, hold: 0 });
    expect(m.balance('alice', 'BTC')).toEqual({ available: CENT_BTC - 20, hold: 0 });
    expect(m.balance('bob', 'USD')).toEqual({ available: notional - notional / 1_000, hold: 0 });
    expect(m.balance('bob', 'BTC')).toEqual({ available: 0, hold: 0 });
    expect(m.balance(FEES_ACCOUNT, 'BTC')).toEqual({ available: 20, hold: 0 });
    expect(m.balance(FEES_ACCOUNT, 'USD')).toEqual({ available: notional / 1_000, hold: 0 });
    // One balance event per (account, asset) changed, after every exec and trade.
    const kinds = result.events.map((e) => e.kind);
    expect(kinds.slice(kinds.indexOf('balance')).every((k) => k === 'balance')).toBe(true);
    expect(moneyOutline(result.events).sort()).toEqual([
      `balance:${FEES_ACCOUNT}:BTC=20+0`,
      `balance:${FEES_ACCOUNT}:USD=${notional / 1_000}+0`,
      `balance:alice:BTC=${CENT_BTC - 20}+0`,
      `balance:alice:USD=${10 * 1e8}+0`,
      `balance:bob:BTC=0+0`,
      `balance:bob:USD=${notional - notional / 1_000}+0`,
    ]);
  });

  it('fees round up per order, not per fill: five fills owing 0.2 units each pay 1 in all', () => {
    const m = new MoneyEngine();
    m.fund('bob', 'BTC', 500);
    m.fund('alice', 'USD', 1e12);
    for (let i = 0; i < 5; i++) m.ok(place('bob', 'sell', 100, 100));
    const result = m.ok(place('alice', 'buy', 100, 500));
    const takerFees = execs(result)
      .filter((e) => e.fill?.liquidity === 'taker')
      .map((e) => e.fill!.fee);
    expect(takerFees).toEqual([1, 0, 0, 0, 0]);
    expect(m.balance('alice', 'BTC').available).toBe(499);
  });

  it('self-trade prevention that cancels a maker releases the maker hold', () => {
    const m = new MoneyEngine();
    m.fund('alice', 'BTC', CENT_BTC);
    m.fund('alice', 'USD', 500 * 1e8);
    m.ok(place('alice', 'sell', PX_49K, CENT_BTC));
    const result = m.ok(place('alice', 'buy', PX_50K, CENT_BTC, { stp: 'cancel_maker' }));
    expect(execs(result)[1]).toMatchObject({ status: 'canceled', reason: 'stp' });
    expect(m.balance('alice', 'BTC')).toEqual({ available: CENT_BTC, hold: 0 });
    expect(m.balance('alice', 'USD')).toEqual({ available: 0, hold: 500 * 1e8 });
  });
});

describe('deposits and withdrawals', () => {
  it('a ref applies once: the same transfer again is a duplicate, a different one is bad_request', () => {
    const m = new MoneyEngine();
    const first = m.ok(transfer('deposit', 'alice', 'USD', 1_000, 't-17'));
    expect(first.transfer).toEqual({ ref: 't-17', account: 'alice', asset: 'USD', available: 1_000, hold: 0, duplicate: false });
    const again = m.ok(transfer('deposit', 'alice', 'USD', 1_000, 't-17'));
    expect(again).toMatchObject({ events: [], transfer: { duplicate: true, available: 1_000 } });
    m.rejects(transfer('deposit', 'alice', 'USD', 1_001, 't-17'), 'bad_request');
    m.rejects(transfer('withdraw', 'alice', 'USD', 1_000, 't-17'), 'bad_request');
  });

  it('a withdrawal takes only available funds, not what open orders hold', () => {
    const m = new MoneyEngine();
    m.fund('alice', 'USD', 600 * 1e8);
    m.ok(place('alice', 'buy', PX_50K, CENT_BTC));
    m.rejects(transfer('withdraw', 'alice', 'USD', 100 * 1e8 + 1, 'w-1'), 'insufficient_funds');
    const ok = m.ok(transfer('withdraw', 'alice', 'USD', 100 * 1e8, 'w-1'));
    expect(moneyOutline(ok.events)).toEqual([`transfer:withdraw:alice:USD=${100 * 1e8}`, `balance:alice:USD=0+${500 * 1e8}`]);
  });

  it('an asset no market names is bad_request; a supply past 2^53-1 is bad_number', () => {
    const m = new MoneyEngine();
    m.rejects(transfer('deposit', 'alice', 'DOGE', 1, 'd-1'), 'bad_request');
    m.ok(transfer('deposit', 'alice', 'USD', Number.MAX_SAFE_INTEGER - 10, 'd-2'));
    expect(m.rejects(transfer('deposit', 'bob', 'USD', 11, 'd-3'), 'bad_number')).toMatch(/total of USD/);
    m.ok(transfer('deposit', 'bob', 'USD', 10, 'd-4'));
  });
});
