// Outages of the sinks during trading, against a private redis-server and a private Postgres
// cluster (test/support), so killing or pausing them disturbs nobody else. While a sink is away
// trading goes on (acks keep coming, no errors), the pipeline holds at most one batch per sink, and
// /health stays 200 but says "degraded"; once the service is back the sink converges to exactly a
// fresh replay of the journal. A paused (SIGSTOPped) server is caught by the deadline. A batch that
// fails permanently lands in the dead-letter store, the sink moves on, and redrive puts it back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrderField, redisKeys } from '../../db/redis-keys.js';
import { DEMO_MARKETS } from '../../server/config.js';
import { runDlqCommand } from '../../server/persistence/dead-letters/dead-letter-commands.js';
import { PgSink } from '../../server/persistence/postgres/pg-sink.js';
import { RedisSink } from '../../server/persistence/redis/redis-sink.js';
import { connect, httpGet, SYM, SYM2, type Recorded } from '../support/e2e.js';
import { startPostgres } from '../support/postgres-instance.js';
import { startRedis } from '../support/redis-instance.js';
import type { ServiceInstance } from '../support/service-process.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { deleteUnder } from './redis-dump.js';
import { createDatabase, pgState, redisState, replayJournalInto, waitForSinks, whenConnected } from './write-behind-oracle.js';

const PREFIX = 'live:';
const ORACLE_PREFIX = 'oracle:';
const MAX_BATCH_COMMANDS = 5_000;
const OUTAGE_MS = 10_000;

let redisServer: ServiceInstance;
let pgServer: ServiceInstance;
let server: TestServer;
let redis: Redis;
const dataDir = mkdtempSync(join(tmpdir(), 'spotwire-outage-'));

