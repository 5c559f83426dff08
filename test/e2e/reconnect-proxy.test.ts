// The reconnecting client behind a TCP proxy that cuts the connection (both sockets destroyed)
// at random points while it trades: after each resume its view — open orders, balances, fills —
// equals the server's as a fresh connection sees it, its private stream has no gap and no
// repeat, its book resubscribes and checks out, and requests that were in flight reject with
// ConnectionLostError and are resolved by cid.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, ConnectionLostError, RejectError, SpotwireClient, type WebSocketConstructor } from '../../protocol/client.js';
import { mulberry32, randomInt } from '../../bench/lib/prng.js';
import { ReconnectTrader, viewMismatches } from '../../bench/lib/reconnect-trader.js';
import { TcpProxy } from '../../bench/lib/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { SYM, waitUntil } from '../support/e2e.js';

const DROPS = 40;
const MID = 5_000_000;
let server: TestServer;
let proxy: TcpProxy;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Enough retention that no drop in this file can outrun it: every resume must replay.
  server = await startTestServer({ privateStreamRetention: 100_000, closedOrderRetention: 100_000 });
  proxy = await TcpProxy.start(server.port);
});
afterAll(async () => {
  await proxy.close();
  await server.stop();
});

function connectVia(
  url: string,
  reconnect: NonNullable<Parameters<typeof SpotwireClient.connect>[1]>['reconnect'],
): Promise<SpotwireClient> {
  return SpotwireClient.connect(url, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    timeoutMs: 15_000,
    ...(reconnect ? { reconnect } : {}),
  });
}

