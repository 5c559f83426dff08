// One connection must not take the event loop from the others: every message is charged to the
// rate limit (invalid ones too), a connection gets a bounded slice of each turn (the rest of a
// large read waits for later turns), and connections are capped per address and per account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchSocket } from '../support/batch-socket.js';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('rate limit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ rateLimitPerSecond: 100 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('charges messages that fail validation', async () => {
    const socket = await RawSocket.open(server.url);
    socket.send(Array.from({ length: 1024 }, (_, i) => ({ op: 'nope', rid: i })));
    await socket.waitFor((messages) => messages.length === 1024);
    const limited = socket.messages.filter((m) => m.code === 'rate_limited');
    // The burst is one second's worth: 100 (plus what refills while the frame is handled).
    expect(limited.length).toBeGreaterThan(900);
    expect(limited[0]).toMatchObject({ type: 'reject', op: 'nope', code: 'rate_limited' });
    expect(limited.every((m) => typeof m.rid === 'number')).toBe(true);
    await socket.close();
  });

  it('says when to retry: a rate_limited reject carries retryAfterMs, and a retry after it is served', async () => {
    const socket = await RawSocket.open(server.url);
    socket.send(Array.from({ length: 300 }, (_, i) => ({ op: 'ping', rid: i })));
    await socket.waitFor((messages) => messages.length === 300);
    const limited = socket.messages.filter((m) => m.code === 'rate_limited');
    expect(limited.length).toBeGreaterThan(100);
    // At 100/s a token refills every 10 ms.
    for (const reject of limited) expect(reject.retryAfterMs).toBeGreaterThanOrEqual(1);
    expect(Math.max(...limited.map((m) => m.retryAfterMs as number))).toBeLessThanOrEqual(10);
    expect(limited[0]!.msg).toMatch(/^over the rate limit; retry in \d+ ms$/);
    await new Promise((resolve) => setTimeout(resolve, (limited.at(-1)!.retryAfterMs as number) + 5));
    expect(await socket.request({ op: 'ping' }, 'after')).toMatchObject({ type: 'pong' });
    await socket.close();
  });
});

describe('a slice of each turn per connection', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers another client's ping while 16 frames of 1,024 markets from one read are still being handled", async () => {
    const flooder = await BatchSocket.open(server.server.port);
    const frame = Array.from({ length: 1024 }, () => ({ op: 'markets' }));
    flooder.sendFrames(...Array.from({ length: 16 }, () => frame));
    await flooder.waitFor(() => flooder.messages.length > 0, 'the first markets reply');
    const other = await RawSocket.open(server.url);
    expect((await other.request({ op: 'ping' }, 'p')).type).toBe('pong');
    // Handled at once, all 16,384 replies had left in one frame before the ping was even read.
    expect(flooder.messages.length).toBeLessThan(16 * 1024);
    await flooder.waitFor(() => flooder.messages.length === 16 * 1024, 'every markets reply', 60_000);
    expect(flooder.messages.every((m) => m.type === 'markets')).toBe(true);
    flooder.destroy();
    await other.close();
  });
});

describe('connection caps', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ maxConnectionsPerIp: 3, maxConnectionsPerAccount: 2 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('closes a connection over the per-address cap with 1008 and a reason', async () => {
    const open = await Promise.all([0, 1, 2].map(() => RawSocket.open(server.url)));
    const extra = await RawSocket.open(server.url);
    await extra.waitFor(() => false, 5_000).catch(() => undefined);
    expect(extra.closeCode).toBe(1008);
    expect(extra.closeReason).toContain('too many connections from 127.0.0.1');
    await open[0]!.close();
    // A slot freed is a slot to take.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await RawSocket.open(server.url);
    expect((await again.request({ op: 'ping' }, 'p')).type).toBe('pong');
    await Promise.all([again, ...open.slice(1)].map((s) => s.close()));
  });

  it('refuses a login over the per-account cap with too_many_connections', async () => {
    const sockets = await Promise.all([0, 1, 2].map(() => RawSocket.open(server.url)));
    expect((await sockets[0]!.request({ op: 'login', token: 'token-alice' }, 'l')).type).toBe('login');
    expect((await sockets[1]!.request({ op: 'login', token: 'token-alice-2' }, 'l')).type).toBe('login');
    expect(await sockets[2]!.request({ op: 'login', token: 'token-alice' }, 'l')).toMatchObject({
      type: 'reject',
      code: 'too_many_connections',
    });
    // Logging in again on a connection already counted is not a new connection.
    expect((await sockets[0]!.request({ op: 'login', token: 'token-alice' }, 'l2')).type).toBe('login');
    expect((await sockets[2]!.request({ op: 'login', token: 'token-bob' }, 'l2')).type).toBe('login');
    await Promise.all(sockets.map((s) => s.close()));
  });
});
