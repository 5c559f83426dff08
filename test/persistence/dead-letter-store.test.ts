import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MatchingEngine } from '../../server/engine/engine.js';
import {
  deadLetterId,
  DeadLetterStore,
  DeadLetterStoreFull,
  type DeadLetterStoreOptions,
} from '../../server/persistence/dead-letters/dead-letter-store.js';
import type { EventBatch, PersistedCommand } from '../../server/persistence/event-batch.js';
import { fundAll, MARKETS, place } from '../support/engine-fixtures.js';
import { FakeClock } from '../support/fake-clock.js';

/** A batch as the write-behind builds it: real engine commands and events, seqs from `fromSeq`. */
function realBatch(fromSeq: number, size = 3): EventBatch {
  const engine = new MatchingEngine(MARKETS);
  fundAll(engine, ['alice', 'bob']);
  const commands: PersistedCommand[] = [];
  for (let i = 0; i < size; i += 1) {
    const command = place(i % 2 === 0 ? 'alice' : 'bob', i % 2 === 0 ? 'sell' : 'buy', 100_00 + i, 5 + i);
    const result = engine.execute(command);
    if (!result.ok) throw new Error(`fixture command rejected: ${result.code}`);
    commands.push({ seq: fromSeq + i, command, id: result.id ?? null, events: result.events });
  }
  return {
    fromSeq,
    toSeq: fromSeq + size - 1,
    commands,
    books: [{ sym: 'BTC-USD', seq: 7, bids: engine.levels('BTC-USD', 'buy', 10), asks: engine.levels('BTC-USD', 'sell', 10) }],
  };
}

