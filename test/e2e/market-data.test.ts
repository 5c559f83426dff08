// The candles, ticker and recent-trades channels over WebSocket against a real server whose batch
// clock the test moves (engine time), so candles close on cue: snapshots, open updates and closes
// across several intervals, the ticker's content and its conflation, the recent snapshot joined to
// live trades without gap or duplicate, rejects, and candle history across a restart.
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CandleMessage,
  CandlesSnapshot,
  ServerMessage,
  TickerMessage,
  TradeMessage,
  TradesSnapshot,
} from '../../protocol/messages.js';
import { barrier, connect, SYM, waitUntil, type Recorded } from '../support/e2e.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const MINUTE = 60_000;
/** Engine time; the server stamps each batch with it. */
let now = Date.UTC(2026, 0, 5, 10, 0, 5);
const clock = (): number => now;

let ts: TestServer;
let alice: Recorded;
let bob: Recorded;
const opened: Recorded[] = [];

async function open(token?: string): Promise<Recorded> {
  const client = await connect(ts.url, token);
  opened.push(client);
  return client;
}

/** One trade of `qty` at `px`: alice rests a sell, bob takes it (two batches, both at engine time `now`). */
async function trade(px: number, qty: number, sym = SYM): Promise<void> {
  await alice.client.place({ sym, side: 'sell', kind: 'limit', px, qty });
  await bob.client.place({ sym, side: 'buy', kind: 'limit', px, qty, tif: 'ioc' });
}

const candlesOf = (r: Recorded, interval?: string): CandleMessage[] =>
  r.messages.filter((m): m is CandleMessage => m.type === 'candle' && (interval === undefined || m.interval === interval));
const tickersOf = (r: Recorded): TickerMessage[] => r.messages.filter((m): m is TickerMessage => m.type === 'ticker');

beforeAll(async () => {
  ts = await startTestServer({ snapshotEveryCommands: 7, keepJournal: false }, { clock });
  alice = await open('token-alice');
  bob = await open('token-bob');
});

afterAll(async () => {
  for (const client of opened) client.client.close();
  await ts?.stop();
});

