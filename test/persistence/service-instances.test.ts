// The private Redis and Postgres instances that outage tests break on purpose: each must answer,
// refuse connections when killed, come back on the same port, hang (not fail) when paused so
// that only a deadline notices, and leave no process or temp dir behind.
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { DeadlineExceeded, withDeadline } from '../../server/persistence/resilience/deadline.js';
import { startPostgres } from '../support/postgres-instance.js';
import { startRedis } from '../support/redis-instance.js';
import { launchOnFreePort, type ServiceInstance } from '../support/service-process.js';

/** A deadline short enough to keep the test quick, long enough for a loaded 2-core machine to answer. */
const HUNG_DEADLINE_MS = 1_500;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function expectStoppedAndCleaned(instance: ServiceInstance, pid: number): Promise<void> {
  await instance.stop();
  expect(processExists(pid)).toBe(false);
  expect(existsSync(instance.dir)).toBe(false);
  await instance.stop();
}

describe('startRedis', () => {
  let redis: ServiceInstance;
  let client: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    // Fail commands fast while disconnected instead of queueing them forever; reconnect quickly.
    client = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => 100, lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
  });

  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('answers PING on its own port, not the shared 6379', async () => {
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await client.ping()).toBe('PONG');
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
  });

  it('kill → the open connection fails and new connections are refused', async () => {
    const pid = redis.pid;
    await redis.kill();
    expect(processExists(pid)).toBe(false);
    await expect(client.ping()).rejects.toThrow();
    const fresh = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const errors: Error[] = [];
    fresh.on('error', (error: Error) => errors.push(error));
    await expect(fresh.connect()).rejects.toThrow();
    expect(errors.map((e) => e.message).join()).toMatch(/ECONNREFUSED/);
    fresh.disconnect();
  });

  it('restart → answers again on the same port, empty (no persistence)', async () => {
    const port = redis.port;
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(await eventually('ping after restart', () => client.ping())).toBe('PONG');
    expect(await client.get('k')).toBeNull();
  });

  it('pause → a command hangs until the deadline; resume → it is answered', async () => {
    redis.pause();
    const hung = client.ping();
    const error = await withDeadline(() => hung, HUNG_DEADLINE_MS, systemClock).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceeded);
    redis.resume();
    expect(await hung).toBe('PONG');
    expect(await client.ping()).toBe('PONG');
  });

  it('restart while running and while paused both work', async () => {
    const before = redis.pid;
    await redis.restart();
    expect(redis.pid).not.toBe(before);
    redis.pause();
    await redis.restart();
    expect(await eventually('ping after paused restart', () => client.ping())).toBe('PONG');
  });

  it('stop → no process, no temp dir; stopping twice is harmless; a stopped instance refuses use', async () => {
    const instance = await startRedis();
    const pid = instance.pid;
    instance.pause();
    await expectStoppedAndCleaned(instance, pid);
    expect(() => instance.pause()).toThrow('stopped');
  });
});

describe('startPostgres', () => {
  let pg: ServiceInstance;
  let sql: postgres.Sql;

  beforeAll(async () => {
    pg = await startPostgres();
    sql = postgres(pg.url, { max: 1, connect_timeout: 5, idle_timeout: 0, onnotice: () => {} });
  });

  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await pg?.stop();
  });

  it('answers select 1 in database `test` on its own port, as user postgres', async () => {
    expect(pg.port).not.toBe(5432);
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/test`);
    const [row] = await sql<{ one: number; db: string; who: string }[]>`select 1 as one, current_database() as db, current_user as who`;
    expect(row).toEqual({ one: 1, db: 'test', who: 'postgres' });
    await sql`create table kept (n int primary key)`;
    await sql`insert into kept values (42)`;
  });

  it('kill → the open connection fails and new connections are refused', async () => {
    const pid = pg.pid;
    await pg.kill();
    expect(processExists(pid)).toBe(false);
    await expect(sql`select 1`).rejects.toThrow();
    const fresh = postgres(pg.url, { max: 1, connect_timeout: 5, onnotice: () => {} });
    await expect(fresh`select 1`).rejects.toThrow(/ECONNREFUSED/);
    await fresh.end({ timeout: 0 });
  });

  it('restart → answers again on the same port and kept committed rows', async () => {
    const port = pg.port;
    await pg.restart();
    expect(pg.port).toBe(port);
    const rows = await eventually('select after restart', () => sql<{ n: number }[]>`select n from kept`);
    expect(rows.map((r) => r.n)).toEqual([42]);
  });

  it('pause → a query hangs until the deadline; resume → it is answered', async () => {
    pg.pause();
    const hung = sql<{ one: number }[]>`select 1 as one`.execute();
    const error = await withDeadline(() => hung, HUNG_DEADLINE_MS, systemClock).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceeded);
    const freshWhilePaused = postgres(pg.url, { max: 1, connect_timeout: 30, onnotice: () => {} });
    const connectError = await withDeadline(() => freshWhilePaused`select 1`.execute(), HUNG_DEADLINE_MS, systemClock).catch(
      (e: unknown) => e,
    );
    expect(connectError).toBeInstanceOf(DeadlineExceeded);
    pg.resume();
    expect((await hung)[0]?.one).toBe(1);
    expect((await freshWhilePaused<{ one: number }[]>`select 1 as one`)[0]?.one).toBe(1);
    await freshWhilePaused.end({ timeout: 1 });
  });

  it('stop → no process, no temp dir, even when stopped while paused', async () => {
    const instance = await startPostgres();
    const pid = instance.pid;
    instance.pause();
    await expectStoppedAndCleaned(instance, pid);
  });
});

describe('launchOnFreePort', () => {
  it('tries another port when the chosen one was taken meanwhile, and gives up on other errors', async () => {
    const tried: number[] = [];
    const port = await launchOnFreePort(async (candidate) => {
      tried.push(candidate);
      if (tried.length < 3) throw new Error('bind: Address already in use');
    });
    expect(tried).toHaveLength(3);
    expect(port).toBe(tried[2]);
    for (const p of tried) expect(p).toBeGreaterThan(0);
    let calls = 0;
    const failing = launchOnFreePort(async () => {
      calls += 1;
      throw new Error('permission denied');
    });
    await expect(failing).rejects.toThrow('permission denied');
    expect(calls).toBe(1);
    await expect(launchOnFreePort(async () => Promise.reject(new Error('Address already in use')), 2)).rejects.toThrow('in use');
  });
});
