// The e2e benchmark's load client against real servers: the raw-socket WebSocket client against
// the bare uWS echo server (a child process, as the benchmark runs it) and the load generator
// against an in-process Spotwire server with logged-in bots and a market-data subscriber.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildServer } from '../../bench/lib/child-server.js';
import { runLoad } from '../../bench/lib/load-generator.js';
import { RawWsClient } from '../../bench/lib/raw-ws-client.js';
import { startTestServer, TEST_KEYS, type TestServer } from '../support/test-server.js';

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('raw-socket client against the bare uWS echo server', () => {
  let echo: ChildServer;
  beforeAll(async () => {
    echo = await ChildServer.start('echo', 'bench/lib/echo-server.ts', [], (line) => {
      try {
        return (JSON.parse(line) as { port?: number }).port ?? null;
      } catch {
        return null;
      }
    });
  });
  afterAll(async () => {
    await echo?.stop();
  });

  it('gets back exactly what it sent, for 7-bit and 16-bit payload lengths, in order', async () => {
    const received: Uint8Array[] = [];
    const client = await RawWsClient.open('127.0.0.1', echo.port, '/ws', {
      onPayload: (payload) => received.push(Uint8Array.from(payload)),
    });
    const sizes = [1, 125, 126, 300, 60_000];
    const sent = sizes.map((size, n) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + n) & 0xff));
    // Queued in one turn: they leave in one write and must still come back as separate frames.
    for (const payload of sent) client.send(payload);
    await waitUntil(() => received.length === sent.length);
    expect(received).toEqual(sent);
    expect(client.bytesOut).toBeGreaterThan(sizes.reduce((a, b) => a + b, 0));
    client.close();
  });

  it('reports the server process CPU and RSS from /proc', () => {
    const sample = echo.sample();
    expect(sample.rssMiB).toBeGreaterThan(10);
    expect(sample.cpuSeconds).toBeGreaterThanOrEqual(0);
  });
});

describe('load generator against a real Spotwire server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ fsync: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('logs bots in, gets every order acked, and counts market data', async () => {
    const port = Number(new URL(server.url).port);
    const tokens = [TEST_KEYS[0]!.token, TEST_KEYS[2]!.token];
    const windows: string[] = [];
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      sym: 'BTC-USD',
      connections: 2,
      window: 32,
      batch: 8,
      subscribers: 1,
      rate: 0,
      warmupSeconds: 0.3,
      seconds: 1.5,
      tokens,
      onWindow: (phase) => windows.push(phase),
    });
    expect(windows).toEqual(['start', 'end']);
    expect(result.rejected).toBe(0);
    expect(result.acked).toBeGreaterThan(0);
    expect(result.latencyUs.p50).toBeGreaterThan(0);
    expect(result.mdMessages).toBeGreaterThan(0);
    // cancel-on-disconnect: once the bots are gone their resting orders leave the book.
    await waitUntil(
      () => server.server.engine.levels('BTC-USD', 'buy', 1).length + server.server.engine.levels('BTC-USD', 'sell', 1).length === 0,
    );
  });
});