describe('candles', () => {
  it('snapshot, open updates after the trades, a close on a later batch, several intervals', async () => {
    const watcher = await open();
    const heard: CandleMessage[] = [];
    watcher.client.onCandle((candle) => heard.push(candle));
    const empty = await watcher.client.subscribeCandles(SYM, '1m');
    expect(empty).toEqual({ type: 'candles', sym: SYM, interval: '1m', snapshot: true, candles: [] });
    expect((await watcher.client.subscribeCandles(SYM, '1h')).candles).toEqual([]);

    const minute = Date.UTC(2026, 0, 5, 10, 0);
    await trade(1000, 5);
    now += 1000;
    await trade(1010, 2);
    await barrier(watcher);
    expect(candlesOf(watcher, '1m')).toEqual([
      { type: 'candle', sym: SYM, interval: '1m', t: minute, o: 1000, h: 1000, l: 1000, c: 1000, v: 5, n: 1, closed: false },
      { type: 'candle', sym: SYM, interval: '1m', t: minute, o: 1000, h: 1010, l: 1000, c: 1010, v: 7, n: 2, closed: false },
    ]);
    expect(candlesOf(watcher, '1h').map((c) => [c.t, c.v, c.closed])).toEqual([
      [Date.UTC(2026, 0, 5, 10), 5, false],
      [Date.UTC(2026, 0, 5, 10), 7, false],
    ]);
    const trades = await open();
    await trades.client.subscribeTrades(SYM, () => undefined);
    await trades.client.subscribeCandles(SYM, '1m');
    now += 2 * MINUTE;
    // A batch with no trade (an order that rests) closes the 1m candle; the 1h one stays open.
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 5000, qty: 1 });
    await barrier(watcher);
    expect(candlesOf(watcher).slice(-1)).toEqual([
      { type: 'candle', sym: SYM, interval: '1m', t: minute, o: 1000, h: 1010, l: 1000, c: 1010, v: 7, n: 2, closed: true },
    ]);
    await trade(990, 1);
    await barrier(watcher, trades);
    // The batch's candle update comes after its trade message.
    expect(candlesOf(watcher, '1m').slice(-1)).toEqual([
      { type: 'candle', sym: SYM, interval: '1m', t: minute + 2 * MINUTE, o: 990, h: 990, l: 990, c: 990, v: 1, n: 1, closed: false },
    ]);
    expect(candlesOf(watcher, '1m').filter((c) => c.closed)).toHaveLength(1);
    expect(heard).toEqual(candlesOf(watcher));
    const seen = trades.messages
      .filter((m) => m.type === 'candle' || m.type === 'trade')
      .map((m) => (m.type === 'candle' ? `candle closed:${m.closed}` : m.type));
    expect(seen).toEqual(['candle closed:true', 'trade', 'candle closed:false']);

    // A later subscriber's snapshot: the closed candle, then the open one; limit keeps the newest.
    const late = await open();
    const snapshot = await late.client.subscribeCandles(SYM, '1m');
    expect(snapshot.candles.map((c) => [c.t, c.o, c.c, c.v, c.n])).toEqual([
      [minute, 1000, 1010, 7, 2],
      [minute + 2 * MINUTE, 990, 990, 1, 1],
    ]);
    expect((await late.client.subscribeCandles(SYM, '1m', { limit: 1 })).candles.map((c) => c.t)).toEqual([minute + 2 * MINUTE]);
    expect((await late.client.subscribeCandles(SYM, '1h')).candles).toEqual([
      { t: Date.UTC(2026, 0, 5, 10), o: 1000, h: 1010, l: 990, c: 990, v: 8, n: 3 },
    ]);
    // unsub ends one interval only.
    expect(await late.client.unsubscribeCandles(SYM, '1m')).toMatchObject({ type: 'unsubbed', ch: 'candles', sym: SYM, interval: '1m' });
    await trade(995, 1);
    await barrier(late);
    const after = candlesOf(late).filter((c) => c.v === 9 || c.n === 2);
    expect(after.map((c) => c.interval)).toEqual(['1h']);
  });

  it('rejects an unknown interval (naming the intervals), a missing one, and an unknown market', async () => {
    const raw = await RawSocket.open(ts.url);
    raw.send([
      { op: 'sub', rid: 1, ch: 'candles', sym: SYM, interval: '2m' },
      { op: 'sub', rid: 2, ch: 'candles', sym: SYM },
      { op: 'sub', rid: 3, ch: 'candles', sym: 'NOPE-USD', interval: '1m' },
      { op: 'sub', rid: 4, ch: 'candles', sym: SYM, interval: '1d', limit: 1001 },
    ]);
    await raw.waitFor((messages) => messages.length >= 4);
    expect(raw.messages).toEqual([
      { type: 'reject', op: 'sub', code: 'bad_request', msg: 'interval must be one of 1m, 5m, 15m, 1h, 1d', rid: 1 },
      { type: 'reject', op: 'sub', code: 'bad_request', msg: 'interval is required for candles: one of 1m, 5m, 15m, 1h, 1d', rid: 2 },
      { type: 'reject', op: 'sub', code: 'unknown_market', msg: 'unknown market', rid: 3 },
      { type: 'reject', op: 'sub', code: 'bad_request', msg: 'limit must be at most 1000', rid: 4 },
    ]);
    raw.close();
  });

  it('sends subbed and the snapshot in one frame, with interval on subbed', async () => {
    const raw = await RawSocket.open(ts.url);
    raw.send({ op: 'sub', rid: 9, ch: 'candles', sym: SYM, interval: '5m', limit: 1 });
    await raw.waitFor((messages) => messages.length >= 2);
    expect(raw.frames).toBe(1);
    expect(raw.messages[0]).toEqual({ type: 'subbed', ch: 'candles', sym: SYM, interval: '5m', rid: 9 });
    expect(raw.messages[1]).toMatchObject({ type: 'candles', sym: SYM, interval: '5m', snapshot: true });
    expect((raw.messages[1] as unknown as CandlesSnapshot).candles).toHaveLength(1);
    raw.close();
  });
});

