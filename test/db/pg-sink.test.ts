// PgSink against the real Postgres: batches built by running the real engine give exactly the
// rows the engine's own state implies; replays, overlaps and late batches change nothing; a bad
// batch is permanent and leaves no trace; an unreachable database is not permanent. Money rows:
// pg-sink-money.test.ts.
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidBatchError } from '../../server/persistence/postgres/batch-rows.js';
import type { EventBatch } from '../../server/persistence/event-batch.js';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { BTC, ETH, FIXTURE_FUNDING, MARKETS, amend, cancel, fundAll, place, stop } from '../support/engine-fixtures.js';
import { mulberry32 } from '../../bench/lib/prng.js';
import { JournalLike, SIM_ACCOUNTS, simulate } from './engine-batches.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

let db: ScratchDatabase;
let sink: PgSink;

beforeAll(async () => {
  db = await createScratchDatabase();
});
afterAll(async () => {
  await db?.drop();
});
// A fresh sink per test: a sink remembers the markets and accounts it has written, which a
// truncate behind its back would make wrong.
beforeEach(async () => {
  await db.sql`truncate orders, trades, markets, accounts, sink_progress, balances, ledger`;
  sink = new PgSink({ url: db.url, markets: MARKETS });
});
afterEach(async () => {
  await sink.close();
});

/** Every row of every table, in a stable order, to compare whole database states. */
async function dump(): Promise<unknown> {
  return {
    orders: await db.sql`select * from orders order by market, order_id`,
    trades: await db.sql`select * from trades order by market, trade_id`,
    markets: await db.sql`select * from markets order by sym`,
    accounts: await db.sql`select * from accounts order by account`,
    balances: await db.sql`select * from balances order by account, asset`,
    ledger: await db.sql`select * from ledger order by seq, event_index, leg`,
    progress: await db.sql`select * from sink_progress order by sink`,
  };
}

async function applyAll(batches: readonly EventBatch[], target: PgSink = sink): Promise<void> {
  for (const batch of batches) await target.apply(batch);
}

