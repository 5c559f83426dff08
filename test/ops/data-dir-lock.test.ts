// One writer per data dir. A second server on the same dir (on another port) is refused with a
// message naming the dir and the pid holding it, and so are `dlq drop` and `dlq redrive`; `replay`
// only reads and takes no lock. The lock is the kernel's: kill -9 of the holder releases it.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { runDlqCommand } from '../../server/persistence/dead-letters/dead-letter-commands.js';
import { DeadLetterStore } from '../../server/persistence/dead-letters/dead-letter-store.js';
import { connect, httpGet } from '../support/e2e.js';
import { JOURNAL_MARKETS, makeTempDir, startOnDataDir, type InProcessServer } from '../journal/journal-support.js';
import { startServerProcess } from '../../bench/lib/server-process.js';
import { startReplay } from '../replay/replay-cli.js';
import { TEST_KEYS } from '../support/test-server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempRoot(): string {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

async function start(root: string): Promise<InProcessServer> {
  const running = await startOnDataDir(root);
  cleanups.push(() => running.server.close());
  return running;
}

/** The error starting a server on `root` fails with; a server that starts anyway fails the test. */
async function refusal(root: string): Promise<Error> {
  const started = await startOnDataDir(root).then(
    (running) => running,
    (error: unknown) => error as Error,
  );
  if (started instanceof Error) return started;
  await started.server.close();
  return expect.fail('a second server started on a data dir in use');
}

async function dlq(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runDlqCommand(argv, {}, { out: (line) => lines.push(line), err: (line) => lines.push(line) });
  return { code, lines };
}

describe('the data dir lock', () => {
  it('refuses a second server on the same data dir, naming the dir and the holder pid; the first keeps its data', async () => {
    const root = tempRoot();
    const dataDir = join(root, 'data');
    const first = await start(root);
    const alice = await connect(first.url, 'token-alice');
    const ack = await alice.client.place({ sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 1_000, qty: 1 });
    alice.client.close();

    const error = await refusal(root);
    expect(error.message).toContain(`data dir ${dataDir} is in use`);
    expect(error.message).toContain(`pid ${process.pid}`);
    expect((await httpGet(`${first.httpUrl}/health`)).status).toBe(200);

    // Closing releases it: the next server starts and finds the order.
    await first.server.close();
    const second = await start(root);
    const again = await connect(second.url, 'token-alice');
    expect((await again.client.orders('BTC-USD')).orders.map((order) => order.id)).toEqual([ack.id]);
    again.client.close();
  });

  it('is held by a server process until kill -9, which releases it', async () => {
    const root = tempRoot();
    const dataDir = join(root, 'data');
    const keysFile = join(root, 'keys.json');
    const marketsFile = join(root, 'markets.json');
    writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
    writeFileSync(marketsFile, JSON.stringify(JOURNAL_MARKETS));
    const child = await startServerProcess({ dataDir, keysFile, marketsFile, snapshotEvery: 1_000_000 });
    cleanups.push(() => child.kill('SIGKILL'));

    expect((await refusal(root)).message).toContain(`pid ${child.pid}`);
    child.kill('SIGKILL');
    await child.exited;
    await start(root);
  });

  it('refuses dlq drop and redrive while a server holds the dir, and leaves the letter', async () => {
    const root = tempRoot();
    const dataDir = join(root, 'data');
    await start(root);
    const store = new DeadLetterStore({ dataDir, maxPerSink: 10, clock: systemClock, fsync: false });
    await store.add('redis', { fromSeq: 1, toSeq: 1, commands: [], books: [] }, new Error('WRONGTYPE'));
    const [letter] = await store.list();

    for (const command of ['drop', 'redrive']) {
      const result = await dlq(command, letter!.id, '--data-dir', dataDir, '--redis-url', 'redis://127.0.0.1:6379');
      expect(result.code).toBe(1);
      expect(result.lines.join('\n')).toContain(`data dir ${dataDir} is in use by another process: pid ${process.pid}`);
    }
    expect((await store.list()).map((l) => l.id)).toEqual([letter!.id]);
    // Reading is not writing: list still works.
    expect((await dlq('list', '--data-dir', dataDir)).code).toBe(0);
  });

  it('lets replay --verify read a data dir a server holds', async () => {
    const root = tempRoot();
    const dataDir = join(root, 'data');
    const running = await start(root);
    const alice = await connect(running.url, 'token-alice');
    await alice.client.place({ sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 1_000, qty: 1 });
    alice.client.close();
    expect(existsSync(join(dataDir, 'spotwire.lock'))).toBe(true);

    const replay = startReplay([dataDir, '--verify']);
    expect(await replay.exited).toBe(0);
    expect(replay.stdout).toContain('verify ok');
  });
});
