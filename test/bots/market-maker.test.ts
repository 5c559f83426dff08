// The reference market maker against a real server, run as a user runs it (npm run bot:mm): it
// quotes its levels post-only around the reference price, puts a filled slot back, prints its
// status, and on SIGINT cancels its orders and exits 0.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { connect, SYM, waitUntil } from '../support/e2e.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('bot:mm', () => {
  it('quotes 2 levels a side, requotes a filled slot, and cancels everything on SIGINT', async () => {
    const bot = spawn('npm', ['run', '-s', 'bot:mm', '--', '--url', server.url, '--token', 'token-carol', '--sym', SYM, '--ref-px', '5000000', '--levels', '2', '--spread-ticks', '100', '--step-ticks', '50', '--qty', '1000', '--dead-man-ms', '3000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    bot.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    bot.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => bot.on('close', resolve));
    const quotes = (): { side: string; px: number | null }[] => server.server.engine.openOrders('carol', SYM).map((o) => ({ side: o.side, px: o.px }));
    try {
      await waitUntil(() => quotes().length === 4, `the bot's 4 quotes (stderr: ${stderr})`, 30_000);
      expect(quotes().sort((a, b) => a.px! - b.px!)).toEqual([
        { side: 'buy', px: 4_999_900 },
        { side: 'buy', px: 4_999_950 },
        { side: 'sell', px: 5_000_050 },
        { side: 'sell', px: 5_000_100 },
      ]);
      // Bob takes the best ask whole: the slot is quoted again.
      const bob = await connect(server.url, 'token-bob');
      await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 5_000_050, qty: 1_000, tif: 'ioc' });
      bob.client.close();
      await waitUntil(() => quotes().length === 4 && /fills [1-9]/.test(stdout), 'the requote and a status line with the fill', 15_000);
      expect(stdout).toMatch(/BTC-USD position -0\.001000 BTC {2}pnl \S+ USD {2}open 4 {2}fills 1/);
    } finally {
      bot.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/stopped: orders canceled/);
    expect(quotes()).toEqual([]);
  }, 60_000);
});
