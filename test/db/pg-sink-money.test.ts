// PgSink's money rows against the real Postgres: after random trading, deposits and withdrawals
// with fees, every balance (@fees too) equals the engine's and the ledger sums to it, whatever the
// batching, replays, overlaps and redrives; bad money is permanent and leaves no trace.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidBatchError } from '../../server/persistence/postgres/batch-rows.js';
import { FEES_ACCOUNT } from '../../protocol/constants.js';
import type { EventBatch } from '../../server/persistence/event-batch.js';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { BTC, FIXTURE_FUNDING, MARKETS, place } from '../support/engine-fixtures.js';
import { mulberry32 } from '../../bench/lib/prng.js';
import { FEE_MARKETS, FUNDED_ACCOUNTS, JournalLike, simulate } from './engine-batches.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

let db: ScratchDatabase;
let sink: PgSink;

beforeAll(async () => {
  db = await createScratchDatabase();
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`truncate orders, trades, markets, accounts, sink_progress, balances, ledger`;
  sink = new PgSink({ url: db.url, markets: MARKETS });
});
afterEach(async () => {
  await sink.close();
});

/** Every row of every table, in a stable order, to compare whole database states. */
async function dump(): Promise<Record<string, unknown>> {
  return {
    orders: await db.sql`select * from orders order by market, order_id`,
    trades: await db.sql`select * from trades order by market, trade_id`,
    accounts: await db.sql`select * from accounts order by account`,
    balances: await db.sql`select * from balances order by account, asset`,
    ledger: await db.sql`select * from ledger order by seq, event_index, leg`,
    progress: await db.sql`select * from sink_progress order by sink`,
  };
}

async function applyAll(batches: readonly EventBatch[], target: PgSink = sink): Promise<void> {
  for (const batch of batches) await target.apply(batch);
}

async function rejectedWith(batch: EventBatch, write: 'apply' | 'redrive'): Promise<unknown> {
  try {
    await (write === 'apply' ? sink.apply(batch) : sink.redrive(batch));
  } catch (error) {
    return error;
  }
  throw new Error(`${write} should have failed`);
}

function sqlStateOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/** A journal funded by numbered deposits, with fees, then random trading, deposits and withdrawals. */
function moneyJournal(count: number, seed: number): JournalLike {
  const journal = new JournalLike({ markets: FEE_MARKETS, funding: 'deposits' });
  simulate(journal, count, mulberry32(seed), 1_700_000_000_000, { transfers: 0.05 });
  return journal;
}

/** Every account's balances in the database equal the engine's (0/0 where there is no row), and the ledger sums to them. */
async function expectMoneyOf(journal: JournalLike): Promise<void> {
  for (const account of [...FUNDED_ACCOUNTS, FEES_ACCOUNT]) {
    const rows = await db.sql`select asset, available, hold from balances where account = ${account}`;
    const stored = new Map(rows.map((row) => [row.asset as string, { asset: row.asset, available: row.available, hold: row.hold }]));
    expect(journal.engine.balances(account).map((b) => stored.get(b.asset) ?? { asset: b.asset, available: 0, hold: 0 })).toEqual(
      journal.engine.balances(account),
    );
  }
  const sums = await db.sql`
    select coalesce(b.account, l.account) as account, coalesce(b.asset, l.asset) as asset, b.available + b.hold as total, l.sum
    from balances b full join (select account, asset, sum(amount)::bigint as sum from ledger group by account, asset) l
      on l.account = b.account and l.asset = b.asset`;
  expect(sums.length).toBeGreaterThan(0);
  for (const row of sums) expect([row.account, row.asset, row.sum ?? 0]).toEqual([row.account, row.asset, row.total ?? 0]);
}

