// End to end: orders and trades made over WebSocket reach the sinks (real Redis on 6379 under a key
// prefix of this file's own, real Postgres on 5432 in a database of its own) with exactly the values the clients were told; replaying a journal
// range again changes nothing; a restarted server resumes each sink from its applied seq; and a
// sink always ends equal to a fresh replay of the whole journal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrderField, redisKeys } from '../../db/redis-keys.js';
import type { Exec } from '../../protocol/messages.js';
import { DEMO_MARKETS } from '../../server/config.js';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { RedisSink } from '../../server/persistence/redis/redis-sink.js';
import { barrier, connect, httpGet, SYM, SYM2, type Recorded } from '../support/e2e.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { deleteUnder } from './redis-dump.js';
import {
  createDatabase,
  dropDatabase,
  pgState,
  redisState,
  replayJournalInto,
  waitForSinks,
  whenConnected,
} from './write-behind-oracle.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const runId = `${process.pid}-${Date.now()}`;
const PREFIX = `test:write-behind:${runId}:live:`;
const ORACLE_PREFIX = `test:write-behind:${runId}:oracle:`;
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DB = `spotwire_wb_${runId.replace('-', '_')}`;
const ORACLE_DB = `${DB}_oracle`;
let databaseUrl = '';

const redis = new Redis(REDIS_URL);
const dataDir = mkdtempSync(join(tmpdir(), 'spotwire-wb-e2e-'));
let server: TestServer;
let clients: Recorded[] = [];

async function start(withSinks = true): Promise<void> {
  server = await startTestServer({ dataDir, ...(withSinks ? { redisUrl: REDIS_URL, redisPrefix: PREFIX, databaseUrl } : {}) });
  clients = [];
}

async function stop(): Promise<void> {
  for (const client of clients) client.client.close();
  await server.stop();
}

async function trade(rounds: number, seed: number): Promise<void> {
  const [alice, bob, carol] = clients as [Recorded, Recorded, Recorded];
  for (let i = 0; i < rounds; i++) {
    const px = 100_00 + ((i * 7 + seed) % 11) - 5;
    await Promise.all([
      alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px, qty: 1 + (i % 4) }),
      bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: px + 2, qty: 2 + (i % 3), tif: i % 5 === 0 ? 'ioc' : 'gtc' }),
      carol.client.place({ sym: SYM2, side: i % 2 === 0 ? 'buy' : 'sell', kind: 'limit', px: 2_000_00 + (i % 3), qty: 1 }),
    ]);
  }
}

/** The latest exec each client saw per order: what its open orders in Redis must be. */
function lastExecs(execs: readonly Exec[]): Map<string, Exec> {
  const last = new Map<string, Exec>();
  for (const exec of execs) last.set(openOrderField(exec.sym, exec.id), exec);
  return last;
}

async function expectEqualToFreshReplay(): Promise<void> {
  await deleteUnder(redis, ORACLE_PREFIX);
  const oracle = new RedisSink({ url: REDIS_URL, prefix: ORACLE_PREFIX });
  await whenConnected(() => oracle.appliedSeq());
  await replayJournalInto(oracle, dataDir, server.server.journal.lastSeq);
  await oracle.close();
  expect(await redisState(redis, PREFIX)).toEqual(await redisState(redis, ORACLE_PREFIX));

  const oracleUrl = await createDatabase(ADMIN_URL, ORACLE_DB);
  const pgOracle = new PgSink({ url: oracleUrl, markets: DEMO_MARKETS });
  await replayJournalInto(pgOracle, dataDir, server.server.journal.lastSeq);
  await pgOracle.close();
  expect(await pgState(databaseUrl)).toEqual(await pgState(oracleUrl));
}

