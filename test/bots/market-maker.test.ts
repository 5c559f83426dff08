// The reference market maker against a real server, run as a user runs it (npm run bot:mm): it
// quotes its levels post-only around the reference price, puts a filled slot back, prints its
// status, and on SIGINT cancels its orders and exits 0; and under a server killed with -9 and
// restarted, it reconnects by itself and goes on quoting.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_MARKETS } from '../journal/journal-support.js';
import { startServerProcess, type ServerProcess } from '../../bench/lib/server-process.js';
import { TcpProxy } from '../../bench/lib/tcp-proxy.js';
import { startTestServer, TEST_KEYS, type TestServer } from '../support/test-server.js';
import { connect, SYM, waitUntil } from '../support/e2e.js';

function startBot(
  url: string,
  extra: readonly string[] = [],
): { output: { stdout: string; stderr: string }; exited: Promise<number | null>; kill: (signal: NodeJS.Signals) => void } {
  const bot = spawn(
    'npm',
    [
      'run',
      '-s',
      'bot:mm',
      '--',
      '--url',
      url,
      '--token',
      'token-carol',
      '--sym',
      SYM,
      '--ref-px',
      '5000000',
      '--levels',
      '2',
      '--spread-ticks',
      '100',
      '--step-ticks',
      '50',
      '--qty',
      '1000',
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output = { stdout: '', stderr: '' };
  bot.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  bot.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => bot.on('close', resolve));
  return { output, exited, kill: (signal) => bot.kill(signal) };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

describe('bot:mm', () => {
  it('quotes 2 levels a side, requotes a filled slot, and cancels everything on SIGINT', async () => {
    const bot = startBot(server.url, ['--dead-man-ms', '3000']);
    const { output, exited } = bot;
    const quotes = (): { side: string; px: number | null }[] =>
      server.server.engine.openOrders('carol', SYM).map((o) => ({ side: o.side, px: o.px }));
    try {
      await waitUntil(() => quotes().length === 4, `the bot's 4 quotes (stderr: ${output.stderr})`, 30_000);
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
      await waitUntil(
        () => quotes().length === 4 && /fills [1-9]/.test(output.stdout),
        'the requote and a status line with the fill',
        15_000,
      );
      expect(output.stdout).toMatch(/BTC-USD position -0\.001000 BTC {2}pnl \S+ USD {2}open 4 {2}fills 1/);
    } finally {
      bot.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output.stdout).toMatch(/stopped: orders canceled/);
    expect(quotes()).toEqual([]);
  }, 60_000);

  it('survives kill -9 and a restart of the server: reconnects, requotes a slot filled after the restart, and still cancels on SIGINT', async () => {
    // A child server behind a fixed front port (see test/e2e/reconnect-kill.test.ts for why).
    const root = mkdtempSync(join(tmpdir(), 'spotwire-mm-restart-'));
    const keysFile = join(root, 'keys.json');
    const marketsFile = join(root, 'markets.json');
    writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
    writeFileSync(marketsFile, JSON.stringify(JOURNAL_MARKETS));
    const serverOptions = { dataDir: join(root, 'data'), keysFile, marketsFile, snapshotEvery: 1_000_000 };
    let child: ServerProcess = await startServerProcess(serverOptions);
    const front = await TcpProxy.start(child.port);
    const bot = startBot(front.url, ['--dead-man-ms', '5000']);
    try {
      await waitUntil(() => /open 4/.test(bot.output.stdout), `the bot's 4 quotes (stderr: ${bot.output.stderr})`, 30_000);
      child.kill('SIGKILL');
      await child.exited;
      child = await startServerProcess(serverOptions);
      front.targetPort = child.port;
      await waitUntil(() => /resumed/.test(bot.output.stderr), `the bot's resume (stderr: ${bot.output.stderr})`, 30_000);
      expect(bot.output.stderr).toMatch(/connection lost \(1006\): reconnect attempt 1/);
      expect(bot.output.stderr).toMatch(/could not be replayed .*restarted/);
      const again = await connect(front.url, 'token-carol');
      const bob = await connect(front.url, 'token-bob');
      try {
        // The quotes came back from the journal; bob takes the best ask and the bot puts it back.
        expect((await again.client.orders(SYM)).orders.map((o) => o.px).sort()).toEqual([4_999_900, 4_999_950, 5_000_050, 5_000_100]);
        await bob.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 5_000_050, qty: 1_000, tif: 'ioc' });
        await waitUntil(
          () =>
            /fills [1-9]/.test(bot.output.stdout) &&
            /open 4/.test(
              bot.output.stdout
                .split('\n')
                .filter((l) => l.length > 0)
                .at(-1) ?? '',
            ),
          'the requote after the fill',
          15_000,
        );
        expect((await again.client.orders(SYM)).orders).toHaveLength(4);
      } finally {
        bot.kill('SIGINT');
      }
      expect(await bot.exited).toBe(0);
      expect(bot.output.stdout).toMatch(/stopped: orders canceled/);
      expect((await again.client.orders(SYM)).orders).toEqual([]);
      again.client.close();
      bob.client.close();
    } finally {
      bot.kill('SIGKILL');
      await front.close();
      child.kill('SIGKILL');
      await child.exited;
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);
});
