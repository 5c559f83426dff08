// A cluster of real processes (one core, two gateways) under kill -9, while traders place orders
// that rest (each with a unique cid). A gateway killed: its traders move to the other gateway and
// find every order they had acked. The core killed: the gateways answer `unavailable` within their
// deadline; after the core restarts on its data dir trading goes on, and every acked order is in
// the core's book exactly once, as a gateway started afterwards from the core's snapshot shows it (an order whose answer was `unavailable` at most once).
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../../bench/lib/server-process.js';
import { clusterProcesses } from '../support/cluster-processes.js';
import { connect, SYM, waitUntil, type Recorded } from '../support/e2e.js';

const TIMEOUT_MS = 500;
const cluster = clusterProcesses('cluster-kill', { BUS_TIMEOUT_MS: String(TIMEOUT_MS) });
const startRole = cluster.startRole;

async function kill(target: ServerProcess): Promise<void> {
  target.kill('SIGKILL');
  await target.exited;
}

/** Places resting buys with unique cids until stopped; records which were acked and which were not answered ok. */
class Placer {
  readonly acked = new Map<string, number>();
  readonly unsure = new Set<string>();
  readonly codes = new Map<string, number>();
  private running = true;
  private done: Promise<void> = Promise.resolve();
  private next = 0;

  constructor(
    private readonly name: string,
    public trader: Recorded,
  ) {}

  start(): void {
    this.running = true;
    this.done = (async () => {
      while (this.running) {
        const cid = `${this.name}-${this.next++}`;
        try {
          const ack = await this.trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 100 + (this.next % 50), qty: 1, cid });
          this.acked.set(cid, ack.id!);
        } catch (error) {
          this.unsure.add(cid);
          const code = (error as { code?: string }).code ?? 'closed';
          this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
          if (code === 'closed' || this.trader.closeCode !== null) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

afterAll(() => cluster.stop());

/** Every acked cid is open exactly once in what a fresh connection on `url` lists; unsure ones at most once. */
async function checkBook(url: string, token: string, placer: Placer): Promise<void> {
  const viewer = await connect(url, token);
  const { orders } = await viewer.client.orders(SYM);
  viewer.client.close();
  const byCid = new Map<string, number>();
  for (const order of orders) byCid.set(order.cid!, (byCid.get(order.cid!) ?? 0) + 1);
  for (const [cid, id] of placer.acked) {
    expect(byCid.get(cid), `acked ${cid}`).toBe(1);
    expect(orders.find((o) => o.cid === cid)?.id).toBe(id);
  }
  for (const cid of placer.unsure) expect(byCid.get(cid) ?? 0, `unsure ${cid}`).toBeLessThanOrEqual(1);
  for (const cid of byCid.keys()) expect(placer.acked.has(cid) || placer.unsure.has(cid), `unknown ${cid}`).toBe(true);
}

describe('a cluster of processes under kill -9', () => {
  it('loses no acked order when a gateway or the core is killed', async () => {
    let core = await startRole('core');
    const [first, second] = [await startRole('gateway'), await startRole('gateway')];
    const alice = new Placer('alice', await connect(first.url, 'token-alice'));
    const bob = new Placer('bob', await connect(second.url, 'token-bob'));
    alice.start();
    bob.start();
    await waitUntil(() => alice.acked.size >= 50 && bob.acked.size >= 50, 'orders acked through both gateways', 20_000);

    // A gateway dies: alice's connection with it; she moves to the other gateway.
    await kill(first);
    await alice.stop();
    alice.trader = await connect(second.url, 'token-alice');
    await checkBook(second.url, 'token-alice', alice);
    alice.start();
    await waitUntil(() => alice.acked.size >= 100, 'alice trading again on the other gateway', 20_000);

    // The core dies under load: the gateway answers unavailable until it is back.
    const unsureBefore = alice.unsure.size + bob.unsure.size;
    await kill(core);
    await waitUntil(() => alice.unsure.size + bob.unsure.size > unsureBefore, 'an unavailable answer', 10_000);
    expect(alice.codes.get('unavailable') ?? bob.codes.get('unavailable')).toBeGreaterThan(0);
    core = await startRole('core');
    const ackedAtRestart = alice.acked.size + bob.acked.size;
    await waitUntil(() => alice.acked.size + bob.acked.size >= ackedAtRestart + 50, 'trading after the core restarted', 20_000);
    await alice.stop();
    await bob.stop();
    await checkBook(second.url, 'token-alice', alice);
    await checkBook(second.url, 'token-bob', bob);
    // A gateway started now, from the restarted core's snapshot, holds the same orders.
    const third = await startRole('gateway');
    await checkBook(third.url, 'token-bob', bob);
    await checkBook(third.url, 'token-alice', alice);
  }, 120_000);
});
