// Accounts and money over real WebSockets (docs/PROTOCOL.md 1.1): assets in `markets`, `balances`,
// admin-only deposits and withdrawals with idempotent refs, `balance` pushes after execs, funding
// from the keys file, and rejects that change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BalanceMessage, BalanceView, ServerMessage } from '../../protocol/messages.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, TEST_FUNDING, type TestServer } from '../support/test-server.js';
import { barrier, connect, SYM, type Recorded } from '../support/e2e.js';

let server: TestServer;
let admin: Recorded;
let carol: Recorded;

beforeAll(async () => {
  server = await startTestServer();
  admin = await connect(server.url, 'token-admin');
  carol = await connect(server.url, 'token-carol');
});

afterAll(async () => {
  for (const c of [admin, carol]) c.client.close();
  await server.stop();
});

function balanceOf(views: readonly BalanceView[], asset: string): Omit<BalanceView, 'asset'> {
  const view = views.find((b) => b.asset === asset)!;
  return { available: view.available, hold: view.hold };
}

describe('markets and balances', () => {
  it('markets lists every asset with its decimals, and each market its fees', async () => {
    const reply = await carol.client.markets();
    expect(reply.assets).toEqual([
      { asset: 'BTC', decimals: 6 },
      { asset: 'ETH', decimals: 4 },
      { asset: 'USD', decimals: 8 },
    ]);
    expect(reply.markets.find((m) => m.sym === SYM)).toMatchObject({ makerFee: 1_000, takerFee: 2_000 });
  });

  it('a key with a deposit starts funded, once however often the server restarts', async () => {
    const { balances } = await carol.client.balances();
    expect(balances.map((b) => b.asset)).toEqual(['BTC', 'ETH', 'USD']);
    for (const asset of ['BTC', 'ETH', 'USD'])
      expect(balanceOf(balances, asset).available + balanceOf(balances, asset).hold).toBe(TEST_FUNDING[asset]);
    const again = await admin.client.deposit('carol', 'USD', TEST_FUNDING.USD!, 'init:carol:USD');
    expect(again).toMatchObject({ duplicate: true });
  });

  it('balances needs a login; another account is admin only', async () => {
    const anonymous = await RawSocket.open(server.url);
    expect(await anonymous.request({ op: 'balances' }, 'b')).toMatchObject({ type: 'reject', code: 'unauthenticated' });
    await anonymous.close();
    const asCarol = await carol.client.request({ op: 'balances', account: 'bob' });
    expect(asCarol).toMatchObject({ type: 'reject', op: 'balances', code: 'forbidden' });
    const asAdmin = await admin.client.balances('bob');
    expect(asAdmin.balances.map((b) => b.asset)).toEqual(['BTC', 'ETH', 'USD']);
  });
});