describe('ticker', () => {
  it('shows the book top, last and the 24 h window in engine time at once, then on change', async () => {
    const sym = 'ETH-USD';
    const watcher = await open();
    const first = await watcher.client.subscribeTicker(sym);
    expect(first).toEqual({
      type: 'ticker',
      sym,
      bid: null,
      bidQty: null,
      ask: null,
      askQty: null,
      last: null,
      open: null,
      high: null,
      low: null,
      volume: 0,
      change: null,
      ts: now,
    });
    await bob.client.place({ sym, side: 'buy', kind: 'limit', px: 150, qty: 3 });
    await waitUntil(() => tickersOf(watcher).some((t) => t.bid === 150), 'a ticker with the bid');
    expect(tickersOf(watcher).at(-1)).toMatchObject({ bid: 150, bidQty: 3, ask: null, last: null });
    const opening = now;
    await trade(210, 2, sym);
    now += 5 * MINUTE;
    await trade(190, 4, sym);
    await waitUntil(() => tickersOf(watcher).some((t) => t.volume === 6), 'a ticker with both trades');
    expect(tickersOf(watcher).at(-1)).toEqual({
      type: 'ticker',
      sym,
      bid: 150,
      bidQty: 3,
      ask: null,
      askQty: null,
      last: 190,
      open: 210,
      high: 210,
      low: 190,
      volume: 6,
      change: -20,
      ts: now,
    });
    // 24 h after the first trade's minute, it leaves the window (a later batch moves engine time).
    now = opening - (opening % MINUTE) + 1440 * MINUTE;
    await alice.client.place({ sym, side: 'sell', kind: 'limit', px: 900, qty: 1 });
    await waitUntil(() => tickersOf(watcher).some((t) => t.volume === 4), 'the first trade evicted');
    expect(tickersOf(watcher).at(-1)).toMatchObject({
      ask: 900,
      askQty: 1,
      last: 190,
      open: 190,
      high: 190,
      low: 190,
      volume: 4,
      change: 0,
      ts: now,
    });
    // Ending the ticker leaves the connection's trade listeners alone, and no ticker follows.
    const heard: TradeMessage[] = [];
    await watcher.client.subscribeTrades(sym, (t) => heard.push(t));
    await watcher.client.unsubscribe('ticker', sym);
    const tickersBefore = tickersOf(watcher).length;
    await trade(500, 1, sym);
    await waitUntil(() => heard.length === 1, 'the trade after unsub ticker');
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(tickersOf(watcher)).toHaveLength(tickersBefore);
  });

  it('conflates a burst: at most one ticker per 100 ms, the last one the final state', async () => {
    const watcher = await open();
    const heard: TickerMessage[] = [];
    watcher.client.onTicker((ticker) => heard.push(ticker));
    await watcher.client.subscribeTicker(SYM);
    const before = tickersOf(watcher).length;
    const started = performance.now();
    for (let i = 0; i < 60; i++) await trade(1000 + (i % 5), 1);
    // Whatever was due at the end goes out within the next interval or two.
    await new Promise((resolve) => setTimeout(resolve, 350));
    const elapsed = performance.now() - started;
    const burst = tickersOf(watcher).slice(before);
    expect(burst.length).toBeGreaterThanOrEqual(1);
    expect(burst.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / 100));
    // The last one sent is the final state: what a new subscriber's first ticker shows.
    const snapshot = await (await open()).client.subscribeTicker(SYM);
    expect(burst.at(-1)).toEqual(snapshot);
    expect(snapshot.last).toBe(1000 + (59 % 5));
    expect(snapshot.volume - (tickersOf(watcher)[before - 1]?.volume ?? 0)).toBe(60);
    expect(heard).toEqual(tickersOf(watcher));
  });
});

