// Candles are deterministic under replay: a live session whose batch clock jumps across minutes,
// hours and days, watched on every interval of both markets, then `replay --serve` of its journal
// watched the same way. The candle messages and the final candles, ticker and recent trades must be
// the same, from the start and from a seq past a snapshot (state rebuilt from snapshot + journal).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejectError } from '../../protocol/client.js';
import { CANDLE_INTERVALS } from '../../protocol/constants.js';
import type { CandleMessage, CandlesSnapshot, TickerMessage, TradesSnapshot } from '../../protocol/messages.js';
import { barrier, connect, type Recorded } from '../support/e2e.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { SYMS } from './capture-session.js';
import { startReplay, type ReplayProcess } from './replay-cli.js';

const MINUTE = 60_000;

interface Final {
  readonly candles: CandlesSnapshot[];
  readonly tickers: TickerMessage[];
  readonly recent: TradesSnapshot[];
}

let live: TestServer;
let liveCandles: CandleMessage[] = [];
let liveFinal: Final;
let lastSeq = 0;
const running: ReplayProcess[] = [];
const clients: Recorded[] = [];

async function subscribeCandles(client: Recorded): Promise<void> {
  for (const sym of SYMS) for (const interval of CANDLE_INTERVALS) await client.client.subscribeCandles(sym, interval, { limit: 1000 });
}

async function finalState(url: string): Promise<Final> {
  const client = await connect(url);
  clients.push(client);
  const final: Final = { candles: [], tickers: [], recent: [] };
  for (const sym of SYMS) {
    for (const interval of CANDLE_INTERVALS) final.candles.push(await client.client.subscribeCandles(sym, interval, { limit: 1000 }));
    final.tickers.push(await client.client.subscribeTicker(sym));
    final.recent.push(await client.client.subscribeTradesWithRecent(sym, 500, () => undefined));
  }
  return final;
}

const candleMessages = (client: Recorded): CandleMessage[] => client.messages.filter((m): m is CandleMessage => m.type === 'candle');

beforeAll(async () => {
  let now = Date.UTC(2026, 2, 1, 22, 50, 0);
  live = await startTestServer({ keepJournal: true, snapshotEveryCommands: 40 }, { clock: () => now });
  const observer = await connect(live.url);
  const alice = await connect(live.url, 'token-alice');
  const bob = await connect(live.url, 'token-bob');
  clients.push(observer, alice, bob);
  await subscribeCandles(observer);
  const random = mulberry32(7);
  for (let round = 0; round < 80; round++) {
    const jump = random();
    now +=
      jump < 0.5 ? randomInt(random, 0, 20_000) : jump < 0.95 ? randomInt(random, 1, 40) * MINUTE : randomInt(random, 20, 30) * 60 * MINUTE;
    // Both traders at once: live batches of several commands, trades in both markets.
    await Promise.all(
      [alice, bob].flatMap((trader) =>
        [1, 2].map(async () => {
          const sym = pick(random, SYMS);
          const side = pick(random, ['buy', 'sell'] as const);
          try {
            await trader.client.place({ sym, side, kind: 'limit', px: randomInt(random, 95, 105), qty: randomInt(random, 1, 20) });
          } catch (error) {
            if (!(error instanceof RejectError)) throw error;
          }
        }),
      ),
    );
  }
  await barrier(observer);
  liveCandles = candleMessages(observer);
  liveFinal = await finalState(live.url);
  lastSeq = live.server.journal.lastSeq;
  for (const client of clients.splice(0)) client.client.close();
  await live.server.close();
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.client.close();
  await Promise.all(running.map((replay) => replay.stop()));
  if (live) rmSync(live.dir, { recursive: true, force: true });
});

async function replayed(args: readonly string[]): Promise<{ candles: CandleMessage[]; final: Final; stdout: string }> {
  const replay = startReplay([
    join(live.dir, 'data'),
    '--serve',
    '--port',
    '0',
    '--speed',
    'max',
    '--wait-subs',
    String(SYMS.length * CANDLE_INTERVALS.length),
    ...args,
  ]);
  running.push(replay);
  const [, port] = await replay.waitFor(/serving ws:\/\/127\.0\.0\.1:(\d+)\/ws/);
  const url = `ws://127.0.0.1:${port}/ws`;
  const watcher = await connect(url);
  clients.push(watcher);
  await subscribeCandles(watcher);
  await replay.waitFor(/replay done/);
  await barrier(watcher);
  return { candles: candleMessages(watcher), final: await finalState(url), stdout: replay.stdout };
}

describe('candles under replay --serve', () => {
  it('the live session made closes on every interval, in both markets', () => {
    for (const sym of SYMS) {
      for (const interval of CANDLE_INTERVALS) {
        expect(
          liveCandles.some((c) => c.sym === sym && c.interval === interval && c.closed),
          `${sym} ${interval} closed`,
        ).toBe(true);
      }
    }
    expect(liveFinal.candles.find((s) => s.sym === SYMS[0] && s.interval === '1d')!.candles.length).toBeGreaterThan(1);
  });

  it('from the start: the same candle messages in the same order, and the same final state', async () => {
    const replay = await replayed([]);
    expect(liveCandles.length).toBeGreaterThan(100);
    expect(replay.candles.length).toBe(liveCandles.length);
    expect(replay.candles).toEqual(liveCandles);
    expect(replay.final).toEqual(liveFinal);
  });

  it('from a seq past a snapshot: the same final state', async () => {
    // The server keeps its two newest snapshots: start just past the older one.
    const oldest = readdirSync(join(live.dir, 'data', 'snapshots'))
      .filter((name) => name.endsWith('.snap'))
      .sort()[0]!;
    const from = Number(oldest.slice(0, 16)) + 1;
    expect(from).toBeLessThan(lastSeq - 10);
    const replay = await replayed(['--from', String(from)]);
    expect(replay.stdout).toMatch(/state from snapshot \d+ \+/);
    expect(replay.candles.length).toBeGreaterThan(0);
    expect(replay.candles.length).toBeLessThan(liveCandles.length);
    // What it published is the tail of what live published.
    expect(liveCandles.slice(-replay.candles.length)).toEqual(replay.candles);
    expect(replay.final).toEqual(liveFinal);
  });
});
