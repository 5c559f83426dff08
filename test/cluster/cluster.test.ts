// A core and edge gateways over the real Redis: clients on different gateways trade with each
// other, every gateway's replica equals the core's engine, and a gateway whose core is gone answers
// order entry `unavailable` within its deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { RawSocket } from '../support/raw-socket.js';
import { barrier, connect, RawBookChecker, SYM, waitUntil, type Recorded } from '../support/e2e.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

let cluster: TestCluster;
let alice: Recorded;
let bob: Recorded;

beforeAll(async () => {
  cluster = await startTestCluster(2);
  alice = await connect(cluster.edges[0]!.url, 'token-alice');
  bob = await connect(cluster.edges[1]!.url, 'token-bob');
});

afterAll(async () => {
  for (const c of [alice, bob]) c.client.close();
  await cluster.stop();
});

/** Waits until every edge has applied the core's journal up to its last seq. */
async function caughtUp(): Promise<void> {
  const seq = cluster.core.server.journal.lastSeq;
  await waitUntil(() => cluster.edges.every(({ edge }) => edge.appliedSeq() >= seq), `edges at seq ${seq}`);
}

describe('a cluster of one core and two gateways', () => {
  it('trades between accounts on different gateways', async () => {
    const sell = await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_100, qty: 5, cid: 'x-sell' });
    expect(sell).toMatchObject({ op: 'place', cid: 'x-sell' });
    const buy = await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_100, qty: 3, cid: 'x-buy' });
    expect(buy).toMatchObject({ op: 'place', cid: 'x-buy' });
    await waitUntil(() => alice.execs.some((e) => e.id === sell.id && e.status === 'partial'), "alice's fill");
    await waitUntil(() => bob.execs.some((e) => e.id === buy.id && e.status === 'filled'), "bob's fill");
    expect(cluster.core.server.engine.openOrders('alice', SYM)).toMatchObject([{ id: sell.id, leaves: 2 }]);
    await caughtUp();
    for (const { edge } of cluster.edges) {
      expect(exportEngineState(edge.engine)).toEqual(exportEngineState(cluster.core.server.engine));
    }
    const { orders } = await alice.client.orders(SYM);
    expect(orders.map((o) => o.id)).toEqual([sell.id]);
    await alice.client.cancelAll();
  });

  it('keeps every replica and its market-data seqs equal to the core', async () => {
    for (let i = 0; i < 20; i++) {
      await alice.client.place({ sym: SYM, side: i % 2 === 0 ? 'sell' : 'buy', kind: 'limit', px: 10_000 + (i % 5), qty: 1 + (i % 3) });
      await bob.client.place({ sym: SYM, side: i % 2 === 0 ? 'buy' : 'sell', kind: 'limit', px: 10_000 + (i % 7), qty: 2 });
    }
    // A waiting stop and an iceberg, then trades through the stop's trigger: the replicas trigger it too.
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'stop', trigger: 10_001, qty: 1, tif: 'gtc' });
    await bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_010, qty: 6, display: 2 });
    await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_010, qty: 3 });
    await bob.client.place({ sym: SYM, side: 'sell', kind: 'market', qty: 20 });
    await barrier(alice, bob);
    await caughtUp();
    const core = exportEngineState(cluster.core.server.engine);
    expect(cluster.core.server.engine.openOrders('alice', SYM).filter((o) => o.kind === 'stop')).toEqual([]);
    for (const { edge } of cluster.edges) {
      expect(exportEngineState(edge.engine)).toEqual(core);
      expect(edge.engine.balances('alice')).toEqual(cluster.core.server.engine.balances('alice'));
    }
    expect(cluster.edges[0]!.edge.bookSeqs()).toEqual(cluster.edges[1]!.edge.bookSeqs());
  });

  it('refuses accounts on the core itself, which serves market data only', async () => {
    const socket = await RawSocket.open(cluster.core.url);
    expect(await socket.request({ op: 'login', token: 'token-alice' }, 'l')).toMatchObject({ type: 'reject', code: 'bad_request' });
    expect(await socket.request({ op: 'markets' }, 'm')).toMatchObject({ type: 'markets' });
    await socket.close();
  });

  it('publishes the same book deltas, seq for seq and checksum for checksum, from every gateway and the core', async () => {
    const watchers = await Promise.all([cluster.core.url, ...cluster.edges.map((e) => e.url)].map((url) => RawSocket.open(url)));
    const checkers = watchers.map((socket) => new RawBookChecker(socket, SYM));
    for (const socket of watchers) await socket.request({ op: 'sub', ch: 'book', sym: SYM, depth: 10 }, 's');
    for (let i = 0; i < 30; i++) {
      const trader = i % 2 === 0 ? alice : bob;
      await trader.client.place({ sym: SYM, side: i % 3 === 0 ? 'sell' : 'buy', kind: 'limit', px: 9_990 + (i % 9), qty: 1 + (i % 4) });
    }
    await barrier(alice, bob);
    await caughtUp();
    const last = cluster.core.server.journal.lastSeq;
    await waitUntil(() => cluster.edges.every(({ edge }) => edge.appliedSeq() >= last), 'all applied');
    const seqs = cluster.edges[0]!.edge.bookSeqs().get(SYM)!;
    await waitUntil(() => checkers.every((c) => (c.drain(), c.book.seq >= seqs)), 'every watcher at the last seq');
    const checksums = (socket: RawSocket): Map<number, number> =>
      new Map(socket.messages.filter((m) => m.type === 'book' && m.snapshot !== true).map((m) => [m.seq as number, m.cs as number]));
    const core = checksums(watchers[0]!);
    expect(core.size).toBeGreaterThan(10);
    for (const [i, checker] of checkers.entries()) {
      expect(checker.failures, `watcher ${i}`).toEqual([]);
      const own = checksums(watchers[i]!);
      expect(own.size).toBeGreaterThan(10);
      for (const [seq, cs] of own) if (core.has(seq)) expect(cs, `watcher ${i} seq ${seq}`).toBe(core.get(seq));
      // The same seqs were published everywhere after each one joined.
      expect([...own.keys()].filter((seq) => seq > Math.max(...core.keys()) || seq < Math.min(...core.keys()))).toEqual([]);
    }
    await Promise.all(watchers.map((socket) => socket.close()));
    await alice.client.cancelAll();
    await bob.client.cancelAll();
  });

  it('lets a gateway started later catch up from the core snapshot', async () => {
    const late = await cluster.addEdge();
    await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 12_000, qty: 1 });
    await caughtUp();
    expect(exportEngineState(late.edge.engine)).toEqual(exportEngineState(cluster.core.server.engine));
  });
});

