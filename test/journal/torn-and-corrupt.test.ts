// Recovery over damaged journals, through the real server: a torn tail (what a crash in the
// middle of a write leaves, never acknowledged: a record that runs past the end of the file) is cut
// off at the right offset and the server starts; damage anywhere else, a whole last record with a
// bad CRC included, is corruption, and the server refuses to start, naming the
// segment and the offset.
import { appendFileSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OrderView } from '../../protocol/messages.js';
import { createCommandCodec } from '../../server/journal/command-codec.js';
import { RECORD_HEADER_BYTES, readHeader } from '../../server/journal/record-format.js';
import { recover } from '../../server/journal/recovery.js';
import { DEFAULT_ENGINE_LIMITS } from '../../server/engine/types.js';
import { dataPaths } from '../../server/server.js';
import { connect, httpGet } from '../support/e2e.js';
import { JOURNAL_MARKETS, makeTempDir, silentLog, startOnDataDir, type InProcessServer } from './journal-support.js';
import { listSegments } from '../../server/journal/file-names.js';

const SYM = 'BTC-USD';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(root: string, segmentBytes?: number): Promise<InProcessServer> {
  const running = await startOnDataDir(root, segmentBytes === undefined ? {} : { segmentBytes });
  cleanups.push(() => running.server.close());
  return running;
}

/** Places `count` resting bids one at a time (one batch, so one journal record, each); returns their ids. */
async function placeEach(url: string, count: number, firstPx = 1_000): Promise<number[]> {
  const alice = await connect(url, 'token-alice');
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const ack = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: firstPx + i, qty: 1 + i });
    ids.push(ack.id!);
  }
  alice.client.close();
  return ids;
}

async function aliceOrders(url: string): Promise<OrderView[]> {
  const alice = await connect(url, 'token-alice');
  const reply = await alice.client.orders(SYM);
  alice.client.close();
  return reply.orders;
}

/** Offsets of every record in a segment file. */
function recordOffsets(path: string): number[] {
  const file = readFileSync(path);
  const offsets: number[] = [];
  for (let offset = 0; offset < file.length; offset += RECORD_HEADER_BYTES + readHeader(file, offset).bodyLength) offsets.push(offset);
  return offsets;
}

/** A data dir holding `count` acknowledged places, the server stopped; returns their ids. */
async function journalWithOrders(count: number, segmentBytes?: number): Promise<{ root: string; journalDir: string; ids: number[] }> {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  const first = await start(dir.path, segmentBytes);
  const ids = await placeEach(first.url, count);
  await first.server.close();
  return { root: dir.path, journalDir: dataPaths(join(dir.path, 'data')).journalDir, ids };
}

async function tornTailOf(root: string): Promise<{ segment: string; offset: number } | null> {
  const { journalDir, snapshotDir } = dataPaths(join(root, 'data'));
  const state = await recover({
    journalDir,
    snapshotDir,
    markets: JOURNAL_MARKETS,
    limits: DEFAULT_ENGINE_LIMITS,
    codec: createCommandCodec(),
    log: silentLog,
    truncateTornTail: false,
  });
  return state.tornTail ? { segment: state.tornTail.segment, offset: state.tornTail.offset } : null;
}

describe('a torn tail is cut off and the server starts', () => {
  it('partial header after the last record: cut at the end of the last whole record', async () => {
    const { root, journalDir, ids } = await journalWithOrders(5);
    const segment = listSegments(journalDir).at(-1)!;
    const path = join(journalDir, segment);
    const whole = statSync(path).size;
    appendFileSync(path, Buffer.from([7, 0, 0, 0, 1, 2, 3, 4, 5, 6]));

    expect(await tornTailOf(root)).toEqual({ segment, offset: whole });
    const second = await start(root);
    expect(statSync(path).size).toBe(whole);
    expect((await aliceOrders(second.url)).map((o) => o.id)).toEqual(ids);
    expect((await httpGet(`${second.httpUrl}/health`)).status).toBe(200);
  });

  it('partial last record: that record is dropped, order ids continue from the kept ones', async () => {
    const { root, journalDir, ids } = await journalWithOrders(6);
    const segment = listSegments(journalDir).at(-1)!;
    const path = join(journalDir, segment);
    const lastOffset = recordOffsets(path).at(-1)!;
    truncateSync(path, statSync(path).size - 3);

    expect(await tornTailOf(root)).toEqual({ segment, offset: lastOffset });
    const second = await start(root);
    expect(statSync(path).size).toBe(lastOffset);
    expect((await aliceOrders(second.url)).map((o) => o.id)).toEqual(ids.slice(0, -1));
    // The dropped place was never acknowledged, so its id is free again, and new records follow cleanly.
    const [next] = await placeEach(second.url, 1, 2_000);
    expect(next).toBe(ids.at(-1));
    await second.server.close();
    const third = await start(root);
    expect((await aliceOrders(third.url)).map((o) => o.id)).toEqual([...ids.slice(0, -1), next]);
  });
});

