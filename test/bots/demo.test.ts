// `npm run demo` as a newcomer runs it: it prints the page's address and a login token, the page
// is served there, both markets trade within seconds (the market makers quote, the takers take),
// the token logs in to a funded account, it keeps its data in a temporary dir of its own (never
// ./data), and Ctrl-C stops everything, cancels the quotes and removes that dir.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, SYM, SYM2, waitUntil, type Recorded } from '../support/e2e.js';

const clients: Recorded[] = [];
afterAll(() => {
  for (const c of clients) c.client.close();
});

describe('npm run demo', () => {
  it('prints a URL and a token, trades on both markets within seconds, and stops clean on SIGINT', async () => {
    const demo = spawn('npm', ['run', '-s', 'demo', '--', '--port', '0', '--takers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    demo.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.on('close', resolve));
    let dataDir = '';
    try {
      await waitUntil(() => stdout.includes('Ctrl-C stops it.'), `the demo's banner (stderr: ${stderr})`, 45_000);
      const page = /page: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
      const token = /login: +(\S+)/.exec(stdout)?.[1];
      const ws = /ws: +(ws:\/\/\S+)/.exec(stdout)?.[1];
      dataDir = /data: +(\S+)/.exec(stdout)?.[1] ?? '';
      expect(page).toBeDefined();
      expect(token).toBe('demo-token');
      expect(dataDir.startsWith(tmpdir())).toBe(true);
      expect(stdout).toContain('(removed on exit)');

      const html = await fetch(page!, { headers: { accept: 'text/html' } });
      expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');

      const watcher = await connect(ws!);
      clients.push(watcher);
      await watcher.client.subscribeTrades(SYM, () => undefined);
      await watcher.client.subscribeTrades(SYM2, () => undefined);
      const btc = await watcher.client.subscribeBook(SYM);
      await waitUntil(() => new Set(watcher.trades.map((t) => t.sym)).size === 2, 'trades on both markets', 20_000);
      expect(btc.bestBid).toBeDefined();
      expect(btc.bestAsk).toBeDefined();

      const user = await connect(ws!, token);
      clients.push(user);
      const { balances } = await user.client.balances();
      expect(balances).toEqual(
        expect.arrayContaining([
          { asset: 'USD', available: 100_000 * 1e8, hold: 0 },
          { asset: 'BTC', available: 2 * 1e6, hold: 0 },
          { asset: 'ETH', available: 50 * 1e4, hold: 0 },
        ]),
      );
    } finally {
      demo.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('demo stopped');
    expect(dataDir).not.toBe('');
    expect(existsSync(dataDir)).toBe(false);
  }, 90_000);
});