describe('DeadLetterStore', () => {
  let dataDir: string;
  let clock: FakeClock;

  const open = (overrides: Partial<DeadLetterStoreOptions> = {}): DeadLetterStore =>
    new DeadLetterStore({ dataDir, maxPerSink: 100, clock, ...overrides });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'spotwire-dlq-'));
    clock = new FakeClock(1_700_000_000_000);
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('round-trips a batch with its error and time, one file per batch, no temp file left', async () => {
    const store = open();
    const batch = realBatch(41);
    expect(batch.commands.some((c) => c.events.some((e) => e.kind === 'trade'))).toBe(true);
    await store.add('pg', batch, new Error('new row violates check constraint "qty_positive"'));
    const id = deadLetterId('pg', batch);
    expect(id).toBe('pg/0000000000000041-0000000000000043');
    expect(readdirSync(join(dataDir, 'dead-letter', 'pg'))).toEqual(['0000000000000041-0000000000000043.dlq']);
    const letter = await store.read(id);
    expect(letter).toEqual({
      id,
      sink: 'pg',
      fromSeq: 41,
      toSeq: 43,
      batch,
      error: 'Error: new row violates check constraint "qty_positive"',
      at: 1_700_000_000_000,
    });
  });

  it('lists by sink in seq order, counts per sink, and survives a new store on the same dir', async () => {
    const store = open();
    await store.add('redis', realBatch(200), 'WRONGTYPE');
    await store.add('pg', realBatch(30), new TypeError('bad'));
    await store.add('pg', realBatch(5), new Error('x'));
    const reopened = open();
    expect((await reopened.list()).map((l) => l.id)).toEqual([
      'pg/0000000000000005-0000000000000007',
      'pg/0000000000000030-0000000000000032',
      'redis/0000000000000200-0000000000000202',
    ]);
    expect(await reopened.list('redis')).toEqual([
      { id: 'redis/0000000000000200-0000000000000202', sink: 'redis', fromSeq: 200, toSeq: 202 },
    ]);
    expect(await reopened.list('nobody')).toEqual([]);
    expect(await reopened.count('pg')).toBe(2);
    expect(await reopened.count('redis')).toBe(1);
    expect(await reopened.count('nobody')).toBe(0);
    expect((await reopened.read('redis/0000000000000200-0000000000000202'))?.error).toBe('WRONGTYPE');
    expect((await reopened.read('pg/0000000000000030-0000000000000032'))?.error).toBe('TypeError: bad');
  });

  it('adding the same batch again replaces it instead of duplicating it', async () => {
    const store = open();
    await store.add('pg', realBatch(10), new Error('first'));
    await clock.advance(5_000);
    await store.add('pg', realBatch(10), new Error('second'));
    expect(await store.count('pg')).toBe(1);
    const letter = await store.read(deadLetterId('pg', realBatch(10)));
    expect(letter?.error).toBe('Error: second');
    expect(letter?.at).toBe(1_700_000_005_000);
  });

  it('remove deletes the file; reading or removing it again finds nothing', async () => {
    const store = open();
    await store.add('pg', realBatch(1), new Error('bad'));
    const id = deadLetterId('pg', { fromSeq: 1, toSeq: 3 });
    expect(await store.remove(id)).toBe(true);
    expect(await store.read(id)).toBeNull();
    expect(await store.remove(id)).toBe(false);
    expect(await store.count('pg')).toBe(0);
  });

  it('refuses beyond maxPerSink with DeadLetterStoreFull and writes nothing; other sinks are unaffected', async () => {
    const store = open({ maxPerSink: 3 });
    for (const from of [1, 4, 7]) await store.add('pg', realBatch(from), new Error('bad'));
    const error = await store.add('pg', realBatch(10), new Error('bad')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadLetterStoreFull);
    expect(error).toMatchObject({ code: 'dead_letter_store_full', sink: 'pg', max: 3 });
    expect(await store.count('pg')).toBe(3);
    expect(readdirSync(join(dataDir, 'dead-letter', 'pg'))).toHaveLength(3);
    // Re-adding a batch already stored takes no new room.
    await store.add('pg', realBatch(4), new Error('again'));
    expect((await store.read('pg/0000000000000004-0000000000000006'))?.error).toBe('Error: again');
    await store.add('redis', realBatch(10), new Error('bad'));
    expect(await store.count('redis')).toBe(1);
    await store.remove('pg/0000000000000001-0000000000000003');
    await store.add('pg', realBatch(10), new Error('bad'));
    expect((await store.list('pg')).map((l) => l.fromSeq)).toEqual([4, 7, 10]);
  });

  it('holds the bound under concurrent adds', async () => {
    const store = open({ maxPerSink: 3 });
    const outcomes = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6].map((i) => store.add('pg', realBatch(i * 10 + 1), new Error('bad'))));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused).toHaveLength(4);
    for (const o of refused) expect(o.reason).toBeInstanceOf(DeadLetterStoreFull);
    expect(await store.count('pg')).toBe(3);
  });

  it('drops a temp file a crash left behind and does not count it', async () => {
    const store = open({ maxPerSink: 1 });
    await store.add('pg', realBatch(1), new Error('bad'));
    const dir = join(dataDir, 'dead-letter', 'pg');
    writeFileSync(join(dir, '0000000000000009-0000000000000009.dlq.tmp'), 'half written');
    expect(await store.count('pg')).toBe(1);
    expect(await store.list('pg')).toHaveLength(1);
    await open({ maxPerSink: 2 }).add('pg', realBatch(20), new Error('bad'));
    expect(existsSync(join(dir, '0000000000000009-0000000000000009.dlq.tmp'))).toBe(false);
  });

  it('reports a damaged file instead of returning bad data', async () => {
    const store = open();
    await store.add('pg', realBatch(1), new Error('bad'));
    const id = deadLetterId('pg', { fromSeq: 1, toSeq: 3 });
    const path = join(dataDir, 'dead-letter', 'pg', '0000000000000001-0000000000000003.dlq');
    const bytes = readFileSync(path);
    const last = bytes.length - 1;
    bytes.writeUInt8(bytes.readUInt8(last) ^ 0xff, last);
    writeFileSync(path, bytes);
    await expect(store.read(id)).rejects.toThrow('CRC-32C mismatch');
    writeFileSync(path, 'not a dead letter');
    await expect(store.read(id)).rejects.toThrow('not a dead-letter file');
  });

  it('rejects bad sink names, ids and seq ranges with clear errors (no path escapes)', async () => {
    const store = open();
    await expect(store.add('../etc', realBatch(1), 'x')).rejects.toThrow(TypeError);
    await expect(store.add('', realBatch(1), 'x')).rejects.toThrow('bad sink name');
    await expect(store.list('a/b')).rejects.toThrow(TypeError);
    await expect(store.count('..')).rejects.toThrow(TypeError);
    await expect(store.read('pg/../../x')).rejects.toThrow('not a dead-letter id');
    await expect(store.remove('pg/1-2')).rejects.toThrow('not a dead-letter id');
    await expect(store.add('pg', { ...realBatch(5), toSeq: 4 }, 'x')).rejects.toThrow(RangeError);
    await expect(store.add('pg', { ...realBatch(5), fromSeq: -1 }, 'x')).rejects.toThrow(RangeError);
    expect(() => open({ maxPerSink: 0 })).toThrow(RangeError);
    expect(existsSync(join(dataDir, 'dead-letter'))).toBe(false);
  });
});
