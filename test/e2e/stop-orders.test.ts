// End to end over real WebSockets: a stop order placed with the typed client waits, open and
// holding but out of the book (depth and checksum), is listed and found, amended, and triggers in
// the batch of the trade that reaches it: its owner sees exec new with triggered, then its fills.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exec } from '../../protocol/messages.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { barrier, connect, RawBookChecker, SYM, type Recorded } from '../support/e2e.js';

let server: TestServer;
let alice: Recorded;
let bob: Recorded;
let carol: Recorded;

beforeAll(async () => {
  server = await startTestServer();
  alice = await connect(server.url, 'token-alice');
  bob = await connect(server.url, 'token-bob');
  carol = await connect(server.url, 'token-carol');
});

afterAll(async () => {
  for (const c of [alice, bob, carol]) c.client.close();
  await server.stop();
});

function execsOf(who: Recorded, id: number, from: number): Exec[] {
  return who.execs.slice(from).filter((e) => e.id === id && e.sym === SYM);
}

async function btc(who: Recorded): Promise<{ available: number; hold: number }> {
  const { balances } = await who.client.balances();
  const { available, hold } = balances.find((b) => b.asset === 'BTC')!;
  return { available, hold };
}

describe('a stop order over WebSocket', () => {
  it('waits out of the book, then triggers on the trade that reaches it and fills as a taker', async () => {
    const book = await RawSocket.open(server.url);
    await book.request({ op: 'sub', ch: 'book', sym: SYM, depth: 10 }, 'sub');
    const checker = new RawBookChecker(book, SYM);
    await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_000, qty: 5 });
    await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_900, qty: 10 });

    const before = await btc(alice);
    const fromAlice = alice.execs.length;
    const ack = await alice.client.place({ sym: SYM, side: 'sell', kind: 'stop', trigger: 10_000, qty: 8, cid: 'stop-1' });
    expect(ack).toMatchObject({ type: 'ack', op: 'place', cid: 'stop-1' });
    const id = ack.id!;
    await barrier(alice);
    expect(execsOf(alice, id, fromAlice).map((e) => [e.status, e.px, e.qty, e.leaves, e.triggered])).toEqual([
      ['new', null, 8, 8, undefined],
    ]);
    expect(await btc(alice)).toEqual({ available: before.available - 8, hold: before.hold + 8 });
    const { orders } = await alice.client.orders(SYM);
    expect(orders).toEqual([expect.objectContaining({ id, kind: 'stop', px: null, trigger: 10_000, triggered: false, leaves: 8 })]);
    expect((await alice.client.order(SYM, 'stop-1')).order).toMatchObject({ id, status: 'new', leaves: 8 });
    // Not in the book: depth and checksum show bob's bids only.
    expect(server.server.engine.levels(SYM, 'sell', 10)).toEqual([]);

    // Amending it keeps it waiting; an amend that changes nothing is acked alone.
    await alice.client.amend(SYM, 'stop-1', { trigger: 10_000, qty: 8 });
    await alice.client.amend(SYM, 'stop-1', { qty: 9 });
    await alice.client.amend(SYM, 'stop-1', { qty: 8 });

    // carol sells 1 at 10_000: the trade reaches the trigger; in the same batch the stop sells 8
    // at market: 4 left at 10_000, then 4 at 9_900.
    const fromAliceFill = alice.execs.length;
    await carol.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_000, qty: 1 });
    await barrier(alice, bob, carol);
    const after = execsOf(alice, id, fromAliceFill);
    expect(after.map((e) => [e.status, e.filled, e.leaves, e.triggered ?? null, e.fill?.px ?? null, e.fill?.liquidity ?? null])).toEqual([
      ['new', 0, 8, true, null, null],
      ['partial', 4, 4, null, 10_000, 'taker'],
      ['filled', 8, 0, null, 9_900, 'taker'],
    ]);
    expect((await alice.client.orders(SYM)).orders).toEqual([]);
    expect((await btc(alice)).hold).toBe(before.hold);

    await book.waitFor(() => {
      checker.drain();
      return checker.book.bids().length === 1 && checker.book.bids()[0]![1] === 6;
    });
    expect(checker.failures).toEqual([]);
    expect(checker.book.bids()).toEqual([[9_900, 6]]);
    await book.close();
  });

  it('a buy stop-market waits holding nothing; a buy stop-limit holds its notional; both are canceled by cancel_all', async () => {
    const usd = async (): Promise<number> => (await alice.client.balances()).balances.find((b) => b.asset === 'USD')!.hold;
    const holdBefore = await usd();
    const market = await alice.client.place({ sym: SYM, side: 'buy', kind: 'stop', trigger: 20_000, qty: 1 });
    expect(await usd()).toBe(holdBefore);
    const ack = await alice.client.place({ sym: SYM, side: 'buy', kind: 'stop', trigger: 20_000, px: 20_100, qty: 2 });
    expect(await usd()).toBeGreaterThan(holdBefore);
    expect((await alice.client.orders(SYM)).orders).toMatchObject([
      { id: market.id, trigger: 20_000, px: null },
      { id: ack.id, trigger: 20_000, px: 20_100 },
    ]);
    const canceled = await alice.client.cancelAll(SYM);
    expect(canceled).toMatchObject({ canceled: 2 });
    expect(await usd()).toBe(holdBefore);
    expect((await alice.client.orders(SYM)).orders).toEqual([]);
  });
});