async function pgAppliedSeq(): Promise<number> {
  const sql = postgres(databaseUrl, { max: 1 });
  try {
    const rows = await sql<{ applied_seq: string }[]>`select applied_seq from sink_progress where sink = 'postgres'`;
    return Number(rows[0]?.applied_seq ?? 0);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

beforeAll(async () => {
  databaseUrl = await createDatabase(ADMIN_URL, DB);
  await start();
});

afterAll(async () => {
  await stop();
  await deleteUnder(redis, PREFIX);
  await deleteUnder(redis, ORACLE_PREFIX);
  redis.disconnect();
  await dropDatabase(ADMIN_URL, DB);
  await dropDatabase(ADMIN_URL, ORACLE_DB);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('write-behind to Redis and Postgres', () => {
  it('holds exactly what the clients were told: trades, open orders, execs, book', async () => {
    const alice = await connect(server.url, 'token-alice');
    const bob = await connect(server.url, 'token-bob');
    const carol = await connect(server.url, 'token-carol');
    const watcher = await connect(server.url);
    clients = [alice, bob, carol, watcher];
    await watcher.client.subscribeTrades(SYM, () => undefined);
    await watcher.client.subscribeBook(SYM, { depth: 50 });
    await trade(60, 1);
    await carol.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 90_00, qty: 3, cid: 'far' });
    await carol.client.amend(SYM, 'far', { qty: 2 });
    await alice.client.cancelAll(SYM);
    await barrier(alice, bob, carol, watcher);
    await waitForSinks(server.server);

    const keys = redisKeys(PREFIX);
    // Trades: every one the watcher saw, same id, price, quantity, taker side and time.
    expect(watcher.trades.length).toBeGreaterThan(20);
    const stored = (await redis.zrange(keys.trades(SYM), 0, -1)).map((member) => JSON.parse(member) as Record<string, unknown>);
    const seen = watcher.trades.slice(-100);
    expect(stored.map((t) => ({ tradeId: t.tradeId, px: t.px, qty: t.qty, side: t.takerSide, ts: t.ts }))).toEqual(
      seen.map((t) => ({ tradeId: t.tradeId, px: t.px, qty: t.qty, side: t.side, ts: t.ts })),
    );

    // Open orders: exactly the orders whose last exec left them open, with that exec as value.
    for (const [who, account] of [
      [alice, 'alice'],
      [bob, 'bob'],
      [carol, 'carol'],
    ] as const) {
      const open = [...lastExecs(who.execs)].filter(([, exec]) => exec.status === 'new' || exec.status === 'partial');
      const hash = await redis.hgetall(keys.openOrders(account));
      expect(Object.keys(hash).sort()).toEqual(open.map(([field]) => field).sort());
      // pseq is the gateway's numbering of the private stream, not part of the stored exec.
      const withoutPseq = ({ pseq: _pseq, ...exec }: Exec): Exec => exec;
      for (const [field, exec] of open) expect(JSON.parse(hash[field]!)).toEqual(withoutPseq(exec));
      // The stream carries each of the account's execs, in order, as sent.
      const streamed = (await redis.xrange(keys.events, '-', '+'))
        .map(([, fields]) => JSON.parse(fields[1]!) as { kind: string; account?: string; exec?: Exec })
        .filter((event) => event.kind === 'exec' && event.account === account)
        .map((event) => event.exec);
      expect(streamed).toEqual(who.execs.map(withoutPseq));
    }

    // Book: the depth and top of book the watcher's last book message showed, with its seq.
    const lastBook = watcher.books.filter((book) => book.sym === SYM).at(-1)!;
    const engine = server.server.engine;
    const depth = JSON.parse((await redis.get(keys.depth(SYM)))!) as { seq: number; bids: unknown; asks: unknown };
    expect(depth).toEqual({ seq: lastBook.seq, bids: engine.levels(SYM, 'buy', 50), asks: engine.levels(SYM, 'sell', 50) });
    const top = await redis.hgetall(keys.top(SYM));
    expect(top.seq).toBe(String(lastBook.seq));
    expect(Number(top.bidPx)).toBe(engine.levels(SYM, 'buy', 1)[0]![0]);

    expect(await redis.get(keys.appliedSeq)).toBe(String(server.server.journal.lastSeq));

    // Postgres: the same trades and every order's latest state as its owner was told.
    const { trades: tradeRows, orders: orderRows } = await pgState(databaseUrl);
    const btcTrades = (tradeRows as Record<string, string>[]).filter((row) => row.market === SYM);
    expect(
      btcTrades.map((t) => ({
        tradeId: Number(t.trade_id),
        px: Number(t.price),
        qty: Number(t.qty),
        side: t.taker_side,
        ts: Number(t.ts),
      })),
    ).toEqual(watcher.trades.map((t) => ({ tradeId: t.tradeId, px: t.px, qty: t.qty, side: t.side, ts: t.ts })));
    for (const [who, account] of [
      [alice, 'alice'],
      [bob, 'bob'],
      [carol, 'carol'],
    ] as const) {
      const told = [...lastExecs(who.execs).values()].map((e) => ({
        market: e.sym,
        id: e.id,
        cid: e.cid,
        side: e.side,
        px: e.px,
        qty: e.qty,
        filled: e.filled,
        status: e.status,
      }));
      const rows = (orderRows as Record<string, string | null>[])
        .filter((row) => row.account === account)
        .map((o) => ({
          market: o.market,
          id: Number(o.order_id),
          cid: o.cid,
          side: o.side,
          px: o.price === null ? null : Number(o.price),
          qty: Number(o.qty),
          filled: Number(o.filled),
          status: o.status,
        }));
      const byKey = (a: { market: unknown; id: number }, b: { market: unknown; id: number }): number =>
        `${a.market}`.localeCompare(`${b.market}`) || a.id - b.id;
      expect(rows.sort(byKey)).toEqual(told.sort(byKey));
    }
    expect(await pgAppliedSeq()).toBe(server.server.journal.lastSeq);

    // Balances: what each client's `balances` request answers is in Redis and Postgres (the
    // server funds the keys by journaled deposits at start, so the sinks saw every movement),
    // and each Postgres balance is the sum of its ledger rows.
    const { balances: balanceRows, ledger: ledgerRows } = await pgState(databaseUrl);
    for (const [who, account] of [
      [alice, 'alice'],
      [bob, 'bob'],
      [carol, 'carol'],
    ] as const) {
      const told = (await who.client.balances()).balances.filter((b) => b.available + b.hold > 0);
      expect(told.length).toBeGreaterThan(1);
      const hash = await redis.hgetall(keys.balances(account));
      expect(told.map((b) => ({ asset: b.asset, ...(JSON.parse(hash[b.asset] ?? 'null') as object) }))).toEqual(told);
      const rows = (balanceRows as Record<string, string>[]).filter((row) => row.account === account);
      expect(rows.map((row) => ({ asset: row.asset, available: Number(row.available), hold: Number(row.hold) }))).toEqual(told);
      for (const { asset, available, hold } of told) {
        const sum = (ledgerRows as Record<string, string>[])
          .filter((row) => row.account === account && row.asset === asset)
          .reduce((total, row) => total + Number(row.amount), 0);
        expect([asset, sum]).toEqual([asset, available + hold]);
      }
    }
    await expectEqualToFreshReplay();

    const health = JSON.parse((await httpGet(`${server.httpUrl}/health`)).body) as { writeBehind?: { status: string } };
    expect(JSON.stringify(health)).toContain('"status":"ok"');
    const metrics = (await httpGet(`${server.httpUrl}/metrics`)).body;
    expect(metrics).toContain(`spotwire_sink_applied_seq{sink="redis"} ${server.server.journal.lastSeq}`);
    expect(metrics).toContain(`spotwire_sink_applied_seq{sink="postgres"} ${server.server.journal.lastSeq}`);
    expect(metrics).toMatch(/spotwire_sink_lag_events\{sink="redis"\} 0/);
  });

  it('replaying a range again (applied seq set back) leaves row counts and contents unchanged', async () => {
    const before = await redisState(redis, PREFIX);
    const rowsBefore = await pgState(databaseUrl);
    expect(rowsBefore.trades!.length).toBeGreaterThan(20);
    await stop();
    await redis.set(redisKeys(PREFIX).appliedSeq, '1');
    const sql = postgres(databaseUrl, { max: 1 });
    await sql`update sink_progress set applied_seq = 1 where sink = 'postgres'`;
    await sql.end();
    await start();
    await waitForSinks(server.server);
    expect(await redisState(redis, PREFIX)).toEqual(before);
    expect(await pgState(databaseUrl)).toEqual(rowsBefore);
  });

  it('a graceful stop drains both sinks up to the last journal seq', async () => {
    clients = [await connect(server.url, 'token-alice'), await connect(server.url, 'token-bob'), await connect(server.url, 'token-carol')];
    await trade(40, 3);
    const lastSeq = server.server.journal.lastSeq;
    await stop();
    expect(Number(await redis.get(redisKeys(PREFIX).appliedSeq))).toBe(lastSeq);
    expect(await pgAppliedSeq()).toBe(lastSeq);
    await start();
  });

  it('a database that is away at start holds up neither the server nor the other sink', async () => {
    const prefix = `test:write-behind:${runId}:away:`;
    const away = await startTestServer({
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere',
      sinkDeadlineMs: 500,
      writeBehindDrainMs: 500,
    });
    try {
      const alice = await connect(away.url, 'token-alice');
      const ack = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 100_00, qty: 1 });
      expect(ack.type).toBe('ack');
      alice.client.close();
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { sinks, status } = away.server.writeBehind!.health();
        if (status === 'degraded' && sinks.postgres?.lastError !== undefined && sinks.redis?.appliedSeq === away.server.journal.lastSeq)
          break;
        if (Date.now() > deadline) throw new Error(`no degraded postgres next to a caught-up redis: ${JSON.stringify(sinks)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const health = await httpGet(`${away.httpUrl}/health`);
      expect(health.status).toBe(200);
      expect(health.body).toContain('"status":"degraded"');
    } finally {
      await away.stop();
      await deleteUnder(redis, prefix);
    }
  });

  it('a restarted server resumes each sink from its applied seq', async () => {
    const appliedBefore = Number(await redis.get(redisKeys(PREFIX).appliedSeq));
    await stop();
    // Trading while the write-behind is off: only the journal sees it.
    await start(false);
    clients = [await connect(server.url, 'token-alice'), await connect(server.url, 'token-bob'), await connect(server.url, 'token-carol')];
    await trade(30, 2);
    const lastSeq = server.server.journal.lastSeq;
    expect(lastSeq).toBeGreaterThan(appliedBefore);
    await stop();
    expect(Number(await redis.get(redisKeys(PREFIX).appliedSeq))).toBe(appliedBefore);
    expect(await pgAppliedSeq()).toBe(appliedBefore);

    await start();
    await waitForSinks(server.server);
    expect(Number(await redis.get(redisKeys(PREFIX).appliedSeq))).toBe(lastSeq);
    expect(await pgAppliedSeq()).toBe(lastSeq);
    await expectEqualToFreshReplay();
  });
});