describe('a core that stops and restarts', () => {
  let outage: TestCluster;
  let trader: Recorded;

  beforeAll(async () => {
    outage = await startTestCluster(1, { busTimeoutMs: 400 });
    trader = await connect(outage.edges[0]!.url, 'token-carol');
  });

  afterAll(async () => {
    trader.client.close();
    await outage.stop();
  });

  it('is answered unavailable within the deadline while down, and trading goes on after its restart', async () => {
    const first = await trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_000, qty: 1, cid: 'before' });
    await outage.stopCore();
    const started = Date.now();
    const refused = await trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_001, qty: 1, cid: 'during' }).then(
      () => null,
      (error: unknown) => error as { code?: string; message: string },
    );
    expect(refused?.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(2_000);
    const core = await outage.restartCore();
    // Forwarded while it was down and answered unavailable: the restarted core does not run it late.
    const edge = outage.edges[0]!.edge;
    await waitUntil(() => edge.appliedSeq() >= core.journal.lastSeq, 'the edge caught up');
    const after = await trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_002, qty: 1, cid: 'after' });
    await waitUntil(() => edge.appliedSeq() >= core.journal.lastSeq, 'the edge caught up again');
    const open = core.engine.openOrders('carol', SYM).map((o) => o.cid);
    expect(open).toEqual(['before', 'after']);
    expect(exportEngineState(edge.engine)).toEqual(exportEngineState(core.engine));
    expect([first.id, after.id].every((id) => Number.isInteger(id))).toBe(true);
  });
});
