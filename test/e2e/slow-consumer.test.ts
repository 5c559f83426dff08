// A subscriber that stops reading is cut off once its queue reaches the backpressure limit: the
// server's memory for it stays bounded and everyone else goes on trading. (A book subscriber is
// first moved to a snapshot instead, see conflated-book.test.ts; a trades subscriber has no such
// fallback: every trade must reach it or it must go.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCodec } from '../../protocol/codec.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { httpGet, metricValue, SYM, waitUntil } from '../support/e2e.js';

const LIMIT = 512 * 1024;
const TRADES_PER_ROUND = 500;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ maxBackpressureBytes: LIMIT });
});
afterAll(() => server.stop());

const openConnections = async (): Promise<number> => metricValue((await httpGet(`${server.httpUrl}/metrics`)).body, 'spotwire_connections');

describe('a trades subscriber that stops reading', () => {
  it('is closed by the server while others trade on', { timeout: 120_000 }, async () => {
    const codec = createCodec();
    const ws = new WebSocket(server.url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let subbed = false;
    let closeCode: number | null = null;
    ws.on('message', (data: Buffer) => {
      const decoded = codec.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      for (const m of Array.isArray(decoded) ? decoded : [decoded]) if ((m as { type?: string }).type === 'subbed') subbed = true;
    });
    ws.on('close', (code) => {
      closeCode = code;
    });
    ws.send(codec.encode({ op: 'sub', ch: 'trades', sym: SYM }));
    await waitUntil(() => subbed, 'the trades subscription');
    // Stop reading: everything the server publishes for it piles up in its queue.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const maker = await RawSocket.open(server.url);
    const taker = await RawSocket.open(server.url);
    await maker.request({ op: 'login', token: 'token-bob' }, 'login');
    await taker.request({ op: 'login', token: 'token-carol' }, 'login');
    const withSlowOne = await openConnections();
    let round = 0;
    let trades = 0;
    while ((await openConnections()) === withSlowOne) {
      if (++round > 2_000) throw new Error('the slow subscriber was never cut off');
      const asks = Array.from({ length: TRADES_PER_ROUND }, (_, i) => ({
        op: 'place',
        sym: SYM,
        side: 'sell',
        kind: 'limit',
        px: 10_000 + i,
        qty: 1,
        rid: `a${round}-${i}`,
      }));
      maker.send(asks);
      await maker.waitFor((messages) => messages.some((m) => m.rid === `a${round}-${TRADES_PER_ROUND - 1}`));
      const reply = await taker.request({ op: 'place', sym: SYM, side: 'buy', kind: 'market', qty: TRADES_PER_ROUND }, `t${round}`);
      expect(reply.type).toBe('ack');
      trades += TRADES_PER_ROUND;
      maker.messages.length = 0;
      taker.messages.length = 0;
    }
    expect(await openConnections()).toBe(withSlowOne - 1);
    // The cut-off did not disturb the others: the maker still trades.
    expect(await maker.request({ op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 10_000, qty: 1 }, 'after')).toMatchObject({
      type: 'ack',
    });
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitUntil(() => closeCode !== null, 'the close to reach the slow subscriber', 30_000);
    // 1008 when the server's sweep or a direct send cut it off; 1006 when uWS itself closed it at
    // the limit while publishing (it sends no close frame then).
    expect([1006, 1008]).toContain(closeCode);
    console.log(`slow trades subscriber cut off after ${round} rounds (${trades} trades), close ${closeCode}`);
    await maker.request({ op: 'cancel_all' }, 'done');
    await maker.close();
    await taker.close();
  });
});
