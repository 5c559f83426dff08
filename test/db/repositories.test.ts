// The operator queries over a projection written by the real sink from real engine events: each
// returns exactly the rows the engine's history implies, and uses its index (EXPLAIN).
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingRepository } from '../../db/repositories.js';
import type { TradeEvent } from '../../server/engine/types.js';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { BTC, ETH, FIXTURE_FUNDING as FIXTURE_FUNDING_AMOUNT, MARKETS, amend, cancel, place } from '../support/engine-fixtures.js';
import { mulberry32 } from '../../bench/lib/prng.js';
import { FEES_ACCOUNT } from '../../protocol/constants.js';
import { FEE_MARKETS, FUNDED_ACCOUNTS, JournalLike, SIM_ACCOUNTS, simulate } from './engine-batches.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

let db: ScratchDatabase;
let client: postgres.Sql;
let repository: TradingRepository;
const scripted = new JournalLike();
const random = new JournalLike();

beforeAll(async () => {
  db = await createScratchDatabase();
  // The random history (below) runs on the same database after a truncate: ids would clash.
  scripted.runAll([
    place('bob', 'sell', 101, 5, { ts: 10, cid: 'ask-a' }), // BTC 1
    place('bob', 'sell', 102, 5, { ts: 11, cid: 'ask-b' }), // BTC 2
    place('alice', 'buy', 101, 2, { ts: 12, cid: 'bid-a' }), // BTC 3: trade 1 (2@101)
    place('alice', 'buy', 101, 4, { ts: 13 }), // BTC 4: trade 2 (3@101), rests 1
    place('carol', 'buy', 98, 7, { ts: 14, cid: 'ask-a', sym: ETH }), // ETH 1
    cancel('bob', { cid: 'ask-b' }), // BTC 2 canceled
    place('bob', 'sell', 103, 1, { ts: 16, cid: 'ask-b' }), // BTC 5 reuses the cid
    amend('alice', { id: 4 }, { qty: 6 }), // BTC 4: qty 6, 3 left, back of its level
    place('carol', 'sell', 101, 2, { ts: 18 }), // BTC 6: trade 3 (2@101 with alice's 4)
  ]);
  const sink = new PgSink({ url: db.url, markets: MARKETS });
  try {
    await sink.apply(scripted.batch(1, scripted.lastSeq));
  } finally {
    await sink.close();
  }
  client = postgres(db.url, { max: 1, onnotice: () => {} });
  repository = new TradingRepository(drizzle(client));
});
afterAll(async () => {
  await client?.end({ timeout: 5 });
  await db?.drop();
});

describe('TradingRepository on a scripted history', () => {
  it('openOrders: the account open orders, in one market or all', async () => {
    const ids = (rows: { market: string; orderId: number }[]) => rows.map((r) => `${r.market}/${r.orderId}`);
    expect(ids(await repository.openOrders('alice'))).toEqual([`${BTC}/4`]);
    expect(ids(await repository.openOrders('bob'))).toEqual([`${BTC}/5`]);
    expect(ids(await repository.openOrders('carol'))).toEqual([`${ETH}/1`]);
    expect(ids(await repository.openOrders('carol', BTC))).toEqual([]);
    expect(ids(await repository.openOrders('nobody'))).toEqual([]);
    const [alice] = await repository.openOrders('alice', BTC);
    expect(alice).toMatchObject({ qty: 6, filled: 5, status: 'partial', price: 101, updatedSeq: 9 });
    // The engine agrees with the projection.
    expect(scripted.engine.openOrders('alice', null).map((o) => [o.id, o.qty, o.filled])).toEqual([[4, 6, 5]]);
  });

  it('tradesOfAccount: maker and taker trades newest first, limited, and before a ts', async () => {
    const tradeIds = (rows: { market: string; tradeId: number; ts: number }[]) => rows.map((r) => [r.tradeId, r.ts]);
    expect(tradeIds(await repository.tradesOfAccount('alice', 10))).toEqual([
      [3, 18],
      [2, 13],
      [1, 12],
    ]);
    expect(tradeIds(await repository.tradesOfAccount('bob', 10))).toEqual([
      [2, 13],
      [1, 12],
    ]);
    expect(tradeIds(await repository.tradesOfAccount('alice', 2))).toEqual([
      [3, 18],
      [2, 13],
    ]);
    expect(tradeIds(await repository.tradesOfAccount('alice', 10, 13))).toEqual([[1, 12]]);
    expect(await repository.tradesOfAccount('nobody', 10)).toEqual([]);
  });

  it('recentTrades: newest first, limited, per market', async () => {
    expect((await repository.recentTrades(BTC, 2)).map((t) => [t.tradeId, t.price, t.qty, t.makerAccount, t.takerAccount])).toEqual([
      [3, 101, 2, 'alice', 'carol'],
      [2, 101, 3, 'bob', 'alice'],
    ]);
    expect(await repository.recentTrades(ETH, 5)).toEqual([]);
  });

  it('orderById and orderByCid: the latest order with a reused cid, per account not per market', async () => {
    expect(await repository.orderById(BTC, 2)).toMatchObject({ account: 'bob', status: 'canceled', reason: 'user', cid: 'ask-b' });
    expect(await repository.orderById(BTC, 99)).toBeNull();
    expect(await repository.orderByCid('bob', 'ask-b')).toMatchObject({ orderId: 5, status: 'new' });
    expect(await repository.orderByCid('bob', 'ask-a')).toMatchObject({ orderId: 1, status: 'filled', filled: 5 });
    expect(await repository.orderByCid('carol', 'ask-a')).toMatchObject({ market: ETH, orderId: 1 });
    expect(await repository.orderByCid('alice', 'nope')).toBeNull();
  });

  it('refuses a limit outside 1..1000 with a clear error', async () => {
    await expect(repository.recentTrades(BTC, 0)).rejects.toThrow(RangeError);
    await expect(repository.tradesOfAccount('alice', 1001)).rejects.toThrow(/limit must be an integer from 1 to 1000/);
    await expect(repository.tradesOfAccount('alice', 1.5)).rejects.toThrow(RangeError);
  });
});