describe('PgSink.apply writes what the engine did', () => {
  it('a scripted session gives exactly the expected orders, trades, markets, accounts and progress', async () => {
    const journal = new JournalLike();
    journal.runAll([
      place('bob', 'sell', 101, 5, { ts: 10, cid: 'ask-1' }), // seq 1: id 1
      place('carol', 'sell', 102, 4, { ts: 11 }), // seq 2: id 2
      place('alice', 'buy', 102, 7, { ts: 12, tif: 'ioc' }), // seq 3: id 3 takes 5@101, 2@102
      amend('carol', { id: 2 }, { qty: 3 }), // seq 4: carol's rest 2 → total 3 (1 left)
      place('dave', 'buy', 99, 2, { ts: 14, post: true, cid: 'bid-1', sym: ETH }), // seq 5: ETH id 1
      cancel('dave', { cid: 'bid-1' }, ETH), // seq 6
    ]);
    expect(journal.lastSeq).toBe(6);
    await applyAll([journal.batch(1, 2), journal.batch(3, 6)]);

    const orders = await db.sql`
      select market, order_id, account, cid, side, kind, tif, post, price, qty, filled, status, reason,
             created_seq, updated_seq, created_ts, updated_ts
      from orders order by market, order_id`;
    expect(orders.map((row) => ({ ...row }))).toEqual([
      {
        market: BTC,
        order_id: 1,
        account: 'bob',
        cid: 'ask-1',
        side: 'sell',
        kind: 'limit',
        tif: 'gtc',
        post: false,
        price: 101,
        qty: 5,
        filled: 5,
        status: 'filled',
        reason: null,
        created_seq: 1,
        updated_seq: 3,
        created_ts: 10,
        updated_ts: 12,
      },
      {
        market: BTC,
        order_id: 2,
        account: 'carol',
        cid: null,
        side: 'sell',
        kind: 'limit',
        tif: 'gtc',
        post: false,
        price: 102,
        qty: 3,
        filled: 2,
        status: 'partial',
        reason: null,
        created_seq: 2,
        updated_seq: 4,
        created_ts: 11,
        updated_ts: 4_000,
      },
      {
        market: BTC,
        order_id: 3,
        account: 'alice',
        cid: null,
        side: 'buy',
        kind: 'limit',
        tif: 'ioc',
        post: false,
        price: 102,
        qty: 7,
        filled: 7,
        status: 'filled',
        reason: null,
        created_seq: 3,
        updated_seq: 3,
        created_ts: 12,
        updated_ts: 12,
      },
      {
        market: ETH,
        order_id: 1,
        account: 'dave',
        cid: 'bid-1',
        side: 'buy',
        kind: 'limit',
        tif: 'gtc',
        post: true,
        price: 99,
        qty: 2,
        filled: 0,
        status: 'canceled',
        reason: 'user',
        created_seq: 5,
        updated_seq: 6,
        created_ts: 14,
        updated_ts: 2_000,
      },
    ]);
    const trades = await db.sql`select * from trades order by market, trade_id`;
    expect(trades.map((row) => ({ ...row }))).toEqual([
      {
        market: BTC,
        trade_id: 1,
        price: 101,
        qty: 5,
        maker_order_id: 1,
        taker_order_id: 3,
        maker_account: 'bob',
        taker_account: 'alice',
        taker_side: 'buy',
        seq: 3,
        ts: 12,
      },
      {
        market: BTC,
        trade_id: 2,
        price: 102,
        qty: 2,
        maker_order_id: 2,
        taker_order_id: 3,
        maker_account: 'carol',
        taker_account: 'alice',
        taker_side: 'buy',
        seq: 3,
        ts: 12,
      },
    ]);
    expect((await db.sql`select * from markets order by sym`).map((row) => ({ ...row }))).toEqual([
      { sym: BTC, base: 'BTC', quote: 'USD', px_decimals: 2, qty_decimals: 6, first_seq: 1 },
      { sym: ETH, base: 'ETH', quote: 'USD', px_decimals: 2, qty_decimals: 6, first_seq: 5 },
    ]);
    expect((await db.sql`select account, first_seq from accounts order by account`).map((row) => ({ ...row }))).toEqual([
      { account: 'alice', first_seq: 3 },
      { account: 'bob', first_seq: 1 },
      { account: 'carol', first_seq: 2 },
      { account: 'dave', first_seq: 5 },
    ]);
    expect(await sink.appliedSeq()).toBe(6);
  });

  it('a market order is stored with a null price; an order first seen through a fill gets resting defaults', async () => {
    const journal = new JournalLike();
    journal.runAll([
      place('bob', 'sell', 101, 5, { ts: 10, post: true }), // seq 1 (its batch is skipped below)
      place('alice', 'buy', null, 2, { ts: 11, tif: 'ioc' }), // seq 2: market order
    ]);
    await sink.markApplied(1); // as if batch 1 went to the dead-letter store
    await sink.apply(journal.batch(2, 2));
    const rows = await db.sql`select order_id, kind, tif, post, price, qty, filled, status, created_seq from orders order by order_id`;
    expect(rows.map((row) => ({ ...row }))).toEqual([
      { order_id: 1, kind: 'limit', tif: 'gtc', post: false, price: 101, qty: 5, filled: 2, status: 'partial', created_seq: 2 },
      { order_id: 2, kind: 'market', tif: 'ioc', post: false, price: null, qty: 2, filled: 2, status: 'filled', created_seq: 2 },
    ]);
  });

  it('a stop order is stored as kind stop while it waits, and as it fills once a trade triggers it', async () => {
    const journal = new JournalLike();
    journal.runAll([
      place('bob', 'buy', 95, 5, { ts: 10 }), // seq 1
      stop('carol', 'sell', 95, null, 3, { ts: 11, tif: 'ioc' }), // seq 2: a stop-market, waiting
      stop('carol', 'buy', 120, 121, 2, { ts: 12 }), // seq 3: a stop-limit, waiting
      place('alice', 'sell', 95, 1, { ts: 13 }), // seq 4: the trade at 95 triggers carol's sell stop
    ]);
    await sink.apply(journal.batch(1, 3));
    const columns = (): Promise<unknown[]> =>
      db.sql`select order_id, kind, tif, price, qty, filled, status, reason from orders where account = 'carol' order by order_id`.then(
        (rows) => rows.map((row) => ({ ...row })),
      );
    expect(await columns()).toEqual([
      { order_id: 2, kind: 'stop', tif: 'ioc', price: null, qty: 3, filled: 0, status: 'new', reason: null },
      { order_id: 3, kind: 'stop', tif: 'gtc', price: 121, qty: 2, filled: 0, status: 'new', reason: null },
    ]);
    await sink.apply(journal.batch(4, 4));
    expect((await columns())[0]).toEqual({
      order_id: 2,
      kind: 'stop',
      tif: 'ioc',
      price: null,
      qty: 3,
      filled: 3,
      status: 'filled',
      reason: null,
    });
  });

  it('stores names and cids with quotes, backslashes, commas, braces and non-ASCII exactly', async () => {
    const journal = new JournalLike();
    const odd = ['we"ird,\\ {cid}', 'NULL', 'ünï-€-🙂', ' ', "'; drop table orders; --"];
    fundAll(
      journal.engine,
      odd.map((cid) => `acct ${cid}`),
      FIXTURE_FUNDING,
    );
    journal.runAll(odd.map((cid, i) => place(`acct ${cid}`, 'buy', 90 + i, 1, { cid })));
    await sink.apply(journal.batch(1, journal.lastSeq));
    const rows = await db.sql`select account, cid from orders order by order_id`;
    expect(rows.map((row) => [row.account, row.cid])).toEqual(odd.map((cid) => [`acct ${cid}`, cid]));
  });

  it('after 3,000 random commands in uneven batches, open orders and trades match the engine exactly', async () => {
    const journal = new JournalLike();
    simulate(journal, 3_000, mulberry32(7));
    const random = mulberry32(8);
    for (let from = 1; from <= journal.lastSeq;) {
      const to = Math.min(journal.lastSeq, from + Math.floor(random() * 200));
      await sink.apply(journal.batch(from, to));
      from = to + 1;
    }

    for (const account of SIM_ACCOUNTS) {
      const expected = journal.engine.openOrders(account, null).map((o) => ({
        market: o.sym,
        order_id: o.id,
        cid: o.cid,
        side: o.side,
        kind: o.kind,
        tif: o.tif,
        post: o.post,
        price: o.px,
        qty: o.qty,
        filled: o.filled,
        status: o.status,
        created_ts: o.ts,
      }));
      const rows = await db.sql`
        select market, order_id, cid, side, kind, tif, post, price, qty, filled, status, created_ts
        from orders where account = ${account} and status in ('new', 'partial') order by market, order_id`;
      expect(rows.map((row) => ({ ...row }))).toEqual(expected.sort((a, b) => a.market.localeCompare(b.market) || a.order_id - b.order_id));
    }
    const tradeEvents = journal.commands.flatMap((c) => c.events.filter((e) => e.kind === 'trade'));
    expect(tradeEvents.length).toBeGreaterThan(300);
    const [totals] = await db.sql`select count(*)::int as n, sum(qty)::bigint as qty from trades`;
    expect(totals).toEqual({ n: tradeEvents.length, qty: tradeEvents.reduce((sum, t) => sum + t.qty, 0) });
    // Every order the engine ever accepted has exactly one row.
    const placed = new Set(journal.commands.flatMap((c) => (c.id !== null && 'sym' in c.command ? [`${c.command.sym}/${c.id}`] : [])));
    const [{ n }] = (await db.sql`select count(*)::int as n from orders`) as unknown as [{ n: number }];
    expect(n).toBe(placed.size);
    expect(await sink.appliedSeq()).toBe(journal.lastSeq);
  });

  it('a large batch is one transaction whatever its COPY pieces (12,000 trades; 1 KB pieces too)', async () => {
    const journal = new JournalLike();
    const commands = [];
    for (let i = 0; i < 12_000; i++) commands.push(place('bob', 'sell', 100 + (i % 10), 1, { ts: 1 + i }));
    commands.push(place('alice', 'buy', 109, 12_000, { ts: 20_000 }));
    journal.runAll(commands);
    await sink.apply(journal.batch(1, journal.lastSeq));
    const [counts] =
      await db.sql`select (select count(*)::int from trades) as trades, (select count(*)::int from orders where status = 'filled') as filled`;
    expect(counts).toEqual({ trades: 12_000, filled: 12_001 });

    await db.sql`truncate orders, trades, markets, accounts, sink_progress, balances, ledger`;
    const small = new PgSink({ url: db.url, copyChunkBytes: 1024 });
    try {
      await small.apply(journal.batch(1, 600));
      await small.apply(journal.batch(601, journal.lastSeq));
      expect((await db.sql`select count(*)::int as n from trades`)[0]).toEqual({ n: 12_000 });
      expect(await small.appliedSeq()).toBe(journal.lastSeq);
    } finally {
      await small.close();
    }
  });
});

