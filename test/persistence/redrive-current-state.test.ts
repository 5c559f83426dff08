// A redriven dead letter must not bring back what later batches changed. A batch that opens and
// fills orders (and so moves balances) is dead-lettered (the runner's path: its seq marked applied), later batches cancel,
// amend, fill and close some of those orders and move the books, then `npm run dlq -- redrive`
// writes it. Redis (real) and Postgres (real) must then hold what a fresh replay of the whole
// journal writes: for Redis everything but the stream, whose redriven entries sit at its end.
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import { readJournal } from '../../server/journal/journal-reader.js';
import { writeSnapshot } from '../../server/journal/snapshot-store.js';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { runDlqCommand } from '../../server/persistence/dead-letters/dead-letter-commands.js';
import { DeadLetterStore } from '../../server/persistence/dead-letters/dead-letter-store.js';
import type { EventBatch, Sink } from '../../server/persistence/event-batch.js';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { RedisSink } from '../../server/persistence/redis/redis-sink.js';
import { JournalAftermath } from '../../server/persistence/dead-letters/redrive-state.js';
import { ETH, MARKETS, amend, cancel, place } from '../support/engine-fixtures.js';
import { deleteUnder } from './redis-dump.js';
import { FUNDING_RECORD_COMMANDS, LIMITS, JournalFixture } from './write-behind-fixture.js';
import { createDatabase, dropDatabase, pgState, redisState, replayJournalInto, whenConnected } from './write-behind-oracle.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `${process.pid}_${Date.now()}`;
const PREFIX = `test:redrive-current:${RUN}:`;
const ORACLE_PREFIX = `test:redrive-current-oracle:${RUN}:`;
const DB = `redrive_current_${RUN}`;
const ORACLE_DB = `redrive_current_oracle_${RUN}`;

function balanceOf(fixture: JournalFixture, account: string, asset: string): { available: number; hold: number } {
  const { available, hold } = fixture.engine.balances(account).find((b) => b.asset === asset)!;
  return { available, hold };
}

async function dlq(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runDlqCommand(argv, {}, { out: (line) => lines.push(line), err: (line) => lines.push(line) });
  return { code, lines };
}

/** One batch per journal record, with the write-behind's book depth (the oracle's too). */
function batchesOf(fixture: JournalFixture): Promise<EventBatch[]> {
  return fixture.batches(0, 1, 50);
}

/** The runner's path around a dead letter: the batches before it, its seq marked applied, the rest. */
async function applyAround(sink: Sink, batches: readonly EventBatch[], dead: EventBatch): Promise<void> {
  await whenConnected(() => sink.appliedSeq());
  for (const batch of batches) {
    if (batch === dead) await sink.markApplied(batch.toSeq);
    else await sink.apply(batch);
  }
}

/** The funding record, then six records, one batch each; the second of those is dead-lettered. */
async function commitScenario(fixture: JournalFixture): Promise<EventBatch[]> {
  writeFileSync(join(fixture.dir, 'markets.json'), JSON.stringify(MARKETS));
  await fixture.commit([
    place('alice', 'sell', 100_00, 5),
    place('alice', 'sell', 101_00, 3),
    place('erin', 'sell', 50_00, 2, { sym: ETH }),
  ]);
  // The batch to be dead-lettered: opens bob's four bids and carol's ETH bid, fills part of alice's first ask.
  await fixture.commit([
    place('bob', 'buy', 99_00, 2, { cid: 'b1' }),
    place('bob', 'buy', 98_00, 4),
    place('bob', 'buy', 97_00, 1),
    place('bob', 'buy', 96_00, 1),
    place('carol', 'buy', 100_00, 2),
    place('carol', 'buy', 40_00, 7, { sym: ETH }),
  ]);
  // Later batches: one of bob's bids canceled, one amended, one partly filled, alice's ask filled
  // (closed), carol's ETH bid filled whole; bob's last bid and the second ask stay as they were.
  await fixture.commit([cancel('bob', { cid: 'b1' }), amend('bob', { id: 5 }, { qty: 6 })]);
  await fixture.commit([place('alice', 'sell', 98_00, 1), place('dave', 'buy', 100_00, 3)]);
  await fixture.commit([place('erin', 'sell', 40_00, 7, { sym: ETH })]);
  await fixture.commit([place('dave', 'buy', 90_00, 1)]);
  const batches = await batchesOf(fixture);
  // The first batch is the fixture's funding record.
  expect(batches.map((batch) => batch.commands.length)).toEqual([FUNDING_RECORD_COMMANDS, 3, 6, 2, 2, 1, 1]);
  return batches;
}