/** Clients trading without pause; counts acks and anything that went wrong. */
class Trading {
  acks = 0;
  errors: string[] = [];
  maxHeld = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly clients: Recorded[]) {
    this.loops = clients.map((client, index) => this.loop(client, index));
  }

  private async loop(client: Recorded, index: number): Promise<void> {
    for (let i = 0; this.running; i++) {
      try {
        const px = 100_00 + (i % 9) - 4;
        await Promise.all([
          client.client.place({ sym: SYM, side: index % 2 === 0 ? 'sell' : 'buy', kind: 'limit', px, qty: 1 + (i % 3) }),
          client.client.place({
            sym: SYM2,
            side: index % 2 === 0 ? 'buy' : 'sell',
            kind: 'limit',
            px: 2_000_00 + (i % 5),
            qty: 1,
            tif: i % 4 === 0 ? 'ioc' : 'gtc',
          }),
        ]);
        this.acks += 2;
        if (i % 50 === 49) await client.client.cancelAll();
      } catch (error) {
        this.errors.push((error as Error).message);
        if (this.errors.length > 100) return;
      }
    }
  }

  /** Waits `ms` while checking, every 2 s (generous on a busy machine), that acks still come and held batches stay bounded. */
  async during(ms: number): Promise<void> {
    const end = Date.now() + ms;
    let lastAcks = this.acks;
    while (Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      for (const sink of Object.values(server.server.writeBehind!.health().sinks)) this.maxHeld = Math.max(this.maxHeld, sink.heldCommands);
      expect(this.acks, 'acks keep coming during the outage').toBeGreaterThan(lastAcks);
      lastAcks = this.acks;
    }
    expect(this.errors).toEqual([]);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(server.server.writeBehind!.health())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function sinkHealth(name: string): { breaker: string; status: string; heldCommands: number } {
  return server.server.writeBehind!.health().sinks[name]!;
}

async function metric(name: string): Promise<number> {
  const body = (await httpGet(`${server.httpUrl}/metrics`)).body;
  const line = body.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function traders(): Promise<Recorded[]> {
  return [await connect(server.url, 'token-alice'), await connect(server.url, 'token-bob')];
}

/** Stops trading, waits for both sinks, and compares them with a fresh replay of the journal. */
async function expectConverged(trading: Trading, options: { skipRedisKeys?: string[] } = {}): Promise<void> {
  await trading.stop();
  expect(trading.errors).toEqual([]);
  await waitForSinks(server.server, 60_000);
  const lastSeq = server.server.journal.lastSeq;

  await deleteUnder(redis, ORACLE_PREFIX);
  const redisOracle = new RedisSink({ url: redisServer.url, prefix: ORACLE_PREFIX });
  await whenConnected(() => redisOracle.appliedSeq());
  await replayJournalInto(redisOracle, dataDir, lastSeq);
  await redisOracle.close();
  const skip = new Set(options.skipRedisKeys ?? []);
  const without = (state: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(state).filter(([key]) => !skip.has(key)));
  expect(without(await redisState(redis, PREFIX))).toEqual(without(await redisState(redis, ORACLE_PREFIX)));

  const oracleUrl = await createDatabase(pgServer.url, `oracle_${lastSeq}`);
  const pgOracle = new PgSink({ url: oracleUrl, markets: DEMO_MARKETS });
  await replayJournalInto(pgOracle, dataDir, lastSeq);
  await pgOracle.close();
  expect(await pgState(pgServer.url)).toEqual(await pgState(oracleUrl));
}

beforeAll(async () => {
  [redisServer, pgServer] = await Promise.all([startRedis(), startPostgres()]);
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => undefined);
  server = await startTestServer({
    dataDir,
    redisUrl: redisServer.url,
    redisPrefix: PREFIX,
    databaseUrl: pgServer.url,
    sinkDeadlineMs: 1_000,
  });
  await waitFor('both sinks running', () =>
    Object.values(server.server.writeBehind!.health().sinks).every((sink) => sink.status === 'running'),
  );
}, 120_000);

afterAll(async () => {
  await server?.stop();
  redis?.disconnect();
  await Promise.all([redisServer?.stop(), pgServer?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

describe('sink outages during trading', () => {
  it('Redis killed for a while (it comes back empty): trading goes on, Redis is rebuilt from the journal', async () => {
    const trading = new Trading(await traders());
    await trading.during(1_000);
    await redisServer.kill();
    await waitFor('the redis breaker to open', () => sinkHealth('redis').breaker === 'open');
    const health = await httpGet(`${server.httpUrl}/health`);
    expect(health.status).toBe(200);
    expect(health.body).toContain('"status":"degraded"');
    expect(await metric('spotwire_sink_breaker_state{sink="redis"}')).toBe(2);
    await trading.during(OUTAGE_MS);
    // The other sink is not held up by this one.
    expect(sinkHealth('postgres').breaker).toBe('closed');
    await redisServer.restart();
    await waitFor('the redis breaker to close', () => sinkHealth('redis').breaker === 'closed');
    await trading.during(1_000);
    expect(trading.maxHeld).toBeLessThanOrEqual(MAX_BATCH_COMMANDS + 1_024);
    await expectConverged(trading);
  }, 180_000);

  it('Postgres killed for a while: trading goes on, Postgres catches up', async () => {
    const trading = new Trading(await traders());
    await trading.during(1_000);
    await pgServer.kill();
    await waitFor('the postgres breaker to open', () => sinkHealth('postgres').breaker === 'open');
    expect((await httpGet(`${server.httpUrl}/health`)).status).toBe(200);
    await trading.during(OUTAGE_MS);
    expect(sinkHealth('redis').breaker).toBe('closed');
    await pgServer.restart();
    await waitFor('the postgres breaker to close', () => sinkHealth('postgres').breaker === 'closed', 60_000);
    expect(trading.maxHeld).toBeLessThanOrEqual(MAX_BATCH_COMMANDS + 1_024);
    await expectConverged(trading);
  }, 180_000);

  it('a hung Postgres (SIGSTOP) is caught by the deadline; after SIGCONT it converges', async () => {
    const deadlinesBefore = await metric('spotwire_sink_failures_total{sink="postgres",kind="deadline"}');
    const trading = new Trading(await traders());
    await trading.during(1_000);
    pgServer.pause();
    try {
      await waitFor('the postgres breaker to open', () => sinkHealth('postgres').breaker === 'open');
      expect(await metric('spotwire_sink_failures_total{sink="postgres",kind="deadline"}')).toBeGreaterThan(deadlinesBefore);
      expect((await httpGet(`${server.httpUrl}/health`)).body).toContain('"status":"degraded"');
      await trading.during(5_000);
    } finally {
      pgServer.resume();
    }
    await waitFor('the postgres breaker to close', () => sinkHealth('postgres').breaker === 'closed', 60_000);
    await expectConverged(trading);
  }, 180_000);

  it('a batch Redis refuses lands in the dead-letter store, the sink moves on, and redrive puts it back', async () => {
    const ordersOfCarol = redisKeys(PREFIX).openOrders('carol');
    await redis.set(ordersOfCarol, 'not a hash');
    const carol = await connect(server.url, 'token-carol');
    const trading = new Trading(await traders());
    for (let i = 0; i < 5; i++) await carol.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 50_00 + i, qty: 1 });
    await carol.client.cancel(SYM, (await carol.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 40_00, qty: 1 })).id!);
    await trading.during(1_000);
    await trading.stop();
    await waitForSinks(server.server, 60_000);
    expect(await metric('spotwire_sink_dead_letters{sink="redis"}')).toBeGreaterThan(0);
    expect(await metric('spotwire_sink_failures_total{sink="redis",kind="permanent"}')).toBeGreaterThan(0);

    const lines: string[] = [];
    const output = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    expect(await runDlqCommand(['list', '--data-dir', dataDir], {}, output)).toBe(0);
    const ids = lines.filter((line) => line.startsWith('redis/')).map((line) => line.split('\t')[0]!);
    expect(ids.length).toBeGreaterThan(0);
    expect(lines.join('\n')).toContain('WRONGTYPE');

    await redis.del(ordersOfCarol);
    carol.client.close();
    // A redrive writes the data dir and the sinks: it needs the server stopped (the data dir lock).
    await server.stop();
    for (const id of ids) {
      expect(
        await runDlqCommand(['redrive', id, '--data-dir', dataDir, '--redis-url', redisServer.url, '--redis-prefix', PREFIX], {}, output),
      ).toBe(0);
    }
    lines.length = 0;
    expect(await runDlqCommand(['list', '--data-dir', dataDir], {}, output)).toBe(0);
    expect(lines).toEqual(['0 dead-lettered batch(es)']);
    server = await startTestServer({
      dataDir,
      redisUrl: redisServer.url,
      redisPrefix: PREFIX,
      databaseUrl: pgServer.url,
      sinkDeadlineMs: 1_000,
    });
    const open = server.server.engine.openOrders('carol', null);
    expect(Object.keys(await redis.hgetall(ordersOfCarol)).sort()).toEqual(open.map((order) => openOrderField(order.sym, order.id)).sort());
    expect(open.length).toBe(5);
    // Everything else equals a fresh replay; the redriven events sit at the stream's end instead.
    await expectConverged(new Trading([]), { skipRedisKeys: ['events'] });
  }, 180_000);
});
