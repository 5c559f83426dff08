// Snapshots plus the journal tail rebuild exactly the live state: random trading with a small
// snapshot interval, then recovery, compared by state hash (engine state and market-data seqs).
// Ids, trade ids and book seqs continue where the live server left them.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ack, Reply, TradeMessage } from '../../protocol/messages.js';
import type { RawRequest } from '../../protocol/client.js';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import { DEFAULT_ENGINE_LIMITS } from '../../server/engine/types.js';
import { createCommandCodec, type JournalEntry } from '../../server/journal/command-codec.js';
import { Journal } from '../../server/journal/journal.js';
import { recover } from '../../server/journal/recovery.js';
import { stateHash } from '../../server/journal/snapshot-store.js';
import { dataPaths } from '../../server/server.js';
import { connect, waitUntil, type Recorded } from '../support/e2e.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
import { fundingBatch, JOURNAL_MARKETS, makeTempDir, randomCommand, silentLog, startOnDataDir } from './journal-support.js';
import { listSegments, listSnapshots } from '../../server/journal/file-names.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs accepted random commands on the live engine and advances bookSeqs as the gateway does (once per batch per changed market). */
function liveBatch(
  random: () => number,
  engine: MatchingEngine,
  bookSeqs: Record<string, number>,
  size: number,
  ts: number,
): JournalEntry[] {
  const entries: JournalEntry[] = [];
  const changed = new Set<string>();
  while (entries.length < size) {
    const command = randomCommand(random, engine, ts);
    const result = engine.execute(command);
    if (!result.ok) continue;
    entries.push({ command, id: command.op === 'place' ? (result.id ?? null) : null });
    for (const event of result.events) if (event.kind === 'level') changed.add(event.sym);
  }
  for (const sym of changed) bookSeqs[sym] = (bookSeqs[sym] ?? 0) + 1;
  return entries;
}

describe('engine-level: Journal + recover', () => {
  it('recovers the live state hash from the newest snapshot and the tail, with old segments retired', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const journalDir = join(dir.path, 'journal');
    const snapshotDir = join(dir.path, 'snapshots');
    const codec = createCommandCodec();
    const engine = new MatchingEngine(JOURNAL_MARKETS);
    const bookSeqs: Record<string, number> = Object.fromEntries(JOURNAL_MARKETS.map((m) => [m.sym, 0]));
    let now = 1_700_000_000_000;
    const journal = new Journal({
      journalDir,
      snapshotDir,
      nextSeq: 1,
      chain: 0,
      fsync: true,
      segmentBytes: 4_096,
      snapshotEveryCommands: 300,
      snapshotEveryMs: Number.MAX_SAFE_INTEGER,
      keepJournal: false,
      codec,
      captureState: () => ({ engine: exportEngineState(engine), bookSeqs: { ...bookSeqs } }),
      clock: () => now,
      log: silentLog,
    });
    const random = mulberry32(4242);
    const funding = fundingBatch(engine);
    await journal.commit(funding);
    let total = funding.length;
    for (let i = 0; i < 400; i++) {
      now += 7;
      const entries = liveBatch(random, engine, bookSeqs, randomInt(random, 1, 9), now);
      total += entries.length;
      // Mostly awaited (one record per group), sometimes not (records share a group).
      const durable = journal.commit(entries);
      if (random() < 0.7) await durable;
    }
    await journal.close();
    expect(engine.book('BTC-USD')!.nextTradeId).toBeGreaterThan(50);
    expect(journal.snapshotsWritten).toBeGreaterThanOrEqual(3);
    const snapshots = await listSnapshots(snapshotDir);
    expect(snapshots.length).toBe(2);
    expect(listSegments(journalDir)[0]).not.toBe('0000000000000001.log');

    const recovered = await recover({
      journalDir,
      snapshotDir,
      markets: JOURNAL_MARKETS,
      limits: DEFAULT_ENGINE_LIMITS,
      codec,
      log: silentLog,
      truncateTornTail: false,
    });
    expect(recovered.snapshotSeq).toBe(Number(snapshots[1]!.slice(0, 16)));
    expect(recovered.replayedCommands).toBe(total - recovered.snapshotSeq);
    expect(recovered.nextSeq).toBe(total + 1);
    expect(recovered.tornTail).toBeNull();
    const recoveredSeqs = Object.fromEntries(recovered.bookSeqs);
    expect(stateHash(exportEngineState(recovered.engine), recoveredSeqs)).toBe(stateHash(exportEngineState(engine), bookSeqs));

    // From here both engines must do exactly the same thing, ids and trade ids included.
    const liveRandom = mulberry32(7);
    const recoveredRandom = mulberry32(7);
    for (let i = 0; i < 300; i++) {
      const command = randomCommand(liveRandom, engine, now + i);
      expect(randomCommand(recoveredRandom, recovered.engine, now + i)).toEqual(command);
      expect(recovered.engine.execute(command)).toEqual(engine.execute(command));
    }
  });
});