describe('recent trades', () => {
  it('without recent: subbed alone, as the contract has it', async () => {
    const raw = await RawSocket.open(ts.url);
    raw.send({ op: 'sub', rid: 1, ch: 'trades', sym: SYM });
    raw.send({ op: 'ping', rid: 2 });
    await raw.waitFor((messages) => messages.some((m) => m.type === 'pong'));
    expect(raw.messages[0]).toEqual({ type: 'subbed', ch: 'trades', sym: SYM, rid: 1 });
    expect(raw.messages.filter((m) => m.type === 'trades')).toEqual([]);
    raw.close();
  });

  it('a snapshot of the last N, oldest first, then live trades with no gap and no duplicate', async () => {
    const sym = 'ETH-USD';
    for (let i = 0; i < 4; i++) await trade(300 + i, 1, sym);
    const small = await open();
    const three = await small.client.subscribeTradesWithRecent(sym, 3, () => undefined);
    expect(three.trades.map((t) => t.px)).toEqual([301, 302, 303]);
    expect(three.trades[0]).toEqual({ tradeId: three.trades[0]!.tradeId, px: 301, qty: 1, side: 'buy', ts: now });
    expect(three.trades.map((t) => t.tradeId)).toEqual([1, 2, 3].map((k) => three.trades[0]!.tradeId + k - 1));

    // Subscribe while trades are being made: snapshot + live must be every trade since, once.
    let trading = true;
    const background = (async () => {
      for (let i = 0; trading && i < 400; i++) await trade(400 + (i % 10), 1, sym);
    })();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const live: TradeMessage[] = [];
    const joined = await open();
    const snapshot: TradesSnapshot = await joined.client.subscribeTradesWithRecent(sym, 500, (t) => live.push(t));
    await new Promise((resolve) => setTimeout(resolve, 60));
    trading = false;
    await background;
    await barrier(joined);
    expect(live.length).toBeGreaterThan(0);
    const ids = [...snapshot.trades.map((t) => t.tradeId), ...live.map((t) => t.tradeId)];
    expect(snapshot.trades.length).toBeLessThanOrEqual(500);
    for (let i = 1; i < ids.length; i++) expect(ids[i], `trade ${i}`).toBe(ids[i - 1]! + 1);
    const observer = [...alice.messages, ...bob.messages].filter(
      (m: ServerMessage) => m.type === 'exec' && m.sym === sym && m.fill !== undefined,
    );
    const lastId = Math.max(...observer.map((m) => (m.type === 'exec' ? m.fill!.tradeId : 0)));
    expect(ids.at(-1)).toBe(lastId);
  });
});

describe('across a restart', () => {
  it('candles, ticker and recent trades come back (snapshot + journal)', async () => {
    for (let i = 0; i < 5; i++) {
      now += 7 * MINUTE;
      await trade(1100 + i, 2);
    }
    const watcher = await open();
    const before = await watcher.client.subscribeCandles(SYM, '1m', { limit: 1000 });
    const hourBefore = await watcher.client.subscribeCandles(SYM, '1h');
    const tickerBefore = await watcher.client.subscribeTicker(SYM);
    const recentBefore = await watcher.client.subscribeTradesWithRecent(SYM, 50, () => undefined);
    expect(before.candles.length).toBeGreaterThan(5);
    expect(before.candles.at(-1)!.t).toBe(now - (now % MINUTE));
    for (const client of opened) client.client.close();
    opened.length = 0;
    const dataDir = `${ts.dir}/data`;
    await ts.server.close();
    // Segments the snapshots cover are gone: the history before them comes from a snapshot.
    expect(readdirSync(`${dataDir}/snapshots`).length).toBeGreaterThan(0);
    expect(readdirSync(`${dataDir}/journal`)[0]).not.toBe('0000000000000001.seg');
    const again = await startTestServer({ dataDir, snapshotEveryCommands: 7, keepJournal: false }, { clock });
    try {
      const client = await connect(again.url);
      expect(await client.client.subscribeCandles(SYM, '1m', { limit: 1000 })).toEqual(before);
      expect(await client.client.subscribeCandles(SYM, '1h')).toEqual(hourBefore);
      expect(await client.client.subscribeTicker(SYM)).toEqual(tickerBefore);
      expect(await client.client.subscribeTradesWithRecent(SYM, 50, () => undefined)).toEqual(recentBefore);
      client.client.close();
    } finally {
      await again.stop();
    }
    // The first server's dir goes with afterAll; its server is already closed.
    const dir = ts.dir;
    ts = { ...ts, stop: async () => rmSync(dir, { recursive: true, force: true }) };
  });
});
