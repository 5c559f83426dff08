// `my_trades` and `order` beyond what memory keeps: with Postgres configured, older fills and
// orders come from the write-behind's tables, continuing memory's pages with no gap and no repeat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exec, MyTrade } from '../../protocol/messages.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { connect, SYM, SYM2, type Recorded } from '../support/e2e.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch-database.js';

const RETENTION = 3;
let db: ScratchDatabase;
let server: TestServer;
let bob: Recorded;
let carol: Recorded;
/** Every fill bob made, newest first, as his execs reported them. */
let bobFills: { tradeId: number; sym: string; fee: number; ts: number }[] = [];
let oldOrderId = 0;

beforeAll(async () => {
  db = await createScratchDatabase();
  server = await startTestServer({ databaseUrl: db.url, closedOrderRetention: RETENTION });
  bob = await connect(server.url, 'token-bob');
  carol = await connect(server.url, 'token-carol');
  const first = await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 100, qty: 1, cid: 'old-one' });
  oldOrderId = first.id!;
  await bob.client.cancel(SYM, first.id!);
  // Ten fills for bob in two markets, some as maker, some as taker, a few in one batch.
  for (let i = 0; i < 10; i++) {
    const sym = i % 3 === 0 ? SYM2 : SYM;
    if (i % 2 === 0) {
      await carol.client.place({ sym, side: 'sell', kind: 'limit', px: 10_000 + i, qty: 2 + i });
      await bob.client.place({ sym, side: 'buy', kind: 'limit', px: 10_000 + i, qty: 2 + i, cid: `take-${i}` });
    } else {
      await bob.client.place({ sym, side: 'sell', kind: 'limit', px: 20_000 + i, qty: 1 + i, cid: `make-${i}` });
      await carol.client.place({ sym, side: 'buy', kind: 'limit', px: 20_000 + i, qty: 1 + i });
    }
    // A closed order of bob's to evict old-one from the memory of closed orders.
    await bob.client.place({ sym, side: 'buy', kind: 'limit', px: 50, qty: 1 }).then((ack) => bob.client.cancel(sym, ack.id!));
  }
  await bob.client.ping();
  bobFills = bob.execs
    .filter((e): e is Exec & { fill: NonNullable<Exec['fill']> } => e.fill !== undefined)
    .map((e) => ({ tradeId: e.fill.tradeId, sym: e.sym, fee: e.fill.fee, ts: e.ts }))
    .reverse();
  expect(bobFills).toHaveLength(10);
  // The write-behind writes behind: wait until every trade is in Postgres.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const count = (await db.sql<{ count: number }[]>`select count(*)::int as count from trades`)[0]!.count;
    if (count === 10) break;
    if (Date.now() > deadline) throw new Error(`only ${count} trades reached Postgres`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 60_000);

afterAll(async () => {
  bob?.client.close();
  carol?.client.close();
  await server?.stop();
  await db?.drop();
});

const key = (t: MyTrade): string => `${t.sym}/${t.tradeId}`;

describe('my_trades with a history in Postgres', () => {
  it('answers every fill, newest first: the recent from memory (with n), the older from Postgres', async () => {
    const reply = await bob.client.myTrades({ limit: 100 });
    expect(reply.more).toBe(false);
    expect(reply.trades.map(key)).toEqual(bobFills.map((f) => `${f.sym}/${f.tradeId}`));
    expect(reply.trades.map((t) => t.fee)).toEqual(bobFills.map((f) => f.fee));
    const fromMemory = reply.trades.filter((t) => t.n !== undefined);
    expect(fromMemory.length).toBeGreaterThan(0);
    expect(fromMemory.length).toBeLessThanOrEqual(RETENTION);
    expect(reply.trades.slice(0, fromMemory.length)).toEqual(fromMemory);
    const fromHistory = reply.trades.slice(fromMemory.length);
    expect(fromHistory.length).toBeGreaterThanOrEqual(10 - RETENTION);
    for (const trade of fromHistory) {
      expect(trade.n).toBeUndefined();
      expect(trade.feeAsset).toBe(trade.side === 'buy' ? (trade.sym === SYM ? 'BTC' : 'ETH') : 'USD');
      expect(trade.cid).toMatch(/^(take|make)-\d$/);
      expect(trade.liquidity).toBe(trade.cid!.startsWith('make') ? 'maker' : 'taker');
    }
  });

  it('pages through memory and history with before/after and gives each fill once', async () => {
    for (const limit of [1, 2, 3, 4]) {
      const seen: string[] = [];
      let page = await bob.client.myTrades({ limit });
      for (let guard = 0; guard < 20; guard++) {
        seen.push(...page.trades.map(key));
        expect(page.trades.length).toBeLessThanOrEqual(limit);
        if (!page.more) break;
        const last = page.trades.at(-1)!;
        page =
          page.next !== undefined
            ? await bob.client.myTrades({ limit, after: page.next })
            : await bob.client.myTrades({ limit, before: last.n! });
      }
      expect(seen).toEqual(bobFills.map((f) => `${f.sym}/${f.tradeId}`));
    }
  });

  it('filters by market and by a time window across memory and history', async () => {
    const eth = await bob.client.myTrades({ sym: SYM2, limit: 100 });
    expect(eth.trades.map(key)).toEqual(bobFills.filter((f) => f.sym === SYM2).map((f) => `${f.sym}/${f.tradeId}`));
    const from = bobFills[7]!.ts;
    const to = bobFills[1]!.ts;
    const window = await bob.client.myTrades({ from, to, limit: 100 });
    expect(window.trades.map(key)).toEqual(bobFills.filter((f) => f.ts >= from && f.ts < to).map((f) => `${f.sym}/${f.tradeId}`));
  });

  it('answers order for an order memory forgot, from Postgres; refuses bad cursors and too many queries at once', async () => {
    const reply = await bob.client.order(SYM, oldOrderId);
    expect(reply.order).toMatchObject({ id: oldOrderId, cid: 'old-one', status: 'canceled', reason: 'user', filled: 0, leaves: 0 });
    expect((await bob.client.order(SYM, { cid: 'old-one' })).order.id).toBe(oldOrderId);
    expect(await bob.client.request({ op: 'order', sym: SYM, id: 999_999 })).toMatchObject({ type: 'reject', code: 'unknown_order' });
    expect(await carol.client.request({ op: 'order', sym: SYM, id: oldOrderId })).toMatchObject({ type: 'reject', code: 'unknown_order' });
    expect(await bob.client.request({ op: 'my_trades', after: 'nonsense' })).toMatchObject({ type: 'reject', code: 'bad_request' });

    // Queries wait while a lock holds the trades table: four per connection wait, the rest are refused.
    const socket = await RawSocket.open(server.url);
    await socket.request({ op: 'login', token: 'token-bob' }, 'login');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.sql.begin(async (tx) => {
      await tx`lock table trades in access exclusive mode`;
      locked();
      await released;
    });
    await isLocked;
    socket.send(Array.from({ length: 6 }, (_, i) => ({ op: 'my_trades', limit: 100, rid: `q${i}` })));
    await socket.waitFor((messages) => messages.filter((m) => m.code === 'overloaded').length === 2);
    expect(socket.messages.filter((m) => m.type === 'my_trades')).toHaveLength(0);
    release();
    await holder;
    await socket.waitFor((messages) => messages.filter((m) => m.type === 'my_trades').length === 4);
    expect(socket.messages.filter((m) => String(m.rid).startsWith('q'))).toHaveLength(6);
    await socket.close();
  });
});
