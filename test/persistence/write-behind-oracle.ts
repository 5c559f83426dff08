// What a sink should hold: the server's journal replayed from seq 0 into a fresh sink. A sink that
// went through outages, restarts and replays must end up equal to this.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Redis } from 'ioredis';
import postgres from 'postgres';
import { migrateDatabase } from '../../db/migrate.js';
import type { MarketInfo } from '../../protocol/messages.js';
import { DEMO_MARKETS } from '../../server/config.js';
import { createCommandCodec } from '../../server/journal/command-codec.js';
import type { Sink } from '../../server/persistence/event-batch.js';
import { JournalFollower } from '../../server/persistence/journal-follower.js';
import type { RunningServer } from '../../server/server.js';
import { dumpRedis } from './redis-dump.js';
import { LIMITS, silentLog } from './write-behind-fixture.js';

/** Applies the whole journal under `dataDir` (up to `lastSeq`) to `sink`, in batches as the server would. */
export async function replayJournalInto(sink: Sink, dataDir: string, lastSeq: number): Promise<void> {
  const follower = await JournalFollower.open(`oracle-${sink.name}`, 0, {
    journalDir: join(dataDir, 'journal'),
    snapshotDir: join(dataDir, 'snapshots'),
    // The markets the journal was written with: a server records them; demo markets otherwise.
    markets: existsSync(join(dataDir, 'markets.json'))
      ? (JSON.parse(readFileSync(join(dataDir, 'markets.json'), 'utf8')) as MarketInfo[])
      : DEMO_MARKETS,
    limits: LIMITS,
    codec: createCommandCodec(),
    depth: 50,
    maxBatchCommands: 5_000,
    log: silentLog,
  });
  try {
    for (let batch = await follower.next(lastSeq); batch; batch = await follower.next(lastSeq)) await sink.apply(batch);
  } finally {
    await follower.close();
  }
}

/** A Redis dump with the prefix taken off every key, so two prefixes can be compared. */
export async function redisState(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const dump = await dumpRedis(redis, prefix);
  return Object.fromEntries(Object.entries(dump).map(([key, value]) => [key.slice(prefix.length), value]));
}

/** Polls until every sink has applied the journal's last seq. */
export async function waitForSinks(server: RunningServer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const target = server.journal.lastSeq;
    const health = server.writeBehind!.health();
    const sinks = Object.values(health.sinks);
    if (sinks.length > 0 && sinks.every((sink) => sink.appliedSeq === target)) return;
    if (Date.now() > deadline) throw new Error(`sinks did not reach seq ${target}: ${JSON.stringify(health)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Retries `call` until it resolves (a sink without an offline queue fails until connected). */
export async function whenConnected<T>(call: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A fresh database on the Postgres at `adminUrl` (its own per test file), with the migrations applied. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Every projected table, rows in key order (sink_progress left out: sink names differ). */
export async function pgState(url: string): Promise<Record<string, unknown[]>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return {
      markets: [...(await sql`select * from markets order by sym`)],
      accounts: [...(await sql`select * from accounts order by account`)],
      orders: [...(await sql`select * from orders order by market, order_id`)],
      trades: [...(await sql`select * from trades order by market, trade_id`)],
      balances: [...(await sql`select * from balances order by account, asset`)],
      ledger: [...(await sql`select * from ledger order by seq, event_index, leg`)],
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