describe('idempotence by seq', () => {
  it('applying every batch twice, or overlapping ranges, leaves the same rows', async () => {
    const journal = new JournalLike();
    simulate(journal, 1_500, mulberry32(11));
    const batches = journal.batches(100);
    await applyAll(batches);
    const once = await dump();

    await applyAll(batches);
    expect(await dump()).toEqual(once);

    await db.sql`truncate orders, trades, markets, accounts, sink_progress, balances, ledger`;
    const overlapping = new PgSink({ url: db.url, markets: MARKETS });
    try {
      const last = journal.lastSeq;
      await applyAll([journal.batch(1, 700), journal.batch(400, 1_100), journal.batch(650, last), journal.batch(1, last)], overlapping);
    } finally {
      await overlapping.close();
    }
    expect(await dump()).toEqual(once);
  });

  it('an older batch after a newer one changes nothing, and progress never moves back', async () => {
    const journal = new JournalLike();
    simulate(journal, 800, mulberry32(12));
    await applyAll(journal.batches(50));
    const newest = await dump();
    const fresh = new PgSink({ url: db.url, markets: MARKETS }); // no name cache: every statement runs
    try {
      await fresh.apply(journal.batch(1, 50));
      await fresh.apply(journal.batch(300, 420));
      await fresh.markApplied(10);
    } finally {
      await fresh.close();
    }
    expect(await dump()).toEqual(newest);
    expect(await sink.appliedSeq()).toBe(journal.lastSeq);
  });

  it('a sink re-reading appliedSeq (as the pipeline does after an outage) writes markets and accounts again that vanished behind it', async () => {
    const journal = new JournalLike();
    simulate(journal, 200, mulberry32(13));
    await applyAll(journal.batches(50));
    const before = await dump();
    await db.sql`truncate orders, trades, markets, accounts, sink_progress, balances, ledger`; // a database restored empty
    expect(await sink.appliedSeq()).toBe(0);
    await applyAll(journal.batches(50));
    expect(await dump()).toEqual(before);
  });

  it('a second sink name writing the same batches merges rows the first one wrote (no unique violation)', async () => {
    const journal = new JournalLike();
    simulate(journal, 600, mulberry32(14));
    await applyAll(journal.batches(100));
    const once = await dump();
    const second = new PgSink({ url: db.url, markets: MARKETS, name: 'postgres-second' });
    try {
      await applyAll(journal.batches(150), second);
      expect(await second.appliedSeq()).toBe(journal.lastSeq);
    } finally {
      await second.close();
    }
    const twice = (await dump()) as { progress: unknown[] };
    expect({ ...twice, progress: twice.progress.slice(0, 1) }).toEqual(once);
  });

  it('redrive writes a batch at or below the applied seq (a dead letter); apply skips it', async () => {
    const journal = new JournalLike();
    simulate(journal, 300, mulberry32(15));
    await applyAll(journal.batches(50));
    // What a redrive can restore: every trade and each order's latest state (what an order was
    // placed as, and first seqs, stay as the later batches first recorded them).
    const latest = async (): Promise<unknown> => ({
      trades: await db.sql`select * from trades order by market, trade_id`,
      orders: await db.sql`select market, order_id, price, qty, filled, status, reason, updated_seq from orders order by market, order_id`,
    });
    const full = await latest();
    await db.sql`truncate orders, trades, markets, accounts, sink_progress, balances, ledger`;
    const fresh = new PgSink({ url: db.url, markets: MARKETS });
    try {
      await fresh.markApplied(100); // batch 1..100 went to the dead-letter store
      await applyAll(journal.batches(50).slice(2), fresh);
      await fresh.apply(journal.batch(1, 100)); // at or below the applied seq: nothing to do
      expect((await db.sql`select count(*)::int as n from trades where seq <= 100`)[0]).toEqual({ n: 0 });
      await fresh.redrive(journal.batch(1, 100));
      expect(await fresh.appliedSeq()).toBe(journal.lastSeq);
    } finally {
      await fresh.close();
    }
    expect(await latest()).toEqual(full);
  });

  it('appliedSeq is 0 on an empty database, markApplied only moves forward, and sinks keep separate progress', async () => {
    expect(await sink.appliedSeq()).toBe(0);
    await sink.apply({ fromSeq: 1, toSeq: 9, commands: [], books: [] }); // a range with no data
    expect(await sink.appliedSeq()).toBe(9);
    await sink.markApplied(42);
    await sink.markApplied(17);
    expect(await sink.appliedSeq()).toBe(42);
    const other = new PgSink({ url: db.url, name: 'postgres-replica' });
    try {
      expect(await other.appliedSeq()).toBe(0);
      await other.markApplied(5);
      expect(await other.appliedSeq()).toBe(5);
      expect(await sink.appliedSeq()).toBe(42);
    } finally {
      await other.close();
    }
  });
});

