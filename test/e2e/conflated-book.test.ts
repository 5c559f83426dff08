// Book subscriptions with an `interval` (merged deltas spanning several seqs) and the
// snapshot-and-resume path of a subscriber whose socket backs up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCodec } from '../../protocol/codec.js';
import { LocalBook } from '../../protocol/local-book.js';
import type { BookMessage } from '../../protocol/messages.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { connect, httpGet, metricValue, RawBookChecker, SYM, SYM2, type Recorded, waitUntil } from '../support/e2e.js';

let server: TestServer;
let alice: Recorded;

beforeAll(async () => {
  server = await startTestServer();
  alice = await connect(server.url, 'token-alice');
});

afterAll(async () => {
  alice.client.close();
  await server.stop();
});

function engineTop(sym: string, depth: number, on: TestServer = server): { bids: unknown; asks: unknown } {
  return { bids: on.server.engine.levels(sym, 'buy', depth), asks: on.server.engine.levels(sym, 'sell', depth) };
}

/** The market's book seq now: the seq of a fresh subscriber's snapshot. */
async function currentSeq(sym: string, on: TestServer = server): Promise<number> {
  const socket = await RawSocket.open(on.url);
  await socket.request({ op: 'sub', ch: 'book', sym, depth: 1 }, 'seq');
  await socket.waitFor((messages) => messages.some((m) => m.type === 'book'));
  const seq = socket.messages.find((m) => m.type === 'book')!.seq as number;
  await socket.close();
  return seq;
}

async function subscribed(options: Record<string, unknown>, sym = SYM): Promise<{ socket: RawSocket; checker: RawBookChecker }> {
  const socket = await RawSocket.open(server.url);
  const checker = new RawBookChecker(socket, sym);
  const reply = await socket.request({ op: 'sub', ch: 'book', sym, ...options }, `sub-${sym}`);
  expect(reply).toMatchObject({ type: 'subbed', ch: 'book', sym });
  return { socket, checker };
}

describe('sub book with an interval', () => {
  it('merges a burst of batches into few deltas whose seq ranges chain and whose cs match', async () => {
    const perBatch = await subscribed({ depth: 10 });
    const merged = await subscribed({ depth: 10, interval: 100 });
    const started = Date.now();
    for (let i = 0; i < 60; i++) {
      await alice.client.place({
        sym: SYM,
        side: i % 2 === 0 ? 'buy' : 'sell',
        kind: 'limit',
        px: i % 2 === 0 ? 9_000 - i : 11_000 + i,
        qty: 1 + i,
      });
    }
    const elapsed = Date.now() - started;
    const lastSeq = await currentSeq(SYM);
    for (const { socket } of [perBatch, merged]) {
      await socket.waitFor((messages) => messages.some((m) => m.type === 'book' && m.seq === lastSeq));
    }
    perBatch.checker.drain();
    merged.checker.drain();
    expect(perBatch.checker.failures).toEqual([]);
    expect(merged.checker.failures).toEqual([]);
    expect(perBatch.checker.deltas).toBe(60);
    // One merged delta per 100 ms at most, plus the one that flushes the tail.
    expect(merged.checker.deltas).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    expect(merged.checker.deltas).toBeLessThan(perBatch.checker.deltas);
    const mergedDeltas = merged.socket.messages.filter((m) => m.type === 'book' && m.snapshot !== true);
    expect(mergedDeltas.some((m) => (m.seq as number) - (m.seqFrom as number) >= 1)).toBe(true);
    expect(perBatch.socket.messages.some((m) => 'seqFrom' in m)).toBe(false);
    const top = engineTop(SYM, 10);
    expect({ bids: merged.checker.book.bids(), asks: merged.checker.book.asks() }).toEqual(top);
    expect({ bids: perBatch.checker.book.bids(), asks: perBatch.checker.book.asks() }).toEqual(top);
    await Promise.all([perBatch.socket.close(), merged.socket.close()]);
    await alice.client.cancelAll();
  });

  it('publishes the last changes without a later batch, and a late joiner of the same view stays in sync', async () => {
    const early = await subscribed({ depth: 5, interval: 250 });
    await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_500, qty: 7 });
    const late = await subscribed({ depth: 5, interval: 250 });
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_500, qty: 8 });
    const lastSeq = await currentSeq(SYM);
    for (const { socket } of [early, late]) {
      await socket.waitFor((messages) => messages.some((m) => m.type === 'book' && m.seq === lastSeq), 3_000);
    }
    for (const { checker } of [early, late]) {
      checker.drain();
      expect(checker.failures).toEqual([]);
      expect({ bids: checker.book.bids(), asks: checker.book.asks() }).toEqual(engineTop(SYM, 5));
    }
    await Promise.all([early.socket.close(), late.socket.close()]);
    await alice.client.cancelAll();
  });

  it('refuses an interval it does not offer, and the typed client keeps a merged book', async () => {
    const socket = await RawSocket.open(server.url);
    for (const interval of [50, -1, 'fast', 100.5]) {
      const reply = await socket.request({ op: 'sub', ch: 'book', sym: SYM, interval }, `bad-${String(interval)}`);
      expect(reply).toMatchObject({ type: 'reject', code: 'bad_request' });
      expect(String(reply.msg)).toContain('interval must be one of 0, 100, 250, 500, 1000');
    }
    await socket.close();

    const watcher = await connect(server.url);
    const book = await watcher.client.subscribeBook(SYM2, { depth: 10, interval: 100 });
    for (let i = 0; i < 20; i++) await alice.client.place({ sym: SYM2, side: 'buy', kind: 'limit', px: 1_000 + i, qty: 1 });
    const seq2 = await currentSeq(SYM2);
    await waitUntil(() => book.seq === seq2, 'the merged book to catch up');
    expect({ bids: book.bids(), asks: book.asks() }).toEqual(engineTop(SYM2, 10));
    watcher.client.close();
    await alice.client.cancelAll();
  });
});

