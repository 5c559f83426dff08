// A `place` with `retry`: a client that lost the reply to a place resends it with the same cid and
// gets the order that was placed — open, filled or canceled — instead of a second order. Without
// `retry` the contract's rules stand (duplicate_cid while open, the cid free once closed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { connect, SYM, type Recorded } from '../support/e2e.js';

let server: TestServer;
let alice: Recorded;
let bob: Recorded;

beforeAll(async () => {
  server = await startTestServer();
  alice = await connect(server.url, 'token-alice');
  bob = await connect(server.url, 'token-bob');
});

afterAll(async () => {
  for (const c of [alice, bob]) c.client.close();
  await server.stop();
});

const openCount = (): number => server.server.engine.openOrders('alice', null).length;

describe('place with retry', () => {
  it('answers the open order of that cid, changes nothing and journals nothing', async () => {
    const first = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_000, qty: 5, cid: 'rt-open' });
    const before = { open: openCount(), seq: server.server.journal.lastSeq };
    const again = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_000, qty: 5, cid: 'rt-open', retry: true });
    expect(again).toMatchObject({ type: 'ack', op: 'place', id: first.id, cid: 'rt-open', duplicate: true });
    expect(again.order).toMatchObject({ id: first.id, status: 'new', qty: 5, leaves: 5, px: 9_000 });
    expect({ open: openCount(), seq: server.server.journal.lastSeq }).toEqual(before);
    // Without retry, the contract: an open order's cid is duplicate_cid.
    expect(
      await alice.client.request({ op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 9_000, qty: 5, cid: 'rt-open' }),
    ).toMatchObject({ type: 'reject', code: 'duplicate_cid' });
    await alice.client.cancelAll();
  });

  it('answers a filled order with how it ended instead of placing it again', async () => {
    await bob.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 10_000, qty: 3 });
    const first = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_000, qty: 3, cid: 'rt-filled' });
    const again = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 10_000, qty: 3, cid: 'rt-filled', retry: true });
    expect(again).toMatchObject({ id: first.id, duplicate: true, order: { status: 'filled', filled: 3, leaves: 0 } });
    expect(openCount()).toBe(0);
    // Without retry the cid is free again once the order closed: a new order.
    const fresh = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 9_000, qty: 1, cid: 'rt-filled' });
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.duplicate).toBeUndefined();
    await alice.client.cancelAll();
  });

  it('places the order when no order has that cid, and needs a cid', async () => {
    const placed = await alice.client.place({ sym: SYM, side: 'sell', kind: 'limit', px: 30_000, qty: 2, cid: 'rt-new', retry: true });
    expect(placed.duplicate).toBeUndefined();
    expect(server.server.engine.openOrders('alice', null).map((o) => o.cid)).toContain('rt-new');
    const socket = await RawSocket.open(server.url);
    await socket.request({ op: 'login', token: 'token-alice' }, 'l');
    expect(
      await socket.request({ op: 'place', sym: SYM, side: 'sell', kind: 'limit', px: 30_000, qty: 2, retry: true }, 'no-cid'),
    ).toMatchObject({
      type: 'reject',
      code: 'bad_request',
      msg: 'retry needs the cid of the place it repeats',
    });
    expect(
      await socket.request({ op: 'place', sym: 'NOPE-USD', side: 'sell', kind: 'limit', px: 1, qty: 1, cid: 'x', retry: true }, 'bad-sym'),
    ).toMatchObject({ code: 'unknown_market' });
    await socket.close();
    await alice.client.cancelAll();
  });

  it('resolves a place whose connection dropped before the ack arrived', async () => {
    const socket = await RawSocket.open(server.url);
    await socket.request({ op: 'login', token: 'token-alice' }, 'l');
    socket.send({ op: 'place', sym: SYM, side: 'buy', kind: 'limit', px: 8_000, qty: 4, cid: 'rt-lost', rid: 'lost' });
    await socket.close();
    // The order may or may not have been accepted; the retry tells which, and never doubles it.
    const retried = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 8_000, qty: 4, cid: 'rt-lost', retry: true });
    const withCid = server.server.engine.openOrders('alice', null).filter((o) => o.cid === 'rt-lost');
    expect(withCid).toHaveLength(1);
    expect(withCid[0]!.id).toBe(retried.id);
    await alice.client.cancelAll();
  });
});
