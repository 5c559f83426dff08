// The bus's Redis (a private redis-server, no persistence) killed for 10 s under order entry and
// started again empty: while it is away every order is answered `unavailable` within the
// gateway's deadline, nothing waits unbounded, and once it is back the core republishes its
// snapshot and trading goes on with every replica equal to the core.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { connect, SYM, waitUntil, type Recorded } from '../support/e2e.js';
import { startRedis, type ServiceInstance } from '../support/redis-instance.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

const TIMEOUT_MS = 500;
const OUTAGE_MS = 10_000;
let redis: ServiceInstance;
let cluster: TestCluster;
let trader: Recorded;

beforeAll(async () => {
  redis = await startRedis();
  cluster = await startTestCluster(1, { busUrl: redis.url, busTimeoutMs: TIMEOUT_MS, snapshotEveryMs: 60_000 });
  trader = await connect(cluster.edges[0]!.url, 'token-alice');
}, 30_000);

afterAll(async () => {
  trader.client.close();
  await cluster.stop();
  await redis.stop();
});

async function placeTimed(cid: string): Promise<{ ms: number; code: string }> {
  const started = Date.now();
  const code = await trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 5_000, qty: 1, cid }).then(
    () => 'ok',
    (error: unknown) => (error as { code?: string }).code ?? 'error',
  );
  return { ms: Date.now() - started, code };
}

describe('the bus Redis stopped for 10 s', () => {
  it('answers unavailable within the deadline while it is away, and trades again once it is back', async () => {
    expect((await placeTimed('before')).code).toBe('ok');
    await redis.kill();
    const during: { ms: number; code: string }[] = [];
    const until = Date.now() + OUTAGE_MS;
    for (let i = 0; Date.now() < until; i++) {
      during.push(await placeTimed(`during-${i}`));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(during.length).toBeGreaterThan(20);
    expect(during.every((answer) => answer.code === 'unavailable')).toBe(true);
    expect(Math.max(...during.map((answer) => answer.ms))).toBeLessThan(TIMEOUT_MS + 1_000);
    const edge = cluster.edges[0]!.edge;
    await redis.restart();
    let after = await placeTimed('after');
    for (let i = 0; after.code !== 'ok' && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await placeTimed(`after-${i}`);
    }
    expect(after.code).toBe('ok');
    const core = cluster.coreServer();
    await waitUntil(() => edge.appliedSeq() >= core.journal.lastSeq, 'the edge caught up');
    expect(exportEngineState(edge.engine)).toEqual(exportEngineState(core.engine));
    // Nothing from the outage ran: it was answered unavailable, and stale commands are not run late.
    const open = core.engine.openOrders('alice', SYM).map((o) => o.cid);
    expect(open.filter((cid) => cid?.startsWith('during-'))).toEqual([]);
    expect(cluster.edges[0]!.edge.inFlight()).toBe(0);
    // The restarted Redis came back empty: the core publishes its snapshot again, so a new gateway can start.
    const late = await cluster.addEdge();
    await waitUntil(() => late.edge.appliedSeq() >= core.journal.lastSeq, 'the new edge caught up');
    expect(exportEngineState(late.edge.engine)).toEqual(exportEngineState(core.engine));
  }, 60_000);
});
