// The dlq command (what `npm run dlq` runs) on a real dead-letter store: list, show, drop, redrive
// to the real Redis, and clear errors with exit codes for bad usage. Outage tests redrive too.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrderField, redisKeys } from '../../db/redis-keys.js';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { runDlqCommand } from '../../server/persistence/dead-letters/dead-letter-commands.js';
import { DeadLetterStore } from '../../server/persistence/dead-letters/dead-letter-store.js';
import type { EventBatch } from '../../server/persistence/event-batch.js';
import { RedisSink } from '../../server/persistence/redis/redis-sink.js';
import { MARKETS, place } from '../support/engine-fixtures.js';
import { deleteUnder } from './redis-dump.js';
import { FUNDING_RECORD_COMMANDS, JournalFixture } from './write-behind-fixture.js';
import { whenConnected } from './write-behind-oracle.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test:write-behind-dlq:${process.pid}-${Date.now()}:`;

async function dlq(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDlqCommand(argv, {}, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

describe('dlq command', () => {
  // A server's data dir: the journal and markets.json a redrive replays, and the dead letters.
  const fixture = new JournalFixture();
  const dataDir = fixture.dir;
  const redis = new Redis(REDIS_URL);
  const store = new DeadLetterStore({ dataDir, maxPerSink: 10, clock: systemClock, fsync: false });
  let batches: EventBatch[] = [];
  let ids: string[] = [];

  beforeAll(async () => {
    writeFileSync(join(dataDir, 'markets.json'), JSON.stringify(MARKETS));
    await fixture.commit([place('alice', 'sell', 100, 5, { cid: 'x' })]);
    await fixture.commit([place('bob', 'buy', 90, 2)]);
    // After the fixture's funding record: the two placing batches.
    batches = (await fixture.batches(0, 1)).slice(1);
    await store.add('redis', batches[0]!, new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
    await store.add('redis', batches[1]!, new Error('boom'));
    ids = (await store.list('redis')).map((letter) => letter.id);
  });

  afterAll(async () => {
    await deleteUnder(redis, PREFIX);
    redis.disconnect();
    await fixture.close();
  });

  it('lists and shows dead letters', async () => {
    const list = await dlq('list', '--data-dir', dataDir);
    expect(list.code).toBe(0);
    expect(list.out[0]).toContain(ids[0]);
    expect(list.out[0]).toContain('WRONGTYPE');
    expect(list.out.at(-1)).toBe('2 dead-lettered batch(es)');
    const show = await dlq('show', ids[0]!, '--data-dir', dataDir);
    expect(show.code).toBe(0);
    const shown = JSON.parse(show.out.join('\n')) as { sink: string; batch: EventBatch; error: string };
    expect(shown.sink).toBe('redis');
    expect(shown.batch).toEqual(batches[0]);
  });

  it('redrives a dead letter to its sink and removes it; drops another', async () => {
    // The runner's path for a dead letter: its seq is marked applied, the pipeline goes on.
    const sink = new RedisSink({ url: REDIS_URL, prefix: PREFIX });
    await whenConnected(() => sink.appliedSeq());
    await sink.markApplied(batches[0]!.toSeq);
    const redrive = await dlq('redrive', ids[0]!, '--data-dir', dataDir, '--redis-url', REDIS_URL, '--redis-prefix', PREFIX);
    expect(redrive.err).toEqual([]);
    expect(redrive.code).toBe(0);
    const open = await redis.hgetall(redisKeys(PREFIX).openOrders('alice'));
    expect(Object.keys(open)).toEqual([openOrderField('BTC-USD', 1)]);
    // Redrive leaves the applied seq alone: the pipeline owns it.
    expect(await redis.get(redisKeys(PREFIX).appliedSeq)).toBe(String(batches[0]!.toSeq));
    // The pipeline's next batches still reach the stream after the redriven entries.
    await sink.apply(batches[1]!);
    await sink.close();
    const stream = await redis.xrange(redisKeys(PREFIX).events, '-', '+');
    expect(stream.map(([, fields]) => (JSON.parse(fields[1]!) as { seq: number }).seq)).toEqual([
      FUNDING_RECORD_COMMANDS + 1,
      FUNDING_RECORD_COMMANDS + 2,
    ]);
    expect(stream.at(-1)![0]).toBe(`${batches[1]!.fromSeq}-0`);
    const drop = await dlq('drop', ids[1]!, '--data-dir', dataDir);
    expect(drop.code).toBe(0);
    expect((await dlq('list', '--data-dir', dataDir)).out).toEqual(['0 dead-lettered batch(es)']);
  });

  it('answers bad usage with a message and a non-zero exit code, never a crash', async () => {
    expect((await dlq()).code).toBe(2);
    expect((await dlq('show')).code).toBe(2);
    expect((await dlq('frobnicate', 'x')).err[0]).toContain('usage:');
    expect((await dlq('list', '--bogus')).code).toBe(2);
    const missing = await dlq('show', 'redis/0000000000000001-0000000000000009', '--data-dir', dataDir);
    expect(missing).toMatchObject({ code: 1, err: ['no dead letter redis/0000000000000001-0000000000000009'] });
    const malformed = await dlq('drop', '../../etc/passwd', '--data-dir', dataDir);
    expect(malformed.code).toBe(1);
    expect(malformed.err[0]).toContain('not a dead-letter id');
    await store.add('postgres', batches[1]!, new Error('23505'));
    const noUrl = await dlq('redrive', (await store.list('postgres'))[0]!.id, '--data-dir', dataDir);
    expect(noUrl).toMatchObject({ code: 1, err: ['dlq redrive failed: redriving to postgres needs --database-url (or DATABASE_URL)'] });
  });
});
