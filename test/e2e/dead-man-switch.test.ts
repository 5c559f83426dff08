// The dead-man switch over real WebSockets: `cancel_after` arms a per-account deadline; if it is
// not renewed, every order of the account is canceled with reason `timeout` (journaled, so a
// restart keeps them canceled); renewing keeps them, 0 disarms, closing the socket does not.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CANCEL_AFTER_MS, MIN_CANCEL_AFTER_MS } from '../../protocol/constants.js';
import type { Exec } from '../../protocol/messages.js';
import { connect, SYM, waitUntil, type Recorded } from '../support/e2e.js';
import { makeTempDir, startOnDataDir, type InProcessServer } from '../journal/journal-support.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(): Promise<{ root: string; server: InProcessServer }> {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  const server = await startOnDataDir(dir.path);
  cleanups.push(() => server.server.close());
  return { root: dir.path, server };
}

async function trader(server: InProcessServer, token = 'token-alice'): Promise<Recorded> {
  const c = await connect(server.url, token);
  cleanups.push(() => c.client.close());
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('cancel_after', () => {
  it('cancels every open order of the account with reason timeout when not renewed, and a restart keeps them canceled', async () => {
    const { root, server } = await started();
    const alice = await trader(server);
    const other = await trader(server, 'token-alice-2'); // another connection of alice: it gets the execs too
    const a = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 1_000, qty: 5 });
    const b = await alice.client.place({ sym: 'ETH-USD', side: 'sell', kind: 'limit', px: 9_000, qty: 2 });
    const armed = await alice.client.cancelAfter(MIN_CANCEL_AFTER_MS * 3);
    expect(armed).toMatchObject({ type: 'ack', op: 'cancel_after', timeout: MIN_CANCEL_AFTER_MS * 3 });
    expect(armed.triggerAt).toBeGreaterThan(Date.now());
    const canceled = (r: Recorded): Exec[] => r.execs.filter((e) => e.status === 'canceled');
    await waitUntil(() => canceled(alice).length === 2 && canceled(other).length === 2, 'the timeout cancels');
    expect(canceled(alice).map((e) => [e.id, e.reason])).toEqual([
      [a.id, 'timeout'],
      [b.id, 'timeout'],
    ]);
    expect((await alice.client.orders()).orders).toEqual([]);
    // Fired once: re-placing does not get canceled again without re-arming.
    await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 1_001, qty: 1 });
    await sleep(MIN_CANCEL_AFTER_MS * 4);
    expect((await alice.client.orders()).orders.map((o) => o.px)).toEqual([1_001]);

    await server.server.close();
    cleanups.pop();
    const again = await startOnDataDir(root);
    cleanups.push(() => again.server.close());
    expect(again.server.engine.openOrders('alice', null).map((o) => o.px)).toEqual([1_001]);
  });

  it('renewing in time keeps the orders; 0 turns it off; closing the socket does not', async () => {
    const { server } = await started();
    const alice = await trader(server);
    await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 1_000, qty: 5 });
    for (let i = 0; i < 8; i++) {
      await alice.client.cancelAfter(MIN_CANCEL_AFTER_MS * 4);
      await sleep(MIN_CANCEL_AFTER_MS);
    }
    expect((await alice.client.orders()).orders).toHaveLength(1);
    expect(await alice.client.cancelAfter(0)).toMatchObject({ timeout: 0, triggerAt: null });
    await sleep(MIN_CANCEL_AFTER_MS * 6);
    expect((await alice.client.orders()).orders).toHaveLength(1);

    // Armed, then the connection drops: that is what the switch is for.
    await alice.client.cancelAfter(MIN_CANCEL_AFTER_MS * 2);
    alice.client.close();
    await waitUntil(() => server.server.engine.openOrders('alice', null).length === 0, 'the timeout fires with nobody connected');
  });

  it('refuses a timeout out of range, and anyone not logged in', async () => {
    const { server } = await started();
    const alice = await trader(server);
    for (const timeout of [MIN_CANCEL_AFTER_MS - 1, MAX_CANCEL_AFTER_MS + 1, -5, 1.5]) {
      expect(await alice.client.request({ op: 'cancel_after', timeout })).toMatchObject({ type: 'reject', code: 'bad_number' });
    }
    expect(await alice.client.request({ op: 'cancel_after' })).toMatchObject({ type: 'reject', code: 'bad_request' });
    const anonymous = await connect(server.url);
    cleanups.push(() => anonymous.client.close());
    expect(await anonymous.client.request({ op: 'cancel_after', timeout: 1_000 })).toMatchObject({
      type: 'reject',
      code: 'unauthenticated',
    });
  });
});