describe('TradingRepository on a random history', () => {
  it('matches the engine and the event stream for every account', async () => {
    await db.sql`truncate orders, trades, markets, accounts, sink_progress`;
    simulate(random, 2_000, mulberry32(21));
    const sink = new PgSink({ url: db.url });
    try {
      for (const batch of random.batches(150)) await sink.apply(batch);
    } finally {
      await sink.close();
    }
    const allTrades = random.commands.flatMap((c) => c.events.filter((e): e is TradeEvent => e.kind === 'trade'));
    const newestFirst = (a: TradeEvent, b: TradeEvent) => b.ts - a.ts || a.sym.localeCompare(b.sym) || b.tradeId - a.tradeId;
    for (const account of SIM_ACCOUNTS) {
      const open = await repository.openOrders(account);
      const expected = random.engine
        .openOrders(account, null)
        .map((o) => `${o.sym}/${o.id}/${o.qty}/${o.filled}`)
        .sort();
      expect(open.map((o) => `${o.market}/${o.orderId}/${o.qty}/${o.filled}`).sort()).toEqual(expected);

      const mine = allTrades.filter((t) => t.makerAccount === account || t.takerAccount === account).sort(newestFirst);
      const page = await repository.tradesOfAccount(account, 50);
      expect(page.map((t) => `${t.market}/${t.tradeId}`)).toEqual(mine.slice(0, 50).map((t) => `${t.sym}/${t.tradeId}`));
    }
    const btcTrades = allTrades.filter((t) => t.sym === BTC).sort((a, b) => b.tradeId - a.tradeId);
    expect((await repository.recentTrades(BTC, 20)).map((t) => t.tradeId)).toEqual(btcTrades.slice(0, 20).map((t) => t.tradeId));
  });

  it('each repository query, as drizzle sends it, is planned on its index even as a generic plan', async () => {
    // Capture the exact SQL and parameters the repository sends, then EXPLAIN them on one
    // connection with sequential scans off (tiny tables would rightly prefer them) and plans
    // forced generic, as a prepared statement's plan may become after a few runs.
    const sent: { query: string; params: unknown[] }[] = [];
    const capturing = postgres(db.url, { max: 1, onnotice: () => {} });
    const explaining = await db.sql.reserve();
    try {
      const logged = new TradingRepository(drizzle(capturing, { logger: { logQuery: (query, params) => sent.push({ query, params }) } }));
      await logged.openOrders('alice');
      await logged.orderByCid('alice', 'c-alice-1');
      await logged.tradesOfAccount('alice', 5, 1_800_000_000_000);
      await logged.recentTrades(BTC, 5);
      await logged.orderById(BTC, 3);
      await logged.balances('alice');
      await logged.ledger('alice', 'USD', 5);
      await explaining`analyze`;
      await explaining`set enable_seqscan = off`;
      await explaining`set plan_cache_mode = force_generic_plan`;
      const literal = (value: unknown) => (typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`);
      const plans: string[] = [];
      for (const [index, { query, params }] of sent.entries()) {
        await explaining.unsafe(`prepare repository_query_${index} as ${query}`);
        const rows = await explaining.unsafe(`explain execute repository_query_${index}(${params.map(literal).join(', ')})`);
        plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
      }
      const [open, byCid, ofAccount, recent, byId, funds, history] = plans;
      expect(open).toContain('orders_open_by_account');
      expect(open).toContain('$1'); // really the generic plan
      expect(byCid).toContain('orders_by_account_cid');
      expect(ofAccount).toContain('trades_by_maker_account_ts');
      expect(ofAccount).toContain('trades_by_taker_account_ts');
      expect(recent).toMatch(/Index Scan Backward using trades_pkey/);
      expect(byId).toContain('orders_pkey');
      expect(funds).toContain('balances_pkey');
      expect(history).toContain('ledger_by_account_asset_seq');
    } finally {
      explaining.release();
      await capturing.end({ timeout: 5 });
    }
  });
});

describe('TradingRepository: balances and ledger', () => {
  let money: ScratchDatabase;
  let moneyClient: postgres.Sql;
  let moneyRepository: TradingRepository;
  const journal = new JournalLike({ markets: FEE_MARKETS, funding: 'deposits' });

  beforeAll(async () => {
    money = await createScratchDatabase();
    simulate(journal, 1_500, mulberry32(31), 1_700_000_000_000, { transfers: 0.05 });
    const sink = new PgSink({ url: money.url });
    try {
      for (const batch of journal.batches(150)) await sink.apply(batch);
    } finally {
      await sink.close();
    }
    moneyClient = postgres(money.url, { max: 1, onnotice: () => {} });
    moneyRepository = new TradingRepository(drizzle(moneyClient));
  });
  afterAll(async () => {
    await moneyClient?.end({ timeout: 5 });
    await money?.drop();
  });

  it('balances: every asset the account ever held, equal to the engine, @fees included', async () => {
    for (const account of [...FUNDED_ACCOUNTS, FEES_ACCOUNT]) {
      const rows = await moneyRepository.balances(account);
      expect(rows.length).toBeGreaterThan(0);
      const engine = journal.engine.balances(account);
      expect(rows.map((r) => ({ asset: r.asset, available: r.available, hold: r.hold }))).toEqual(
        engine.filter((b) => rows.some((r) => r.asset === b.asset)),
      );
      for (const b of engine) if (!rows.some((r) => r.asset === b.asset)) expect(b).toMatchObject({ available: 0, hold: 0 });
    }
    expect(await moneyRepository.balances('nobody')).toEqual([]);
  });

  it('ledger: newest first, each row with the running total, the newest total the balance; paged by seq', async () => {
    for (const account of SIM_ACCOUNTS) {
      const balance = journal.engine.balances(account).find((b) => b.asset === 'USD')!;
      const page = await moneyRepository.ledger(account, 'USD', 1000);
      expect(page.length).toBeGreaterThan(10);
      expect(page.length).toBeLessThan(1000);
      expect(page[0]!.total).toBe(balance.available + balance.hold);
      // Oldest first the totals are the sums of the amounts: the history explains the balance.
      let total = 0;
      for (const row of [...page].reverse()) {
        total += row.amount;
        expect(row.total).toBe(total);
      }
      expect(page.at(-1)).toMatchObject({ kind: 'deposit', ref: `fund:${account}:USD`, amount: FIXTURE_FUNDING_AMOUNT });
      // A seller pays its fee in USD: every kind of movement is in the history.
      expect([...new Set(page.map((row) => row.kind))].sort()).toEqual(['deposit', 'fee', 'trade', 'withdraw']);
      const boundary = page[9]!.seq;
      expect(await moneyRepository.ledger(account, 'USD', 5, boundary)).toEqual(page.filter((row) => row.seq < boundary).slice(0, 5));
    }
    const fees = await moneyRepository.ledger(FEES_ACCOUNT, 'USD', 1000);
    expect(fees.length).toBeGreaterThan(10);
    expect(fees.every((row) => row.kind === 'fee' && row.amount > 0)).toBe(true);
    await expect(moneyRepository.ledger('alice', 'USD', 0)).rejects.toThrow(RangeError);
  });
});
