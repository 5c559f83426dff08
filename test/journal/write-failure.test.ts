// A disk that fills up or turns read-only under a running server: the batch in flight is not
// acknowledged (its acks become `internal` rejects and nothing else of it leaves), order entry
// halts, /health turns unhealthy (still reporting the last durable seq), and a restart on the
// same data dir shows only what was acked.
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../protocol/messages.js';
import { barrier, connect, httpGet, type Recorded } from '../support/e2e.js';
import { TEST_FUNDING_DEPOSITS } from '../support/test-server.js';
import { FailingFileSystem, makeTempDir, startOnDataDir } from './journal-support.js';

const SYM = 'BTC-USD';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function expectInternalReject(reply: Reply | undefined, op: string): void {
  expect(reply).toMatchObject({ type: 'reject', op, code: 'internal' });
}

describe.each(['write', 'datasync'] as const)('the journal %s fails', (mode) => {
  it('withholds the in-flight batch, halts order entry, turns /health unhealthy, and a restart shows only acked state', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const disk = new FailingFileSystem(mode);
    const first = await startOnDataDir(dir.path, {}, { journalFileSystem: disk });
    let firstClosed = false;
    cleanups.push(() => (firstClosed ? undefined : first.server.close()));

    const alice = await connect(first.url, 'token-alice');
    const bob = await connect(first.url, 'token-bob');
    const watcher = await connect(first.url);
    await watcher.client.subscribeBook(SYM, { depth: 10 });
    cleanups.push(() => [alice, bob, watcher].forEach((c: Recorded) => c.client.close()));

    const acked: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ack = await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 1_000 + i, qty: 5 });
      acked.push(ack.id!);
    }
    const healthy = await httpGet(`${first.httpUrl}/health`);
    expect(healthy.status).toBe(200);
    expect(JSON.parse(healthy.body)).toMatchObject({ journalSeq: TEST_FUNDING_DEPOSITS + acked.length });
    await barrier(alice, bob, watcher);
    const execsBefore = { alice: alice.execs.length, bob: bob.execs.length };
    const booksBefore = watcher.books.length;

    disk.arm();
    // One batch: bob's buy would trade with alice's best ask, alice cancels another order.
    const [takeReply, cancelReply] = await Promise.all([
      bob.client.request({ op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 1_000, qty: 2 }),
      alice.client.request({ op: 'cancel', sym: SYM, id: acked[2]! }),
    ]);
    expectInternalReject(takeReply, 'place');
    expectInternalReject(cancelReply, 'cancel');
    expect(disk.failures).toBe(1);

    // Later orders are refused before they reach the engine.
    const later = await alice.client.request({ op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 1_100, qty: 1 });
    expectInternalReject(later, 'place');
    expect(later).toMatchObject({ msg: expect.stringMatching(/halted/) as unknown });
    expectInternalReject(await alice.client.request({ op: 'amend', sym: SYM, id: acked[0]!, qty: 1 }), 'amend');
    expectInternalReject(await alice.client.request({ op: 'cancel_all', sym: SYM }), 'cancel_all');
    // The engine may still hold the failed batch: its state is not shown, as it would vanish at restart.
    expectInternalReject(await alice.client.request({ op: 'orders', sym: SYM }), 'orders');
    expectInternalReject(await watcher.client.request({ op: 'sub', ch: 'book', sym: SYM, depth: 10 }), 'sub');
    expectInternalReject(await watcher.client.request({ op: 'sub', ch: 'candles', sym: SYM, interval: '1m' }), 'sub');
    expectInternalReject(await watcher.client.request({ op: 'sub', ch: 'ticker', sym: SYM }), 'sub');
    expectInternalReject(await watcher.client.request({ op: 'sub', ch: 'trades', sym: SYM, recent: 10 }), 'sub');

    const health = await httpGet(`${first.httpUrl}/health`);
    expect(health.status).not.toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({
      status: 'unavailable',
      journal: expect.stringMatching(/journal write failed/) as unknown,
    });
    // The last durable seq, not one counting the batch that failed (what a restart recovers).
    expect(JSON.parse(health.body)).toMatchObject({ journalSeq: TEST_FUNDING_DEPOSITS + acked.length });

    // Nothing of the failed batch left the server: no exec (fill, cancel) and no book delta.
    await barrier(alice, bob, watcher);
    expect(alice.execs.length).toBe(execsBefore.alice);
    expect(bob.execs.length).toBe(execsBefore.bob);
    expect(watcher.books.length).toBe(booksBefore);

    await first.server.close();
    firstClosed = true;

    const second = await startOnDataDir(dir.path);
    cleanups.push(() => second.server.close());
    const aliceAgain = await connect(second.url, 'token-alice');
    const bobAgain = await connect(second.url, 'token-bob');
    cleanups.push(() => [aliceAgain, bobAgain].forEach((c) => c.client.close()));
    // Exactly the acked orders, untouched: the rejected cancel did not happen, the rejected buy did not trade.
    const orders = (await aliceAgain.client.orders(SYM)).orders;
    expect(orders.map((o) => [o.id, o.filled, o.leaves])).toEqual(acked.map((id) => [id, 0, 5]));
    expect((await bobAgain.client.orders(SYM)).orders).toEqual([]);
    // The unacked place's id was never handed out for good: the next place gets it.
    const next = await bobAgain.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 900, qty: 1 });
    expect(next.id).toBe(acked.at(-1)! + 1);
    expect((await httpGet(`${second.httpUrl}/health`)).status).toBe(200);
  });
});