/** Starting must fail with `message`; a server that starts anyway is closed before failing the test. */
async function expectRefusal(root: string, message: string | RegExp): Promise<void> {
  const started = await startOnDataDir(root).then(
    (running) => running,
    (error: unknown) => error as Error,
  );
  if (!(started instanceof Error)) {
    await started.server.close();
    expect.fail('the server started on a corrupt journal');
  }
  if (typeof message === 'string') expect(started.message).toContain(message);
  else expect(started.message).toMatch(message);
}

describe('corruption refuses to start, naming segment and offset', () => {
  it('a bad CRC on the last record of the last segment (a whole record: it may have been acknowledged)', async () => {
    const { root, journalDir } = await journalWithOrders(4);
    const segment = listSegments(journalDir).at(-1)!;
    const path = join(journalDir, segment);
    const lastOffset = recordOffsets(path).at(-1)!;
    const file = readFileSync(path);
    file[file.length - 1]! ^= 0xff;
    writeFileSync(path, file);

    await expectRefusal(root, `journal corrupt in segment ${segment} at offset ${lastOffset}: CRC-32C mismatch`);
    // The bytes stay for a human to look at: nothing was cut.
    expect(readFileSync(path).equals(file)).toBe(true);
  });

  it('a bad record in the middle of the last segment', async () => {
    const { root, journalDir } = await journalWithOrders(6);
    const segment = listSegments(journalDir).at(-1)!;
    const path = join(journalDir, segment);
    const victim = recordOffsets(path)[2]!;
    const file = readFileSync(path);
    file[victim + RECORD_HEADER_BYTES + 1]! ^= 0x01;
    writeFileSync(path, file);

    await expectRefusal(root, `journal corrupt in segment ${segment} at offset ${victim}: CRC-32C mismatch`);
    // Refusing must not repair anything: the evidence stays as it was.
    expect(readFileSync(path).equals(file)).toBe(true);
  });

  it('a damaged length field in the middle of the last segment (it looks like a torn record, but whole records follow)', async () => {
    const { root, journalDir } = await journalWithOrders(6);
    const segment = listSegments(journalDir).at(-1)!;
    const path = join(journalDir, segment);
    const victim = recordOffsets(path)[3]!;
    const file = readFileSync(path);
    file.writeUInt32LE(file.readUInt32LE(victim) + 0x0010_0000, victim);
    writeFileSync(path, file);

    await expectRefusal(root, `journal corrupt in segment ${segment} at offset ${victim}: record runs past the end`);
    expect(readFileSync(path).equals(file)).toBe(true);
  });

  it('a bad last record of a segment that is not the last one', async () => {
    const { root, journalDir } = await journalWithOrders(12, 300);
    const segments = listSegments(journalDir);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    const segment = segments[0]!;
    const path = join(journalDir, segment);
    const lastOffset = recordOffsets(path).at(-1)!;
    const file = readFileSync(path);
    file[file.length - 1]! ^= 0xff;
    writeFileSync(path, file);

    await expectRefusal(root, `journal corrupt in segment ${segment} at offset ${lastOffset}: CRC-32C mismatch`);
  });

  it('a segment that is not the last one ends in a partial record', async () => {
    const { root, journalDir } = await journalWithOrders(12, 300);
    const segment = listSegments(journalDir)[1]!;
    const path = join(journalDir, segment);
    const lastOffset = recordOffsets(path).at(-1)!;
    truncateSync(path, statSync(path).size - 5);

    await expectRefusal(root, `journal corrupt in segment ${segment} at offset ${lastOffset}: record runs past the end of the segment`);
  });

  it('a missing middle segment (a sequence gap)', async () => {
    const { root, journalDir } = await journalWithOrders(12, 300);
    const segments = listSegments(journalDir);
    unlinkSync(join(journalDir, segments[1]!));

    await expectRefusal(
      root,
      new RegExp(`journal corrupt in segment ${segments[2]!.replace('.', '\\.')} at offset 0: sequence \\d+ where \\d+ was expected`),
    );
  });
});