describe('a book subscriber whose socket backs up', () => {
  // A roomy limit: the kernel's socket buffers take several MB first, and the queue must not jump
  // from a quarter of the limit past half of it between two 250 ms checks.
  let roomy: TestServer;
  beforeAll(async () => {
    roomy = await startTestServer({ maxBackpressureBytes: 8 * 1024 * 1024 });
  });
  afterAll(() => roomy.stop());

  it('is moved to a fresh snapshot instead of being cut off, and its book is right afterwards', { timeout: 120_000 }, async () => {
    const server = roomy;
    const codec = createCodec();
    const ws = new WebSocket(server.url);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const received: BookMessage[] = [];
    let closed: number | null = null;
    ws.on('message', (data: Buffer) => {
      const decoded = codec.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      for (const m of Array.isArray(decoded) ? decoded : [decoded]) if ((m as BookMessage).type === 'book') received.push(m as BookMessage);
    });
    ws.on('close', (code) => {
      closed = code;
    });
    ws.send(codec.encode({ op: 'sub', ch: 'book', sym: SYM, depth: 1000 }));
    await waitUntil(() => received.length === 1, 'the first snapshot');
    // Stop reading: the server's queue for this socket grows with every delta.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const producer = await RawSocket.open(server.url);
    await producer.request({ op: 'login', token: 'token-bob' }, 'login');
    const resyncs = async (): Promise<number> =>
      metricValue((await httpGet(`${server.httpUrl}/metrics`)).body, 'spotwire_book_resyncs_total');
    let round = 0;
    while ((await resyncs()) === 0) {
      if (++round > 2_000) throw new Error('no resync after 2000 rounds');
      // Four rounds in flight: each is 500 new levels and their removal, in four batches.
      for (let k = 0; k < 4; k++) {
        const places = Array.from({ length: 1000 }, (_, i) => ({
          op: 'place',
          sym: SYM,
          side: 'sell',
          kind: 'limit',
          px: 20_000 + i * 3 + (k % 3),
          qty: 1 + (round % 5),
          rid: `r${round}-${k}-${i}`,
        }));
        producer.send(places.slice(0, 500));
        producer.send(places.slice(500));
        producer.send({ op: 'cancel_all', rid: `c${round}-${k}` });
      }
      await producer.waitFor((messages) => messages.some((m) => m.rid === `c${round}-3`));
      producer.messages.length = 0;
    }
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await producer.request({ op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 30_000, qty: 3 }, 'last');
    const lastSeq = await currentSeq(SYM, server);
    await waitUntil(() => received.some((m) => m.seq === lastSeq), 'the resumed subscriber to reach the last seq', 30_000);

    expect(closed).toBeNull();
    const snapshots = received.filter((m) => m.snapshot === true);
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    const book = new LocalBook(SYM);
    const resumedAt = received.lastIndexOf(snapshots.at(-1)!);
    for (const message of received.slice(resumedAt)) expect(book.apply(message)).toEqual({ ok: true });
    expect({ bids: book.bids(), asks: book.asks() }).toEqual(engineTop(SYM, 1000, server));
    ws.close();
    await producer.request({ op: 'cancel_all' }, 'done');
    await producer.close();
  });
});
