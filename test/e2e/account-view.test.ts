// The client's view of its account — openOrders() and balance() — against the server's, when an
// `orders` or `balances` snapshot shares a frame with the execs and balances of commands handled
// right after it: the snapshot must land before those newer pushes, not on top of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { connect, SYM } from '../support/e2e.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('the account view', () => {
  it('snapshots requested together with orders do not undo the pushes behind them', async () => {
    const { client } = await connect(server.url, 'token-alice');
    try {
      for (let i = 0; i < 40; i++) {
        // Sent back to back: the server mostly handles both in one turn and answers in one frame.
        const snapshot = i % 2 === 0 ? client.balances() : client.orders(SYM);
        await Promise.all([
          snapshot,
          client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 1_000_000 + i, qty: 3, post: true, cid: `view-${i}` }),
        ]);
        await client.ping();
        const open = server.server.engine.openOrders('alice', SYM).map((o) => o.id);
        expect(
          client.openOrders(SYM).map((o) => o.id),
          `round ${i}`,
        ).toEqual(open);
        const usd = server.server.engine.balances('alice').find((b) => b.asset === 'USD')!;
        expect(client.balance('USD'), `round ${i}`).toEqual({ asset: 'USD', available: usd.available, hold: usd.hold });
      }
      await client.cancelAll();
    } finally {
      client.close();
    }
  });
});
