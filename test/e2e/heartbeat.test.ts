// The reconnecting client's heartbeat: a connection that goes silent without closing (a proxy
// that swallows every byte, as a dead NAT or a frozen peer would) is taken for dead after two
// heartbeats and the client reconnects and resumes; a quiet but live one is kept.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_CLOSE_CODE, SpotwireClient, type ReconnectingEvent, type WebSocketConstructor } from '../../protocol/client.js';
import { TcpProxy } from '../../bench/lib/tcp-proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { SYM, waitUntil } from '../support/e2e.js';

let server: TestServer;
let proxy: TcpProxy;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = await startTestServer();
  proxy = await TcpProxy.start(server.port);
});
afterAll(async () => {
  await proxy.close();
  await server.stop();
});

async function client(heartbeatMs: number): Promise<{ client: SpotwireClient; reconnecting: ReconnectingEvent[]; resumed: () => number }> {
  const connected = await SpotwireClient.connect(proxy.url, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    timeoutMs: 2_000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100, heartbeatMs },
  });
  const reconnecting: ReconnectingEvent[] = [];
  let resumes = 0;
  connected.onReconnecting((event) => reconnecting.push(event));
  connected.onResumed(() => resumes++);
  await connected.login('token-alice');
  return { client: connected, reconnecting, resumed: () => resumes };
}

describe('the heartbeat of a reconnecting client', () => {
  it('takes a silent connection for dead after two heartbeats, reconnects and resumes', async () => {
    const alice = await client(200);
    const ack = await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 4_000, qty: 3, cid: 'hb-1' });
    proxy.holdReplies = true;
    proxy.holdRequests = true;
    await waitUntil(() => alice.reconnecting.length > 0, 'the client to notice the silence', 5_000);
    expect(alice.reconnecting[0]).toMatchObject({ attempt: 1, code: HEARTBEAT_CLOSE_CODE });
    expect(alice.reconnecting[0]!.reason).toMatch(/^no frame from the server in \d+ ms$/);
    // The network comes back: the old connection is gone for good, new ones get through.
    proxy.dropAll();
    await waitUntil(() => alice.resumed() > 0, 'the resume', 10_000);
    expect(alice.client.openOrders(SYM).map((order) => order.id)).toEqual([ack.id]);
    expect(server.server.engine.openOrders('alice', SYM).map((order) => order.id)).toEqual([ack.id]);
    await alice.client.cancelAll();
    alice.client.close();
  });

  it('keeps a quiet live connection (its pings are answered), and with heartbeatMs 0 never pings', async () => {
    const quiet = await client(100);
    await sleep(600);
    expect(quiet.reconnecting).toEqual([]);
    expect(quiet.client.state).toBe('open');
    quiet.client.close();

    const off = await client(0);
    proxy.holdReplies = true;
    await sleep(600);
    expect(off.reconnecting).toEqual([]);
    off.client.close();
    proxy.dropAll();
  });
});