describe('deposits and withdrawals', () => {
  it('are refused with forbidden on a trader connection, and change nothing', async () => {
    const before = (await carol.client.balances()).balances;
    for (const op of ['deposit', 'withdraw']) {
      const reply = await carol.client.request({ op, account: 'carol', asset: 'USD', amount: 5, ref: `self-${op}` });
      expect(reply).toMatchObject({ type: 'reject', op, code: 'forbidden' });
    }
    expect((await carol.client.balances()).balances).toEqual(before);
  });

  it('an admin deposit acks with the new balance and pushes a balance message; a repeat is a duplicate', async () => {
    const pushes: BalanceMessage[] = [];
    const off = carol.client.onBalance((message) => pushes.push(message));
    const before = balanceOf((await carol.client.balances()).balances, 'ETH');
    const ack = await admin.client.deposit('carol', 'ETH', 2_500, 'wire-001');
    expect(ack).toEqual({
      type: 'ack',
      rid: ack.rid,
      op: 'deposit',
      ref: 'wire-001',
      account: 'carol',
      asset: 'ETH',
      available: before.available + 2_500,
      hold: before.hold,
    });
    await barrier(carol, admin);
    expect(pushes.map((p) => [p.asset, p.available, p.hold])).toEqual([['ETH', before.available + 2_500, before.hold]]);
    expect(Number.isInteger(pushes[0]!.ts)).toBe(true);
    expect(carol.client.balance('ETH')).toEqual({ asset: 'ETH', available: before.available + 2_500, hold: before.hold });

    const repeat = await admin.client.deposit('carol', 'ETH', 2_500, 'wire-001');
    expect(repeat).toMatchObject({ duplicate: true, available: before.available + 2_500 });
    const conflicting = await admin.client.request({ op: 'deposit', account: 'carol', asset: 'ETH', amount: 2_501, ref: 'wire-001' });
    expect(conflicting).toMatchObject({ type: 'reject', code: 'bad_request' });
    await barrier(carol, admin);
    expect(pushes).toHaveLength(1);
    off();
  });

  it('funds can arrive before an account has a key; an unknown asset is bad_request', async () => {
    const ack = await admin.client.deposit('newcomer', 'BTC', 7, 'early-1');
    expect(ack).toMatchObject({ account: 'newcomer', available: 7, hold: 0 });
    expect(await admin.client.request({ op: 'deposit', account: 'newcomer', asset: 'DOGE', amount: 1, ref: 'early-2' })).toMatchObject({
      type: 'reject',
      code: 'bad_request',
    });
    expect(await admin.client.request({ op: 'deposit', account: 'newcomer', asset: 'BTC', amount: 1.5, ref: 'early-3' })).toMatchObject({
      type: 'reject',
      code: 'bad_number',
    });
  });

  it('a withdrawal takes only what is available: funds held by open orders stay', async () => {
    const placed = await carol.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 9_000_000, qty: 1_000 });
    const { available, hold } = balanceOf((await carol.client.balances()).balances, 'BTC');
    expect(hold).toBe(1_000);
    const tooMuch = await admin.client.request({ op: 'withdraw', account: 'carol', asset: 'BTC', amount: available + 1, ref: 'out-1' });
    expect(tooMuch).toMatchObject({ type: 'reject', code: 'insufficient_funds' });
    const ok = await admin.client.withdraw('carol', 'BTC', available, 'out-2');
    expect(ok).toMatchObject({ op: 'withdraw', available: 0, hold: 1_000 });
    await carol.client.cancel(SYM, { id: placed.id! });
    expect(balanceOf((await carol.client.balances()).balances, 'BTC')).toEqual({ available: 1_000, hold: 0 });
  });
});

describe('orders and funds', () => {
  it('an order beyond the available funds is insufficient_funds and changes nothing', async () => {
    const before = server.server.engine.levels(SYM, 'buy', 100);
    const reply = await admin.client.request({ op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 100, qty: 5 });
    // The admin account 'ops' has no funds at all.
    expect(reply).toMatchObject({ type: 'reject', code: 'insufficient_funds' });
    expect(String((reply as { msg: string }).msg)).toMatch(/needs 500 USD/);
    expect(server.server.engine.levels(SYM, 'buy', 100)).toEqual(before);
    expect((await admin.client.balances()).balances.every((b) => b.available === 0 && b.hold === 0)).toBe(true);
  });

  it('after a fill, each side gets its balance messages after its execs, with fees charged', async () => {
    const seller = await connect(server.url, 'token-bob');
    const buyer = await connect(server.url, 'token-carol');
    const order: ServerMessage[] = [];
    const off = buyer.client.onMessage((m) => {
      if (m.type === 'exec' || m.type === 'balance') order.push(m);
    });
    const sellerBefore = (await seller.client.balances()).balances;
    const buyerBefore = (await buyer.client.balances()).balances;
    await seller.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 5_000_000, qty: 10_000 });
    const buy = await buyer.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 5_000_000, qty: 10_000 });
    await barrier(seller, buyer);
    // 0.01 BTC at 50,000.00 USD: 500 USD = 5·10^10 units; taker fee 0.2% of 10,000 BTC units = 20,
    // maker fee 0.1% of the notional = 5·10^7 USD units.
    expect(order.map((m) => m.type)).toEqual(['exec', 'exec', 'balance', 'balance']);
    expect(order.slice(0, 2).map((m) => (m.type === 'exec' ? m.id : 0))).toEqual([buy.id, buy.id]);
    const buyerAfter = (await buyer.client.balances()).balances;
    expect(balanceOf(buyerAfter, 'BTC').available).toBe(balanceOf(buyerBefore, 'BTC').available + 10_000 - 20);
    expect(balanceOf(buyerAfter, 'USD').available).toBe(balanceOf(buyerBefore, 'USD').available - 5e10);
    const sellerAfter = (await seller.client.balances()).balances;
    expect(balanceOf(sellerAfter, 'USD').available).toBe(balanceOf(sellerBefore, 'USD').available + 5e10 - 5e7);
    const fees = (await admin.client.balances('@fees')).balances;
    expect(balanceOf(fees, 'BTC').available).toBeGreaterThanOrEqual(20);
    off();
    seller.client.close();
    buyer.client.close();
  });
});
