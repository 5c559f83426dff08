// The server's HTTP side as an operator meets it: `GET /` says what this is (protocol version,
// markets, where the docs are) to a client that does not ask for HTML (browsers get the page:
// web-page-http.test.ts), and /health's top-level status says "degraded" (still 200: trading
// goes on) when a configured sink is failing, "ok" when it works.
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEMO_MARKETS } from '../../server/config.js';
import { PROTOCOL_VERSION } from '../../server/about.js';
import { httpGet } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { deleteUnder } from '../persistence/redis-dump.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test:http-endpoints:${process.pid}-${Date.now()}:`;
const running: TestServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});
afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  await deleteUnder(redis, PREFIX);
  redis.disconnect();
});

async function start(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(overrides);
  running.push(server);
  return server;
}

interface Health {
  status: string;
  writeBehind?: { status: string; sinks: Record<string, { status: string }> };
}

async function health(server: TestServer): Promise<{ code: number; body: Health }> {
  const response = await httpGet(`${server.httpUrl}/health`);
  return { code: response.status, body: JSON.parse(response.body) as Health };
}

describe('GET /', () => {
  it('names the service, the protocol version, the markets and where the docs are', async () => {
    const server = await start();
    const response = await httpGet(`${server.httpUrl}/`);
    expect(response.status).toBe(200);
    expect(response.contentType).toBe('application/json');
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      service: 'spotwire',
      protocol: { version: PROTOCOL_VERSION, websocket: '/ws' },
      markets: DEMO_MARKETS.map((market) => market.sym),
      http: { health: '/health', metrics: '/metrics' },
    });
    expect(JSON.stringify(body.docs)).toContain('PROTOCOL.md');
  });
});

/** Polls /health until `until` holds of it (or 20 s pass); returns the last answer. */
async function healthWhen(
  server: TestServer,
  until: (answer: { code: number; body: Health }) => boolean,
): Promise<{ code: number; body: Health }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await health(server);
    if (until(answer) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('/health with a write-behind sink', () => {
  it('is "degraded" at the top, with 200, while the configured Redis cannot be reached', async () => {
    // A short drain: this sink never catches up, and stop() would otherwise wait the full 10 s.
    const server = await start({ redisUrl: `redis://127.0.0.1:${await freePort()}`, redisPrefix: PREFIX, writeBehindDrainMs: 200 });
    // Wait for the sink's own report (before it the write-behind says degraded anyway).
    const answer = await healthWhen(server, ({ body }) => body.writeBehind?.sinks.redis !== undefined);
    expect(answer.body.writeBehind?.sinks.redis).toBeDefined();
    expect(answer).toMatchObject({ code: 200, body: { status: 'degraded', writeBehind: { status: 'degraded' } } });
  });

  it('is "ok" once the configured Redis works', async () => {
    const server = await start({ redisUrl: REDIS_URL, redisPrefix: PREFIX });
    const answer = await healthWhen(server, ({ body }) => body.status === 'ok');
    expect(answer).toMatchObject({ code: 200, body: { status: 'ok', writeBehind: { status: 'ok' } } });
  });
});