describe('errors', () => {
  function withFirstTrade(batch: EventBatch, change: Record<string, unknown>): EventBatch {
    return {
      ...batch,
      commands: batch.commands.map((c) => ({
        ...c,
        events: c.events.map((e) => (e.kind === 'trade' ? ({ ...e, ...change } as typeof e) : e)),
      })),
    };
  }

  async function rejectedWith(batch: EventBatch, write: 'apply' | 'redrive' = 'apply'): Promise<unknown> {
    try {
      await (write === 'apply' ? sink.apply(batch) : sink.redrive(batch));
    } catch (error) {
      return error;
    }
    throw new Error('apply should have failed');
  }

  // Each bad batch goes both ways a batch is written: straight COPY into the tables (apply) and
  // through the staging tables and ON CONFLICT (redrive). A small batch's error arrives after the
  // COPY's end, which postgres.js alone would never report (see pg-copy.ts).
  it.each([
    ['a zero quantity (check constraint, 23514)', { qty: 0 }, '23514'],
    ['a missing account (not null, 23502)', { makerAccount: undefined }, '23502'],
    ['a NUL byte in a name (not valid UTF-8 text, 22021)', { takerAccount: 'a\u0000b' }, '22021'],
    ['a fractional price (refused before writing)', { px: 100.5 }, InvalidBatchError],
    ['an id beyond 2^53 (refused before writing)', { tradeId: 2 ** 53 }, InvalidBatchError],
  ] as const)('a batch with %s is permanent and leaves no trace', async (_label, change, expected) => {
    const journal = new JournalLike();
    journal.runAll([place('bob', 'sell', 101, 5, { ts: 10 }), place('alice', 'buy', 101, 3, { ts: 11 })]);
    await sink.apply(journal.batch(1, 1));
    const before = await dump();

    for (const write of ['apply', 'redrive'] as const) {
      const error = await rejectedWith(withFirstTrade(journal.batch(2, 2), change), write);
      expect(sink.isPermanent(error)).toBe(true);
      if (typeof expected === 'string') expect(sqlStateOf(error)).toBe(expected);
      else expect(error).toBeInstanceOf(expected);
      expect(await dump()).toEqual(before);
      expect(await sink.appliedSeq()).toBe(1);
    }

    // The same sink keeps working: the good batch goes through afterwards.
    await sink.apply(journal.batch(2, 2));
    expect(await sink.appliedSeq()).toBe(2);
  });

  it('a bad order row is refused the same way, placed in the batch or changed by it', async () => {
    const journal = new JournalLike();
    journal.runAll([place('bob', 'sell', 101, 5, { ts: 10 }), place('alice', 'buy', 101, 3, { ts: 11 })]);
    const badStatus = (batch: EventBatch): EventBatch => ({
      ...batch,
      commands: batch.commands.map((c) => ({
        ...c,
        events: c.events.map((e) => (e.kind === 'exec' && e.exec.id === 1 ? { ...e, exec: { ...e.exec, status: 'bogus' as 'new' } } : e)),
      })),
    });
    // Order 1 is placed by batch 1 (straight COPY), then changed by batch 2 (staged and merged).
    expect(sqlStateOf(await rejectedWith(badStatus(journal.batch(1, 1))))).toBe('23514');
    await sink.apply(journal.batch(1, 1));
    const before = await dump();
    expect(sqlStateOf(await rejectedWith(badStatus(journal.batch(2, 2))))).toBe('23514');
    expect(await dump()).toEqual(before);
  });

  it('an exec with a NaN or infinite price is refused before writing, as permanent', async () => {
    const journal = new JournalLike();
    journal.run(place('bob', 'sell', 101, 5, { ts: 10 }));
    const good = journal.batch(1, 1);
    for (const px of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const bad: EventBatch = {
        ...good,
        commands: good.commands.map((c) => ({
          ...c,
          events: c.events.map((e) => (e.kind === 'exec' ? { ...e, exec: { ...e.exec, px } } : e)),
        })),
      };
      const error = await rejectedWith(bad);
      expect(error).toBeInstanceOf(InvalidBatchError);
      expect(sink.isPermanent(error)).toBe(true);
    }
    expect(await dump()).toMatchObject({ orders: [], progress: [] });
  });

  it('an unreachable database is not permanent (retrying may help)', async () => {
    const port = await closedPort();
    const unreachable = new PgSink({ url: `postgres://postgres@127.0.0.1:${port}/test`, connectTimeoutSeconds: 2 });
    try {
      const journal = new JournalLike();
      journal.run(place('bob', 'sell', 101, 5));
      const error = await unreachable.apply(journal.batch(1, 1)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).not.toBeNull();
      expect(unreachable.isPermanent(error)).toBe(false);
      expect(unreachable.isPermanent(new Error('timeout'))).toBe(false);
    } finally {
      await unreachable.close();
    }
  });

  it('a statement blocked past statementTimeoutMs fails as not permanent, rolls back, and the retry succeeds', async () => {
    const journal = new JournalLike();
    journal.runAll([place('bob', 'sell', 101, 5, { ts: 10 }), place('alice', 'buy', 101, 3, { ts: 11 })]);
    const impatient = new PgSink({ url: db.url, statementTimeoutMs: 300 });
    const locker = await db.sql.reserve();
    try {
      await locker`begin`;
      await locker`lock table trades in access exclusive mode`;
      const error = await impatient.apply(journal.batch(1, 2)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(sqlStateOf(error)).toBe('57014');
      expect(impatient.isPermanent(error)).toBe(false);
      await locker`rollback`;
      expect(await impatient.appliedSeq()).toBe(0);
      expect((await db.sql`select count(*)::int as n from orders`)[0]).toEqual({ n: 0 });

      await impatient.apply(journal.batch(1, 2));
      expect(await impatient.appliedSeq()).toBe(2);
      expect((await db.sql`select count(*)::int as n from trades`)[0]).toEqual({ n: 1 });
    } finally {
      locker.release();
      await impatient.close();
    }
  });

  it('rejects a non-positive copyChunkBytes at construction', () => {
    expect(() => new PgSink({ url: db.url, copyChunkBytes: 0 })).toThrow(RangeError);
  });
});

function sqlStateOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