/** Redis under `prefix` after a fresh replay of the fixture's whole journal. */
async function redisOracle(redis: Redis, fixture: JournalFixture, prefix: string): Promise<Record<string, unknown>> {
  const oracle = new RedisSink({ url: REDIS_URL, prefix });
  await whenConnected(() => oracle.appliedSeq());
  await replayJournalInto(oracle, fixture.dir, fixture.journal.lastSeq);
  await oracle.close();
  return redisState(redis, prefix);
}

describe('dlq redrive writes the current state of what the batch touched', () => {
  const fixture = new JournalFixture({ snapshotEveryCommands: 3 });
  const redis = new Redis(REDIS_URL);
  const store = new DeadLetterStore({ dataDir: fixture.dir, maxPerSink: 10, clock: systemClock, fsync: false });
  let batches: EventBatch[] = [];
  let dead: EventBatch;
  let dbUrl = '';
  let oracleUrl = '';

  beforeAll(async () => {
    batches = await commitScenario(fixture);
    dead = batches[2]!;
    [dbUrl, oracleUrl] = await Promise.all([createDatabase(ADMIN_URL, DB), createDatabase(ADMIN_URL, ORACLE_DB)]);
  });

  afterAll(async () => {
    await deleteUnder(redis, PREFIX);
    await deleteUnder(redis, ORACLE_PREFIX);
    redis.disconnect();
    await fixture.close();
    await dropDatabase(ADMIN_URL, DB);
    await dropDatabase(ADMIN_URL, ORACLE_DB);
  });

  it('Redis: open orders, balances, tops and depth equal a fresh replay of the journal', async () => {
    const sink = new RedisSink({ url: REDIS_URL, prefix: PREFIX });
    await applyAround(sink, batches, dead);
    await sink.close();
    await store.add('redis', dead, new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
    const [letter] = await store.list('redis');
    const redrive = await dlq('redrive', letter!.id, '--data-dir', fixture.dir, '--redis-url', REDIS_URL, '--redis-prefix', PREFIX);
    expect(redrive).toEqual({ code: 0, lines: [`redriven ${letter!.id} (6 commands) to redis`] });

    const { events: oracleEvents, ...expected } = await redisOracle(redis, fixture, ORACLE_PREFIX);
    const { events, ...state } = await redisState(redis, PREFIX);
    expect(Object.keys(expected)).toContain('orders:bob');
    // bob's USD hold, which the dead batch raised and later batches lowered, is the journal's now.
    expect(JSON.parse((expected['balances:bob'] as Record<string, string>).USD!)).toEqual(balanceOf(fixture, 'bob', 'USD'));
    expect(state).toEqual(expected);
    // The stream holds the same entries, the redriven ones last and marked.
    const entries = events as [string, string[]][];
    const redriven = entries.filter(([, fields]) => fields[2] === 'redriven');
    expect(redriven.length).toBeGreaterThan(0);
    expect(entries.slice(-redriven.length)).toEqual(redriven);
    const sortedBySeq = (list: [string, string[]][]): string[] => list.map(([, fields]) => fields[1]!).sort();
    expect(sortedBySeq(entries)).toEqual(sortedBySeq(oracleEvents as [string, string[]][]));
  });

  it('Postgres: rows equal a fresh replay of the journal (a redrive never overwrites newer rows)', async () => {
    const sink = new PgSink({ url: dbUrl, markets: MARKETS });
    await applyAround(sink, batches, dead);
    await sink.close();
    await store.add('postgres', dead, new Error('23514 check constraint'));
    const [letter] = await store.list('postgres');
    const redrive = await dlq('redrive', letter!.id, '--data-dir', fixture.dir, '--database-url', dbUrl);
    expect(redrive).toEqual({ code: 0, lines: [`redriven ${letter!.id} (6 commands) to postgres`] });

    const oracle = new PgSink({ url: oracleUrl, markets: MARKETS });
    await replayJournalInto(oracle, fixture.dir, fixture.journal.lastSeq);
    await oracle.close();
    const expected = await pgState(oracleUrl);
    expect(expected.orders!.length).toBeGreaterThan(5);
    const bob = expected.balances!.find(
      (row) => (row as { account: string; asset: string }).account === 'bob' && (row as { asset: string }).asset === 'USD',
    );
    expect(bob).toMatchObject({
      available: String(balanceOf(fixture, 'bob', 'USD').available),
      hold: String(balanceOf(fixture, 'bob', 'USD').hold),
    });
    expect(await pgState(dbUrl)).toEqual(expected);
  });

  it('brings the state forward when the pipeline moves the applied seq on during the redrive', async () => {
    const prefix = `${PREFIX}moving:`;
    const sink = new RedisSink({ url: REDIS_URL, prefix });
    await applyAround(sink, batches.slice(0, 5), dead);
    const aftermath = await JournalAftermath.open(dead, batches[4]!.toSeq, fixture.followerOptions(5_000, 50));
    const asked: number[] = [];
    await sink.redrive(dead, async (appliedSeq) => {
      asked.push(appliedSeq);
      const state = await aftermath.at(appliedSeq);
      // The pipeline writes the last batches between the state's computation and the script.
      if (asked.length === 1) for (const batch of batches.slice(5)) await sink.apply(batch);
      return state;
    });
    await aftermath.close();
    await sink.close();
    expect(asked).toEqual([batches[4]!.toSeq, batches[6]!.toSeq]);
    const { events: _oracleEvents, ...expected } = await redisOracle(redis, fixture, `${ORACLE_PREFIX}moving:`);
    const { events: _events, ...state } = await redisState(redis, prefix);
    expect(state).toEqual(expected);
  });

  it('refuses a redrive to a Redis that has not applied the batch yet: the pipeline writes it', async () => {
    await store.add('redis', dead, new Error('WRONGTYPE'));
    const [letter] = await store.list('redis');
    const prefix = `${PREFIX}empty:`;
    const redrive = await dlq('redrive', letter!.id, '--data-dir', fixture.dir, '--redis-url', REDIS_URL, '--redis-prefix', prefix);
    expect(redrive.code).toBe(1);
    expect(redrive.lines[0]).toContain('the pipeline will write the batch itself');
    expect(await store.list('redis')).toHaveLength(1);
  });
});

describe('dlq redrive of a letter whose journal range was retired', () => {
  // A segment per record, so that retirement can take the letter's range away; snapshots written
  // by the test (the journal's own are written in the background, whenever none is under way).
  const fixture = new JournalFixture({ segmentBytes: 1 });
  const redis = new Redis(REDIS_URL);
  const prefix = `test:redrive-retired:${RUN}:`;
  const oraclePrefix = `test:redrive-retired-oracle:${RUN}:`;

  afterAll(async () => {
    await deleteUnder(redis, prefix);
    await deleteUnder(redis, oraclePrefix);
    redis.disconnect();
    await fixture.close();
  });

  it('checks the orders against the state at the applied seq: open orders, balances and books still equal a fresh replay', async () => {
    const batches = await commitScenario(fixture);
    const dead = batches[2]!;
    const sink = new RedisSink({ url: REDIS_URL, prefix });
    await applyAround(sink, batches, dead);
    await sink.close();
    const { events: _oracleEvents, ...expected } = await redisOracle(redis, fixture, oraclePrefix);
    // Retire as the journal does for a reader at the applied seq: a snapshot past the letter (the
    // one before the last record), and every segment before it gone.
    const records = [...readJournal(fixture.journalDir, { fromSeq: 1, chainBefore: 0, codec: fixture.codec })];
    const beforeLast = records.at(-2)!;
    const snapshotSeq = beforeLast.seq + beforeLast.count - 1;
    expect(snapshotSeq).toBeGreaterThan(dead.toSeq);
    const engine = new MatchingEngine(MARKETS, LIMITS);
    const bookSeqs: Record<string, number> = {};
    for (const command of fixture.live.filter(({ seq }) => seq <= snapshotSeq)) engine.execute(command.command);
    for (const batch of batches.filter(({ toSeq }) => toSeq <= snapshotSeq)) for (const book of batch.books) bookSeqs[book.sym] = book.seq;
    await writeSnapshot(
      fixture.snapshotDir,
      { journalSeq: snapshotSeq, chain: beforeLast.chain, bookSeqs, engine: exportEngineState(engine) },
      false,
    );
    for (const segment of readdirSync(fixture.journalDir))
      if (Number(segment.slice(0, 16)) <= snapshotSeq) unlinkSync(join(fixture.journalDir, segment));

    const store = new DeadLetterStore({ dataDir: fixture.dir, maxPerSink: 10, clock: systemClock, fsync: false });
    await store.add('redis', dead, new Error('WRONGTYPE'));
    const [letter] = await store.list('redis');
    const redrive = await dlq('redrive', letter!.id, '--data-dir', fixture.dir, '--redis-url', REDIS_URL, '--redis-prefix', prefix);
    expect(redrive.code).toBe(0);
    expect(redrive.lines.join('\n')).toContain('journal retired past the dead letter');
    const { events: _events, ...state } = await redisState(redis, prefix);
    expect(state).toEqual(expected);
  });
});
