// The Redis sink against the real Redis on 127.0.0.1:6379, fed batches regenerated from a real
// journal: the keys hold exactly the engine's state and events (balances included), a replay
// changes nothing, and errors are told apart (bad data: permanent; Redis away: transient).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrderField } from '../../db/redis-keys.js';
import { FEES_ACCOUNT } from '../../protocol/constants.js';
import type { MatchingEngine } from '../../server/engine/engine.js';
import type { EngineEvent, ExecEvent, TradeEvent, TransferEvent } from '../../server/engine/types.js';
import { SinkBehind, type EventBatch } from '../../server/persistence/event-batch.js';
import { RedisSink } from '../../server/persistence/redis/redis-sink.js';
import { BatchAftermath } from '../../server/persistence/dead-letters/redrive-state.js';
import { FEE_MARKETS, FUNDED_ACCOUNTS, JournalLike, simulate } from '../db/engine-batches.js';
import { BTC, ETH, FIXTURE_FUNDING, MARKETS, cancel, cancelAll, fundAll, place, stop } from '../support/engine-fixtures.js';
import { mulberry32 } from '../../bench/lib/prng.js';
import { deleteUnder, dumpRedis } from './redis-dump.js';
import { FUNDING_RECORD_COMMANDS, JournalFixture } from './write-behind-fixture.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runId = `${process.pid}-${Date.now()}`;
const prefixes: string[] = [];