describe('reconnect through a proxy that drops the connection', () => {
  it(`${DROPS} drops at random points under trading: after each resume the view equals the server's, no gap, no repeated pseq`, async () => {
    const random = mulberry32(13_06);
    const alice = await ReconnectTrader.start({
      url: proxy.url,
      token: 'token-alice',
      sym: SYM,
      random: mulberry32(1),
      midPx: MID,
      takes: true,
    });
    // Bob is not behind the proxy: he goes on trading against alice's quotes while she is away.
    const bob = await ReconnectTrader.start({
      url: server.url,
      token: 'token-bob',
      sym: SYM,
      random: mulberry32(2),
      midPx: MID,
      takes: true,
    });
    try {
      for (let drop = 0; drop < DROPS; drop++) {
        alice.run();
        bob.run();
        await sleep(randomInt(random, 2, 40));
        // Sometimes the replies, or the requests, are held first: then some are surely in flight.
        const hold = random();
        if (hold < 0.25) proxy.holdReplies = true;
        else if (hold < 0.4) proxy.holdRequests = true;
        if (hold < 0.4) await sleep(randomInt(random, 1, 10));
        const resumes = alice.record.resumes;
        expect(proxy.dropAll()).toBe(1);
        await waitUntil(() => alice.record.resumes > resumes, `alice's resume after drop ${drop}`);
        await sleep(randomInt(random, 0, 20));
        await alice.stop();
        await bob.stop();
        expect(await viewMismatches(alice, server.url, 'token-alice'), `after drop ${drop}`).toEqual([]);
        expect(await viewMismatches(bob, server.url, 'token-bob')).toEqual([]);
      }
      expect(alice.record.problems).toEqual([]);
      expect(bob.record.problems).toEqual([]);
      expect(alice.record.resumes).toBe(DROPS);
      expect(alice.record.gaps).toBe(0);
      // The test is only worth something if the drops hit traffic: replayed messages and lost replies.
      expect(alice.record.replayed).toBeGreaterThan(0);
      expect(alice.record.connectionLost).toBeGreaterThan(0);
      expect(alice.record.resolvedFound + alice.record.resolvedUnknown).toBeGreaterThan(0);
      expect(alice.fills.size).toBeGreaterThan(0);
    } finally {
      alice.client.close();
      bob.client.close();
    }
  }, 120_000);

  it('resubscribes its book after each drop: synced, the same levels as a fresh subscriber, and deltas go on applying', async () => {
    const random = mulberry32(7);
    const client = await connectVia(proxy.url, { initialDelayMs: 20, maxDelayMs: 200, random });
    const bob = await ReconnectTrader.start({
      url: server.url,
      token: 'token-bob',
      sym: SYM,
      random: mulberry32(3),
      midPx: MID,
      takes: true,
    });
    const carol = await ReconnectTrader.start({
      url: server.url,
      token: 'token-carol',
      sym: SYM,
      random: mulberry32(4),
      midPx: MID,
      takes: false,
    });
    const trades: number[] = [];
    let updates = 0;
    const book = await client.subscribeBook(SYM, { depth: 20, onUpdate: () => updates++ });
    await client.subscribeTrades(SYM, (t) => trades.push(t.tradeId));
    await client.subscribeTicker(SYM);
    await client.subscribeCandles(SYM, '1m');
    let tickers = 0;
    let candles = 0;
    client.onTicker(() => tickers++);
    client.onCandle(() => candles++);
    // Seen from the event, not by polling client.state: under load the whole reconnect can finish
    // between two polls. The book must already be unsynced when the client reports the drop.
    const syncedAtDrop: boolean[] = [];
    client.onReconnecting((e) => {
      if (e.attempt === 1) syncedAtDrop.push(book.synced);
    });
    try {
      for (let drop = 0; drop < 10; drop++) {
        bob.run();
        carol.run();
        await sleep(randomInt(random, 5, 40));
        proxy.dropAll();
        await waitUntil(() => syncedAtDrop.length > drop, 'the drop to be seen');
        expect(syncedAtDrop[drop]).toBe(false);
        await waitUntil(() => client.state === 'open' && book.synced, `the book resynced after drop ${drop}`);
        const before = { updates, trades: trades.length };
        await sleep(30);
        await bob.stop();
        await carol.stop();
        const fresh = await connectVia(server.url, undefined);
        const truth = await fresh.subscribeBook(SYM, { depth: 20 });
        await client.ping();
        await fresh.ping();
        expect(book.synced).toBe(true);
        expect({ bids: book.bids(), asks: book.asks(), cs: book.checksum() }).toEqual({
          bids: truth.bids(),
          asks: truth.asks(),
          cs: truth.checksum(),
        });
        fresh.close();
        // Market data kept flowing on the new connection.
        expect(updates).toBeGreaterThan(before.updates);
        expect(trades.length).toBeGreaterThanOrEqual(before.trades);
      }
      expect(client.resyncs).toBe(0);
      expect(trades.length).toBeGreaterThan(0);
      // The ticker and candles channels were subscribed again too: a trade after the last drop reaches both.
      const seen = { tickers, candles };
      await bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: MID + 40, qty: 1, post: true, cid: 'after-drops' });
      const taker = await connectVia(server.url, undefined);
      await taker.login('token-alice');
      expect((await taker.place({ sym: SYM, side: 'buy', kind: 'limit', px: MID + 50, qty: 1, tif: 'ioc' })).type).toBe('ack');
      taker.close();
      await waitUntil(() => tickers > seen.tickers && candles > seen.candles, 'a ticker and a candle after the drops');
    } finally {
      client.close();
      bob.client.close();
      carol.client.close();
    }
  }, 60_000);

  it('requests in flight at the drop reject with ConnectionLostError; by cid, one is found and one was never received; while away, requests fail fast', async () => {
    const client = await connectVia(proxy.url, { initialDelayMs: 300, random: () => 0.99 });
    try {
      await client.login('token-carol');
      await client.orders();
      proxy.holdReplies = true;
      const received = client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 4_000_000, qty: 7, post: true, cid: 'inflight-received' });
      await waitUntil(
        () => server.server.engine.openOrders('carol', SYM).some((o) => o.cid === 'inflight-received'),
        'the order to reach the server',
      );
      proxy.holdRequests = true;
      const lost = client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 4_000_001, qty: 7, post: true, cid: 'inflight-lost' });
      let reconnecting = 0;
      client.onReconnecting(() => reconnecting++);
      proxy.dropAll();
      const errors = await Promise.all(
        [received, lost].map((p) =>
          p.then(
            () => undefined,
            (e: unknown) => e,
          ),
        ),
      );
      for (const [i, cid] of ['inflight-received', 'inflight-lost'].entries()) {
        expect(errors[i]).toBeInstanceOf(ConnectionLostError);
        expect((errors[i] as ConnectionLostError).kind).toBe('connection_lost');
        expect((errors[i] as ConnectionLostError).request).toMatchObject({ op: 'place', cid });
      }
      expect(reconnecting).toBe(1);
      expect(client.state).toBe('reconnecting');
      await expect(client.ping()).rejects.toMatchObject({ kind: 'disconnected' });
      await expect(client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 1, qty: 1 })).rejects.toBeInstanceOf(ClientError);
      const resumed = await new Promise<{ replayed: number }>((resolve) => client.onResumed(resolve));
      // The exec of the order the server took was replayed: the local view has it already.
      expect(resumed.replayed).toBeGreaterThan(0);
      expect(client.openOrders(SYM).map((o) => o.cid)).toContain('inflight-received');
      expect((await client.order(SYM, 'inflight-received')).order).toMatchObject({ status: 'new', qty: 7 });
      const unknown = await client.order(SYM, 'inflight-lost').catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(RejectError);
      expect((unknown as RejectError).code).toBe('unknown_order');
      await client.cancelAll(SYM);
    } finally {
      client.close();
    }
  });

  it('a gap still owes its snapshots when the restore fails right after the login that found it', async () => {
    const small = await startTestServer({ privateStreamRetention: 3 });
    const cutter = await TcpProxy.start(small.port);
    const client = await connectVia(cutter.url, { initialDelayMs: 300, maxDelayMs: 300, random: () => 0.99 });
    const other = await SpotwireClient.connect(small.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    try {
      await client.login('token-alice');
      await client.orders();
      await other.login('token-alice-2'); // the same account, not behind the proxy
      const gaps: string[] = [];
      client.onGap((g) => gaps.push(g.reason));
      // Cut the new connection the moment the login reply reports the gap, before any snapshot.
      let cutOnGap = true;
      client.onMessage((m) => {
        if (m.type === 'login' && m.resumeGap !== undefined && cutOnGap) {
          cutOnGap = false;
          cutter.dropAll();
        }
      });
      const resumed = new Promise<{ replayed: number }>((resolve) => client.onResumed(resolve));
      cutter.dropAll();
      await waitUntil(() => client.state === 'reconnecting', 'the drop');
      // More than the 3 messages kept happen while the client is away: its resume is a gap.
      for (let i = 0; i < 3; i++)
        await other.place({ sym: SYM, side: 'buy', kind: 'limit', px: 3_000_000 + i, qty: 1, post: true, cid: `gap-${i}` });
      expect(client.state).toBe('reconnecting');
      expect((await resumed).replayed).toBe(0);
      expect(cutOnGap).toBe(false);
      // The second login resumed cleanly (nothing replayed) from the first one's pseq, but the
      // snapshots the first one's gap called for were still taken.
      expect(gaps).toHaveLength(1);
      expect(client.openOrders(SYM).map((o) => o.cid)).toEqual(['gap-0', 'gap-1', 'gap-2']);
      await other.cancelAll();
    } finally {
      client.close();
      other.close();
      await cutter.close();
      await small.stop();
    }
  });

  it('close() while away stops for good; with maxAttempts it gives up when nothing answers', async () => {
    const client = await connectVia(proxy.url, { initialDelayMs: 200, random: () => 0.99 });
    const closes: { code: number; reason: string }[] = [];
    client.onClose((info) => closes.push(info));
    proxy.dropAll();
    await waitUntil(() => client.state === 'reconnecting', 'the drop');
    const accepted = proxy.accepted;
    client.close();
    expect(client.state).toBe('closed');
    expect(closes).toHaveLength(1);
    await sleep(400);
    expect(proxy.accepted).toBe(accepted);

    const dead = await TcpProxy.start(server.port);
    const giving = await connectVia(dead.url, { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 });
    const attempts: number[] = [];
    giving.onReconnecting((e) => attempts.push(e.attempt));
    const gaveUp = new Promise<{ code: number; reason: string }>((resolve) => giving.onClose(resolve));
    await dead.close(); // drops the connection and listens no more
    await gaveUp;
    expect(attempts).toEqual([1, 2, 3]);
    expect(giving.state).toBe('closed');
  });
});
