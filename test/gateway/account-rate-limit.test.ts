// The request limit per account: shared by all the account's connections, on top of each
// connection's own; and the clock offset a client derives from pong's ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSocket } from '../support/raw-socket.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { connect } from '../support/e2e.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ rateLimitPerSecond: 100, accountRateLimitPerSecond: 150 });
});

afterAll(() => server.stop());

async function loggedIn(token: string): Promise<RawSocket> {
  const socket = await RawSocket.open(server.url);
  expect(await socket.request({ op: 'login', token }, 'login')).toMatchObject({ type: 'login' });
  return socket;
}

/** Sends `n` pings in one frame and waits for all n answers; returns the rate_limited rejects. */
async function pingBurst(socket: RawSocket, n: number, tag: string): Promise<Record<string, unknown>[]> {
  socket.send(Array.from({ length: n }, (_, i) => ({ op: 'ping', rid: `${tag}-${i}` })));
  await socket.waitFor((messages) => messages.filter((m) => String(m.rid).startsWith(`${tag}-`)).length === n);
  return socket.messages.filter((m) => String(m.rid).startsWith(`${tag}-`) && m.type === 'reject');
}

describe('the per-account request limit', () => {
  it('is shared by the account’s connections and leaves other accounts alone', async () => {
    const first = await loggedIn('token-alice');
    const second = await loggedIn('token-alice-2');
    const bob = await loggedIn('token-bob');
    // Each connection may burst 100 (its login took one); the account 150 in all.
    expect(await pingBurst(first, 99, 'a1')).toEqual([]);
    const limited = await pingBurst(second, 99, 'a2');
    // 99 − 51 are over the account's budget, less the few tokens that refill meanwhile (0.15/ms).
    expect(limited.length).toBeGreaterThan(25);
    expect(limited.length).toBeLessThanOrEqual(99 - 51);
    for (const reject of limited) {
      expect(reject).toMatchObject({ code: 'rate_limited', op: 'ping' });
      expect(String(reject.msg)).toContain("account's rate limit");
      expect(reject.retryAfterMs).toBeGreaterThanOrEqual(1);
    }
    expect(await pingBurst(bob, 99, 'b')).toEqual([]);
    await Promise.all([first.close(), second.close(), bob.close()]);
  });

  it('does not apply before login: an anonymous connection has only its own limit', async () => {
    const anonymous = await RawSocket.open(server.url);
    const limited = await pingBurst(anonymous, 100, 'anon');
    expect(limited).toEqual([]);
    await anonymous.close();
  });
});

describe('clock offset from pong', () => {
  it('puts the server clock within the round trip of the local one (same machine)', async () => {
    const client = await connect(server.url);
    const { offsetMs, rttMs } = await client.client.clockOffset(5);
    expect(Number.isFinite(rttMs)).toBe(true);
    expect(Math.abs(offsetMs)).toBeLessThanOrEqual(rttMs / 2 + 1);
    client.client.close();
  });
});
