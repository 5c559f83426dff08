// End to end over real WebSockets: an iceberg placed with the typed client shows only its slice in
// the book channel (snapshot, deltas and their checksums), a taker fills slice after slice, and
// `orders` lists its display and whole leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { barrier, connect, RawBookChecker, SYM, type Recorded } from '../support/e2e.js';

let server: TestServer;
let alice: Recorded;
let bob: Recorded;

beforeAll(async () => {
  server = await startTestServer();
  alice = await connect(server.url, 'token-alice');
  bob = await connect(server.url, 'token-bob');
});

afterAll(async () => {
  for (const c of [alice, bob]) c.client.close();
  await server.stop();
});

describe('an iceberg over WebSocket', () => {
  it('shows its slice in the book, renews it as it fills, and holds its whole qty', async () => {
    const book = await RawSocket.open(server.url);
    await book.request({ op: 'sub', ch: 'book', sym: SYM, depth: 10 }, 'sub');
    const checker = new RawBookChecker(book, SYM);
    const { balances: before } = await bob.client.balances();
    const ack = await bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_100, qty: 10, display: 3, cid: 'ice-1' });
    await book.waitFor(() => {
      checker.drain();
      return checker.book.asks().length === 1;
    });
    expect(checker.book.asks()).toEqual([[10_100, 3]]);
    const { balances: after } = await bob.client.balances();
    const btc = (list: typeof before): number => list.find((b) => b.asset === 'BTC')!.hold;
    expect(btc(after) - btc(before)).toBe(10);
    expect((await bob.client.orders(SYM)).orders).toEqual([expect.objectContaining({ id: ack.id, qty: 10, leaves: 10, display: 3 })]);

    // alice's buy of 4 takes the slice of 3, then 1 of the next slice: 2 show.
    const fromTrades = alice.execs.length;
    await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_100, qty: 4 });
    await barrier(alice, bob);
    expect(alice.execs.slice(fromTrades).flatMap((e) => (e.fill ? [e.fill.qty] : []))).toEqual([3, 1]);
    await book.waitFor(() => {
      checker.drain();
      return checker.book.asks()[0]?.[1] === 2;
    });
    expect(checker.failures).toEqual([]);
    expect(checker.deltas).toBeGreaterThanOrEqual(2);
    expect((await bob.client.orders(SYM)).orders).toEqual([expect.objectContaining({ filled: 4, leaves: 6, display: 3 })]);
    await bob.client.cancel(SYM, 'ice-1');
    await book.close();
  });

  it('a display of qty or more is refused bad_request', async () => {
    await expect(bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_100, qty: 10, display: 10 })).rejects.toMatchObject({
      code: 'bad_request',
    });
  });
});