describe('through the server', () => {
  it('a restart recovers the live state hash; order ids, trade ids and book seqs continue', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const settings = { snapshotEveryCommands: 60, segmentBytes: 4_096 };
    const first = await startOnDataDir(dir.path, settings);
    let firstOpen = true;
    cleanups.push(() => (firstOpen ? first.server.close() : undefined));

    const traders = await Promise.all(['token-alice', 'token-bob', 'token-carol'].map((token) => connect(first.url, token)));
    const random = mulberry32(99);
    const acked = new Map<Recorded, number[]>(traders.map((t) => [t, []]));
    for (let round = 0; round < 120; round++) {
      await Promise.all(
        traders.map(async (trader) => {
          const mine = acked.get(trader)!;
          const requests: RawRequest[] = [];
          for (let n = randomInt(random, 1, 5); n > 0; n--) requests.push(randomRequest(random, mine));
          const replies: Reply[] = await trader.client.send(requests);
          for (const reply of replies) if (reply.type === 'ack' && reply.op === 'place') mine.push((reply as Ack).id!);
        }),
      );
    }
    for (const trader of traders) trader.client.close();
    expect(first.server.journal.snapshotsWritten).toBeGreaterThanOrEqual(3);

    const liveSeqs = await bookSeqs(first.url);
    const liveHash = stateHash(exportEngineState(first.server.engine), liveSeqs);
    const liveNext = JOURNAL_MARKETS.map((m) => {
      const book = first.server.engine.book(m.sym)!;
      return { sym: m.sym, orderId: book.nextOrderId, tradeId: book.nextTradeId };
    });
    const liveOrders = first.server.engine.openOrders('alice', null);
    // The comparison is only worth something over a busy state: trades happened, orders rest.
    expect(liveNext.every((next) => next.tradeId > 20)).toBe(true);
    expect(liveOrders.length).toBeGreaterThan(3);
    await first.server.close();
    firstOpen = false;

    const { journalDir, snapshotDir } = dataPaths(join(dir.path, 'data'));
    expect(listSegments(journalDir)[0]).not.toBe('0000000000000001.log');
    expect((await listSnapshots(snapshotDir)).length).toBe(2);

    const second = await startOnDataDir(dir.path, settings);
    cleanups.push(() => second.server.close());
    expect(stateHash(exportEngineState(second.server.engine), await bookSeqs(second.url))).toBe(liveHash);

    const alice = await connect(second.url, 'token-alice');
    const bob = await connect(second.url, 'token-bob');
    const watcher = await connect(second.url);
    cleanups.push(() => [alice, bob, watcher].forEach((c) => c.client.close()));
    expect((await alice.client.orders()).orders).toEqual(liveOrders);
    for (const next of liveNext) {
      const book = await watcher.client.subscribeBook(next.sym, { depth: 50 });
      const seqBefore = book.seq;
      const trades: TradeMessage[] = [];
      await watcher.client.subscribeTrades(next.sym, (trade) => trades.push(trade));
      // A sell above every bid (it rests), then a buy that takes the best ask: two new ids, one
      // new trade id, two deltas.
      const sell = await alice.client.place({ sym: next.sym, side: 'sell', kind: 'limit', px: 200, qty: 1 });
      const buy = await bob.client.place({ sym: next.sym, side: 'buy', kind: 'limit', px: 200, qty: 1, tif: 'ioc' });
      expect([sell.id, buy.id]).toEqual([next.orderId, next.orderId + 1]);
      await waitUntil(() => trades.length === 1 && book.seq === seqBefore + 2, `trade and deltas on ${next.sym}`);
      expect(trades[0]!.tradeId).toBe(next.tradeId);
      expect(watcher.books.filter((m) => m.sym === next.sym && m.snapshot !== true).map((m) => m.seq)).toEqual([
        seqBefore + 1,
        seqBefore + 2,
      ]);
    }
  });
});

/** A random order-entry request of one trader, referring to its own acked ids. */
function randomRequest(random: () => number, mine: readonly number[]): RawRequest {
  const sym = pick(random, JOURNAL_MARKETS).sym;
  const roll = random();
  if (mine.length > 0 && roll < 0.2) return { op: 'cancel', sym, id: pick(random, mine) };
  if (mine.length > 0 && roll < 0.35) {
    return random() < 0.5
      ? { op: 'amend', sym, id: pick(random, mine), qty: randomInt(random, 1, 20) }
      : { op: 'amend', sym, id: pick(random, mine), px: randomInt(random, 95, 105) };
  }
  if (roll < 0.37) return { op: 'cancel_all', sym };
  const side = random() < 0.5 ? 'buy' : 'sell';
  if (random() < 0.05) return { op: 'place', sym, side, kind: 'market', qty: randomInt(random, 1, 20) };
  return {
    op: 'place',
    sym,
    side,
    kind: 'limit',
    px: randomInt(random, 95, 105),
    qty: randomInt(random, 1, 20),
    tif: pick(random, ['gtc', 'gtc', 'ioc'] as const),
  };
}

/** The current market-data seq of every market, from a fresh book snapshot. */
async function bookSeqs(url: string): Promise<Record<string, number>> {
  const watcher = await connect(url);
  const seqs: Record<string, number> = {};
  for (const market of JOURNAL_MARKETS) seqs[market.sym] = (await watcher.client.subscribeBook(market.sym, { depth: 1 })).seq;
  watcher.client.close();
  return seqs;
}