describe('balances and ledger', () => {
  it('one trade with fees: the balance rows and the eight movements it makes, each leg named', async () => {
    const journal = new JournalLike({ markets: FEE_MARKETS, funding: 'deposits' });
    const funded = journal.lastSeq;
    journal.runAll([place('bob', 'sell', 101, 400, { ts: 10 }), place('alice', 'buy', 101, 400, { ts: 11 })]);
    await applyAll([journal.batch(1, funded), journal.batch(funded + 1, journal.lastSeq)]);
    // 400 lots at 101 ticks: 400 base units, 40,400 quote units; bob (maker) pays 0.1% of the
    // quote he receives (40.4 → 41), alice (taker) 0.25% of the base (1 → 1).
    const rows =
      await db.sql`select event_index, leg, account, asset, kind, amount, market, trade_id, ref, ts from ledger where seq = ${journal.lastSeq} order by leg`;
    const trade = { market: BTC, trade_id: 1, ref: null, ts: 11 };
    expect(rows.map((row) => ({ ...row }))).toEqual(
      [
        { leg: 0, account: 'alice', asset: 'BTC', kind: 'trade', amount: 400 },
        { leg: 1, account: 'alice', asset: 'USD', kind: 'trade', amount: -40_400 },
        { leg: 2, account: 'bob', asset: 'BTC', kind: 'trade', amount: -400 },
        { leg: 3, account: 'bob', asset: 'USD', kind: 'trade', amount: 40_400 },
        { leg: 4, account: 'alice', asset: 'BTC', kind: 'fee', amount: -1 },
        { leg: 5, account: FEES_ACCOUNT, asset: 'BTC', kind: 'fee', amount: 1 },
        { leg: 6, account: 'bob', asset: 'USD', kind: 'fee', amount: -41 },
        { leg: 7, account: FEES_ACCOUNT, asset: 'USD', kind: 'fee', amount: 41 },
      ].map((leg) => ({ event_index: rows[0]!.event_index, ...leg, ...trade })),
    );
    const deposits = await db.sql`select kind, amount, ref from ledger where account = 'alice' and asset = 'USD' and kind = 'deposit'`;
    expect(deposits.map((row) => ({ ...row }))).toEqual([{ kind: 'deposit', amount: FIXTURE_FUNDING, ref: 'fund:alice:USD' }]);
    const fees = await db.sql`select asset, available, hold, updated_seq from balances where account = ${FEES_ACCOUNT} order by asset`;
    expect(fees.map((row) => ({ ...row }))).toEqual([
      { asset: 'BTC', available: 1, hold: 0, updated_seq: journal.lastSeq },
      { asset: 'USD', available: 41, hold: 0, updated_seq: journal.lastSeq },
    ]);
    await expectMoneyOf(journal);
  });

  it('after 3,000 random commands with deposits, withdrawals and fees, in uneven batches, every balance equals the engine and the ledger sums to it', async () => {
    const journal = moneyJournal(3_000, 21);
    const kinds = new Set(journal.commands.flatMap((c) => c.events.map((e) => (e.kind === 'transfer' ? e.op : e.kind))));
    for (const kind of ['deposit', 'withdraw', 'trade']) expect(kinds).toContain(kind);
    const random = mulberry32(22);
    for (let from = 1; from <= journal.lastSeq;) {
      const to = Math.min(journal.lastSeq, from + Math.floor(random() * 200));
      await sink.apply(journal.batch(from, to));
      from = to + 1;
    }
    await expectMoneyOf(journal);
    const [fees] = await db.sql`select count(*)::int as n from ledger where account = ${FEES_ACCOUNT} and amount > 0`;
    expect(fees!.n).toBeGreaterThan(100);
    const [withdrawals] = await db.sql`select count(*)::int as n from ledger where kind = 'withdraw' and amount < 0`;
    expect(withdrawals!.n).toBeGreaterThan(5);
  });

  it('replays, overlapping ranges, older batches after newer ones and a redrive change neither balances nor ledger', async () => {
    const journal = moneyJournal(1_200, 23);
    const last = journal.lastSeq;
    await applyAll(journal.batches(100));
    const once = await dump();
    await applyAll(journal.batches(100));
    expect(last).toBeGreaterThan(900);
    await applyAll([journal.batch(1, 700), journal.batch(400, 900), journal.batch(650, last), journal.batch(1, last)]);
    await sink.redrive(journal.batch(300, 500));
    expect(await dump()).toEqual(once);
    await expectMoneyOf(journal);

    // A dead-lettered middle: balances the later batches touched are right at once, and the
    // redrive adds the missing movements without taking any balance back.
    await db.sql`truncate orders, trades, markets, accounts, sink_progress, balances, ledger`;
    const fresh = new PgSink({ url: db.url, markets: MARKETS });
    try {
      await applyAll([journal.batch(1, 400)], fresh);
      await fresh.markApplied(600);
      await applyAll([journal.batch(601, last)], fresh);
      await fresh.redrive(journal.batch(401, 600));
    } finally {
      await fresh.close();
    }
    const redriven = await dump();
    expect(redriven.balances).toEqual(once.balances);
    expect(redriven.ledger).toEqual(once.ledger);
    await expectMoneyOf(journal);
  });

  it('bad money is refused as permanent and leaves no trace: a negative balance, a trade whose fills are missing', async () => {
    const journal = new JournalLike({ funding: 'deposits' });
    const funded = journal.lastSeq;
    journal.runAll([place('bob', 'sell', 101, 5, { ts: 10 }), place('alice', 'buy', 101, 3, { ts: 11 })]);
    await sink.apply(journal.batch(1, funded + 1));
    const before = await dump();
    const last = journal.batch(funded + 2, funded + 2);
    const negative: EventBatch = {
      ...last,
      commands: last.commands.map((c) => ({ ...c, events: c.events.map((e) => (e.kind === 'balance' ? { ...e, hold: -1 } : e)) })),
    };
    const unnamed: EventBatch = {
      ...last,
      commands: last.commands.map((c) => ({ ...c, events: c.events.filter((e) => e.kind !== 'exec' || e.exec.fill === undefined) })),
    };
    for (const write of ['apply', 'redrive'] as const) {
      const error = await rejectedWith(negative, write);
      expect([sqlStateOf(error), sink.isPermanent(error)]).toEqual(['23514', true]);
      const missing = await rejectedWith(unnamed, write);
      expect(missing).toBeInstanceOf(InvalidBatchError);
      expect(sink.isPermanent(missing)).toBe(true);
      expect(await dump()).toEqual(before);
    }
    await sink.apply(last);
    expect((await db.sql`select count(*)::int as n from ledger where seq = ${funded + 2}`)[0]).toEqual({ n: 4 });
  });
});