/** A sink on its own prefix, once connected (without an offline queue, calls fail until then). */
async function newSink(name: string, options: { tradesKept?: number } = {}): Promise<RedisSink> {
  const prefix = `test:redis-sink:${runId}:${name}:`;
  prefixes.push(prefix);
  const sink = new RedisSink({ url: REDIS_URL, prefix, ...options });
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await sink.appliedSeq();
      return sink;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

type StreamedEvent = ExecEvent | TradeEvent | TransferEvent;

/** Execs, trades and transfers go into the stream; level and balance events are state. */
function isStreamed(event: EngineEvent): event is StreamedEvent {
  return event.kind === 'exec' || event.kind === 'trade' || event.kind === 'transfer';
}

/** A stream entry as docs/PERSISTENCE.md describes it, in its key order. */
function entryJson(seq: number, event: StreamedEvent): string {
  if (event.kind === 'exec') return JSON.stringify({ seq, kind: 'exec', account: event.account, exec: event.exec });
  return JSON.stringify({ seq, ...event });
}

/** The stream a sink fed these commands holds: each streamed event, id from its seq and index. */
function expectedStream(commands: readonly { seq: number; events: readonly EngineEvent[] }[]): [string, string[]][] {
  return commands.flatMap((command) =>
    command.events.flatMap((event, index): [string, string[]][] =>
      isStreamed(event) ? [[`${command.seq}-${index}`, ['e', entryJson(command.seq, event)]]] : [],
    ),
  );
}

/** Every asset's balance of each account equals the engine's; an asset never touched has no field. */
async function expectBalances(redis: Redis, sink: RedisSink, engine: MatchingEngine, accounts: readonly string[]): Promise<void> {
  for (const account of accounts) {
    const hash = await redis.hgetall(sink.keys.balances(account));
    const stored = engine.balances(account).map(({ asset }) => {
      const value = hash[asset];
      return { asset, ...(value === undefined ? { available: 0, hold: 0 } : (JSON.parse(value) as { available: number; hold: number })) };
    });
    expect(stored).toEqual(engine.balances(account));
    for (const asset of Object.keys(hash)) expect(engine.assets.map((a) => a.asset)).toContain(asset);
  }
}

async function applyAll(sink: RedisSink, batches: readonly EventBatch[]): Promise<void> {
  for (const batch of batches) await sink.apply(batch);
}

describe('RedisSink', () => {
  const fixture = new JournalFixture();
  const redis = new Redis(REDIS_URL);
  const sinks: RedisSink[] = [];
  let batches: EventBatch[] = [];

  beforeAll(async () => {
    await fixture.commit([place('alice', 'sell', 100_00, 10, { cid: 'a1' }), place('alice', 'sell', 101_00, 5)]);
    await fixture.commit([place('bob', 'buy', 100_00, 4)]);
    await fixture.commit([place('carol', 'buy', 99_00, 3, { cid: 'c1' }), place('carol', 'buy', 98_00, 2, { sym: ETH })]);
    await fixture.commit([place('bob', 'buy', 101_00, 20, { tif: 'ioc' })]);
    await fixture.commit([cancel('carol', { cid: 'c1' })]);
    await fixture.commit([place('carol', 'buy', 97_00, 1)]);
    batches = await fixture.batches(0, 2);
  });

  afterAll(async () => {
    for (const sink of sinks) await sink.close();
    for (const prefix of prefixes) await deleteUnder(redis, prefix);
    redis.disconnect();
    await fixture.close();
  });

  it('writes books, trades, open orders, the event stream and the applied seq', async () => {
    const sink = await newSink('state');
    sinks.push(sink);
    expect(await sink.appliedSeq()).toBe(0);
    expect(batches.length).toBeGreaterThan(1);
    await applyAll(sink, batches);
    const keys = sink.keys;
    expect(await sink.appliedSeq()).toBe(fixture.journal.lastSeq);

    const events = batches.flatMap((batch) =>
      batch.commands.flatMap((command) => command.events.map((event, index) => ({ seq: command.seq, index, event }))),
    );
    const trades = events.map((e) => e.event).filter((e): e is TradeEvent => e.kind === 'trade');
    expect(trades.length).toBe(3);
    const stored = await redis.zrange(keys.trades(BTC), 0, -1);
    expect(stored.map((member) => JSON.parse(member) as unknown)).toEqual(trades.map(({ kind: _kind, ...trade }) => trade));

    for (const sym of [BTC, ETH]) {
      const bids = fixture.engine.levels(sym, 'buy', 10);
      const asks = fixture.engine.levels(sym, 'sell', 10);
      expect(JSON.parse((await redis.get(keys.depth(sym)))!)).toEqual({ seq: fixture.bookSeqs.get(sym), bids, asks });
      const top = await redis.hgetall(keys.top(sym));
      expect(top.seq).toBe(String(fixture.bookSeqs.get(sym)));
      expect(top.bidPx).toBe(bids[0] ? String(bids[0][0]) : undefined);
      expect(top.askPx).toBe(asks[0] ? String(asks[0][0]) : undefined);
    }

    for (const account of ['alice', 'bob', 'carol']) {
      const open = fixture.engine.openOrders(account, null);
      const hash = await redis.hgetall(keys.openOrders(account));
      expect(Object.keys(hash).sort()).toEqual(open.map((order) => openOrderField(order.sym, order.id)).sort());
      for (const order of open) {
        const exec = JSON.parse(hash[openOrderField(order.sym, order.id)]!) as ExecEvent['exec'];
        expect({ leaves: exec.leaves, filled: exec.filled, px: exec.px }).toEqual({
          leaves: order.leaves,
          filled: order.filled,
          px: order.px,
        });
      }
    }

    const stream = await redis.xrange(keys.events, '-', '+');
    const streamed = events.filter((e) => isStreamed(e.event));
    expect(stream.map(([id]) => id)).toEqual(streamed.map((e) => `${e.seq}-${e.index}`));
    expect(stream.map(([, fields]) => JSON.parse(fields[1]!) as { seq: number; kind: string })).toEqual(
      streamed.map((e) => expect.objectContaining({ seq: e.seq, kind: e.event.kind })),
    );
    // The fixture's funding record: one transfer entry per deposit.
    expect(streamed.filter((e) => e.event.kind === 'transfer').length).toBe(FUNDING_RECORD_COMMANDS);
    // The script builds each entry from the event's JSON: the exact bytes of the documented format.
    expect(stream.map(([, fields]) => fields)).toEqual(streamed.map((e) => ['e', entryJson(e.seq, e.event as StreamedEvent)]));

    // Balances: every account's, @fees's too (no key: these markets charge no fee).
    await expectBalances(redis, sink, fixture.engine, ['alice', 'bob', 'carol', 'dave', 'erin', FEES_ACCOUNT]);
    expect(await redis.exists(keys.balances(FEES_ACCOUNT))).toBe(0);
    expect(JSON.parse((await redis.hget(keys.balances('bob'), 'BTC'))!)).toEqual({ available: 1e14 + 4 + 6 + 5, hold: 0 });
  });

  it('writes journal seqs of 16 digits exactly into stream ids, entries and the applied seq', async () => {
    const sink = await newSink('wide');
    sinks.push(sink);
    // Lua 5.1 prints such numbers as 1e+15 unless formatted as integers.
    const shift = 1_000_000_000_000_000;
    const wide = batches.map((batch) => ({
      ...batch,
      fromSeq: batch.fromSeq + shift,
      toSeq: batch.toSeq + shift,
      commands: batch.commands.map((command) => ({ ...command, seq: command.seq + shift })),
    }));
    await sink.markApplied(shift);
    await applyAll(sink, wide);
    expect(await redis.get(sink.keys.appliedSeq)).toBe(String(fixture.journal.lastSeq + shift));
    const streamed = wide.flatMap((batch) =>
      batch.commands.flatMap((command) => command.events.map((event, index) => ({ seq: command.seq, index, event }))),
    );
    const expected = streamed.filter((e) => isStreamed(e.event));
    const stream = await redis.xrange(sink.keys.events, '-', '+');
    expect(stream).toEqual(expected.map((e) => [`${e.seq}-${e.index}`, ['e', entryJson(e.seq, e.event as StreamedEvent)]]));
  });

  it('is idempotent: the same batches again, or after the applied seq was set back, change nothing', async () => {
    const sink = await newSink('replay');
    sinks.push(sink);
    await applyAll(sink, batches);
    const before = await dumpRedis(redis, sink.keys.prefix);
    await applyAll(sink, batches);
    expect(await dumpRedis(redis, sink.keys.prefix)).toEqual(before);
    await redis.set(sink.keys.appliedSeq, '0');
    await applyAll(sink, batches);
    expect(await dumpRedis(redis, sink.keys.prefix)).toEqual(before);
    // Other batch boundaries give the same state.
    const other = await newSink('boundaries');
    sinks.push(other);
    await applyAll(other, await fixture.batches(0, 5_000));
    const rename = (dump: Record<string, unknown>, from: string): Record<string, unknown> =>
      Object.fromEntries(Object.entries(dump).map(([key, value]) => [key.slice(from.length), value]));
    expect(rename(await dumpRedis(redis, other.keys.prefix), other.keys.prefix)).toEqual(rename(before, sink.keys.prefix));
  });

  it('skips a batch at or below the applied seq; markApplied only moves forward', async () => {
    const sink = await newSink('skip');
    sinks.push(sink);
    await sink.markApplied(fixture.journal.lastSeq);
    await applyAll(sink, batches);
    expect(Object.keys(await dumpRedis(redis, sink.keys.prefix))).toEqual([sink.keys.appliedSeq]);
    await sink.markApplied(1);
    expect(await sink.appliedSeq()).toBe(fixture.journal.lastSeq);
  });

  it('refuses a batch that does not follow its applied seq: Redis lost data', async () => {
    const sink = await newSink('behind');
    sinks.push(sink);
    await sink.apply(batches[0]!);
    await redis.del(sink.keys.appliedSeq);
    const refused = await sink.apply(batches[1]!).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(SinkBehind);
    expect((refused as SinkBehind).appliedSeq).toBe(0);
    expect(await sink.appliedSeq()).toBe(0);
  });

  it('redrives a dead-lettered batch to the end of the stream, its entries marked, and later batches follow it', async () => {
    const journal = new JournalLike();
    simulate(journal, 400, mulberry32(21));
    const [first, dead, third, fourth] = [journal.batch(1, 100), journal.batch(101, 200), journal.batch(201, 300), journal.batch(301, 400)];
    const sink = await newSink('redrive');
    sinks.push(sink);
    await sink.apply(first);
    // The runner's path for a dead letter: its seq is marked applied, the pipeline goes on.
    await sink.markApplied(dead.toSeq);
    await sink.apply(third);
    const top = (await redis.xrevrange(sink.keys.events, '+', '-', 'COUNT', 1))[0]![0];
    const aftermath = new BatchAftermath(dead);
    aftermath.follow(third);
    // The engine at the applied seq: the same commands through a fresh engine (no books in these batches).
    const replayed = new JournalLike();
    replayed.runAll(journal.commands.slice(0, third.toSeq).map(({ command }) => command));
    const now = {
      openOrders: (account: string) => replayed.engine.openOrders(account, null),
      book: (sym: string): never => expect.fail(`no book expected, asked for ${sym}`),
      balances: (account: string) => replayed.engine.balances(account),
    };
    await sink.redrive(dead, async (appliedSeq) => {
      expect(appliedSeq).toBe(third.toSeq);
      return aftermath.state(appliedSeq, now);
    });
    // Balances as of the applied seq, not as the dead batch left them (the third batch moved them
    // on). These accounts were funded outside the batches: only the fields the batches wrote count.
    let fields = 0;
    for (const account of FUNDED_ACCOUNTS) {
      const hash = await redis.hgetall(sink.keys.balances(account));
      for (const [asset, value] of Object.entries(hash)) {
        const { available, hold } = replayed.engine.balances(account).find((b) => b.asset === asset)!;
        expect([account, asset, JSON.parse(value)]).toEqual([account, asset, { available, hold }]);
        fields++;
      }
    }
    expect(fields).toBeGreaterThan(4);
    await sink.apply(fourth);
    expect(await sink.appliedSeq()).toBe(fourth.toSeq);
    // Apart from the stream, the redrive leaves what a sink that never lost the batch holds.
    const reference = await newSink('redrive-reference');
    sinks.push(reference);
    await applyAll(reference, [first, dead, third, fourth]);
    const withoutStream = async (of: RedisSink): Promise<Record<string, unknown>> =>
      Object.fromEntries(
        Object.entries(await dumpRedis(redis, of.keys.prefix))
          .filter(([key]) => key !== of.keys.events)
          .map(([key, value]) => [key.slice(of.keys.prefix.length), value]),
      );
    expect(await withoutStream(sink)).toEqual(await withoutStream(reference));

    const entries = (batch: EventBatch): [number, number, string][] =>
      batch.commands.flatMap((command) =>
        command.events.flatMap((event, index): [number, number, string][] =>
          isStreamed(event) ? [[command.seq, index, entryJson(command.seq, event)]] : [],
        ),
      );
    const [topSeq, topIndex] = top.split('-').map(Number) as [number, number];
    const journalIds = (batch: EventBatch): [string, string[]][] =>
      entries(batch).map(([seq, index, json]) => [`${seq}-${index}`, ['e', json]]);
    const redriven = entries(dead).map(([, , json], k): [string, string[]] => [
      `${topSeq}-${topIndex + 1 + k}`,
      ['e', json, 'redriven', '1'],
    ]);
    expect(redriven.length).toBeGreaterThan(0);
    expect(await redis.xrange(sink.keys.events, '-', '+')).toEqual([
      ...journalIds(first),
      ...journalIds(third),
      ...redriven,
      ...journalIds(fourth),
    ]);
  });

  it('keeps only the last N trades per market', async () => {
    const sink = await newSink('capped', { tradesKept: 2 });
    sinks.push(sink);
    await applyAll(sink, batches);
    const kept = (await redis.zrange(sink.keys.trades(BTC), 0, -1)).map((member) => (JSON.parse(member) as { tradeId: number }).tradeId);
    expect(kept).toEqual([2, 3]);
  });

  it('writes every kind of exec byte for byte as JSON.stringify, across 4,000 random commands and odd strings', async () => {
    const journal = new JournalLike();
    // Names that need escaping in JSON, and non-ASCII ones, through every string field.
    fundAll(journal.engine, ['al"i\\ce\n', 'bøb'], FIXTURE_FUNDING);
    journal.run(place('al"i\\ce\n', 'sell', 100, 3, { cid: 'ü-"quoted"-\u2028' }));
    journal.run(place('bøb', 'buy', 100, 1));
    simulate(journal, 4_000, mulberry32(11));
    const sink = await newSink('random', { tradesKept: 5 });
    sinks.push(sink);
    const random = mulberry32(12);
    for (let from = 1; from <= journal.lastSeq;) {
      const to = Math.min(journal.lastSeq, from + Math.floor(random() * 300));
      await sink.apply(journal.batch(from, to));
      from = to + 1;
    }
    const expected = expectedStream(journal.commands);
    // Every exec shape went through: fills, cancels with a reason, amends.
    const texts = expected.map(([, fields]) => fields[1]!).join('\n');
    for (const part of ['"fill":{', '"reason":"', '"amended":true', '"px":null', '"cid":"ü-']) expect(texts).toContain(part);
    expect(await redis.xrange(sink.keys.events, '-', '+')).toEqual(expected);
    for (const { sym } of MARKETS) {
      const trades = journal.commands.flatMap((command) =>
        command.events.filter((e): e is TradeEvent => e.kind === 'trade' && e.sym === sym),
      );
      const stored = await redis.zrange(sink.keys.trades(sym), 0, -1);
      expect(stored).toEqual(trades.slice(-5).map(({ kind: _kind, ...trade }) => JSON.stringify(trade)));
    }
    for (const account of ['al"i\\ce\n', 'bøb', 'alice', 'bob', 'carol', 'dave']) {
      const hash = await redis.hgetall(sink.keys.openOrders(account));
      const open = journal.engine.openOrders(account, null);
      expect(Object.keys(hash).sort()).toEqual(open.map((order) => openOrderField(order.sym, order.id)).sort());
    }
  });

  it("streams a stop order waiting, triggered and filled, and an iceberg, byte for byte; its open orders are the engine's", async () => {
    const journal = new JournalLike();
    journal.runAll([
      place('alice', 'sell', 100, 10, { display: 3 }),
      stop('bob', 'buy', 100, 101, 4, { cid: 'stop-"1"' }),
      stop('carol', 'sell', 90, null, 2),
      place('bob', 'buy', 100, 1), // the trade at 100 triggers bob's stop, which takes a new slice of alice's iceberg
    ]);
    const sink = await newSink('kinds');
    sinks.push(sink);
    for (let seq = 1; seq <= journal.lastSeq; seq++) await sink.apply(journal.batch(seq, seq));
    const expected = expectedStream(journal.commands);
    expect(expected.map(([, fields]) => fields[1]!).join('\n')).toContain('"triggered":true');
    expect(await redis.xrange(sink.keys.events, '-', '+')).toEqual(expected);
    for (const account of ['alice', 'bob', 'carol']) {
      const hash = await redis.hgetall(sink.keys.openOrders(account));
      const open = journal.engine.openOrders(account, null);
      expect(Object.keys(hash).sort()).toEqual(open.map((order) => openOrderField(order.sym, order.id)).sort());
    }
    expect(journal.engine.openOrders('carol', null)).toMatchObject([{ kind: 'stop', triggered: false }]);
  });

  it('after random trading, deposits and withdrawals with fees, every balance (@fees too) equals the engine; transfers are streamed byte for byte; replays change nothing', async () => {
    const journal = new JournalLike({ markets: FEE_MARKETS, funding: 'deposits' });
    // Refs that need escaping in JSON.
    journal.run({ op: 'deposit', ts: 5, account: 'alice', asset: 'USD', amount: 7, ref: 'wire "42"\\ü\n' });
    simulate(journal, 3_000, mulberry32(41), 1_700_000_000_000, { transfers: 0.05 });
    const kinds = journal.commands.flatMap((c) => c.events.flatMap((e) => (e.kind === 'transfer' ? [e.op] : [])));
    expect(kinds.filter((op) => op === 'withdraw').length).toBeGreaterThan(5);
    const sink = await newSink('money');
    sinks.push(sink);
    const random = mulberry32(42);
    const uneven: EventBatch[] = [];
    for (let from = 1; from <= journal.lastSeq;) {
      const to = Math.min(journal.lastSeq, from + Math.floor(random() * 300));
      uneven.push(journal.batch(from, to));
      from = to + 1;
    }
    await applyAll(sink, uneven);
    await expectBalances(redis, sink, journal.engine, [...FUNDED_ACCOUNTS, FEES_ACCOUNT]);
    const fees = journal.engine.balances(FEES_ACCOUNT);
    expect(fees.every((b) => b.available > 0)).toBe(true);
    expect(await redis.xrange(sink.keys.events, '-', '+')).toEqual(expectedStream(journal.commands));

    // The same batches again, after the applied seq was set back, and other boundaries: nothing changes.
    const before = await dumpRedis(redis, sink.keys.prefix);
    await redis.set(sink.keys.appliedSeq, '0');
    await applyAll(sink, uneven);
    await applyAll(sink, [journal.batch(1, 1_000)]);
    expect(await dumpRedis(redis, sink.keys.prefix)).toEqual(before);
    const other = await newSink('money-boundaries');
    sinks.push(other);
    await applyAll(other, journal.batches(777));
    const rename = (dump: Record<string, unknown>, from: string): Record<string, unknown> =>
      Object.fromEntries(Object.entries(dump).map(([key, value]) => [key.slice(from.length), value]));
    expect(rename(await dumpRedis(redis, other.keys.prefix), other.keys.prefix)).toEqual(rename(before, sink.keys.prefix));
  });

  it('takes a batch of 5,000 commands whose end state touches thousands of fields of one key', async () => {
    const journal = new JournalLike();
    for (let i = 0; i < 2_499; i++) journal.run(place('whale', 'buy', 50 + (i % 40), 1));
    journal.run(cancelAll('whale', null));
    for (let i = 0; i < 2_500; i++) journal.run(place('whale', 'sell', 200 + (i % 40), 1, { sym: ETH }));
    const sink = await newSink('big');
    sinks.push(sink);
    await sink.apply(journal.batch(1, journal.lastSeq));
    expect(journal.lastSeq).toBe(5_000);
    expect(await redis.hlen(sink.keys.openOrders('whale'))).toBe(2_500);
    expect(await redis.xlen(sink.keys.events)).toBe(2_499 * 2 + 2_500);
  });

  it('calls a batch that Redis refuses (wrong key type) permanent, and Redis being away transient', async () => {
    const sink = await newSink('bad');
    sinks.push(sink);
    await sink.apply(batches[0]!); // the funding record
    await redis.set(sink.keys.openOrders('alice'), 'not a hash');
    const refused = await sink.apply(batches[1]!).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(Error);
    expect(String(refused)).toMatch(/WRONGTYPE/);
    expect(sink.isPermanent(refused)).toBe(true);
    expect(await sink.appliedSeq()).toBe(batches[0]!.toSeq);

    const away = new RedisSink({ url: 'redis://127.0.0.1:1', prefix: 'test:nowhere:', connectTimeoutMs: 200 });
    const failed = await away.apply(batches[0]!).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(Error);
    expect(away.isPermanent(failed)).toBe(false);
    await away.close();
  });
});
