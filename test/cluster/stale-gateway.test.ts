// A gateway that falls behind the bus stream's trim (its process stopped with SIGSTOP while the
// core publishes more records than BUS_STREAM_MAXLEN keeps): once it runs again it sees the jump
// in seqs, and exits 75 so that it is started again; started again, it catches up from the core's
// snapshot and shows the same book as a gateway that never stopped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../bench/lib/server-process.js';
import { connect, SYM } from '../support/e2e.js';
import { BUS_URL } from '../support/test-cluster.js';
import { TEST_KEYS } from '../support/test-server.js';

const root = mkdtempSync(join(tmpdir(), 'spotwire-stale-'));
const keysFile = join(root, 'keys.json');
const marketsFile = join(root, 'markets.json');
writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
writeFileSync(marketsFile, JSON.stringify([{ sym: SYM, base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6 }]));
const prefix = `spotwire-stale-${randomBytes(4).toString('hex')}:`;
const processes: ServerProcess[] = [];

async function startRole(role: 'core' | 'gateway'): Promise<ServerProcess> {
  const started = await startServerProcess({
    dataDir: join(root, 'data'),
    keysFile,
    marketsFile,
    snapshotEvery: 1_000_000,
    args: ['--role', role, '--bus', BUS_URL, '--redis-prefix', prefix],
    env: { BUS_STREAM_MAXLEN: '20' },
  });
  processes.push(started);
  return started;
}

afterAll(async () => {
  for (const started of processes) started.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  const redis = new Redis(BUS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(root, { recursive: true, force: true });
});

async function bookOn(url: string): Promise<string> {
  const viewer = await connect(url);
  const book = await viewer.client.subscribeBook(SYM, { depth: 50 });
  const levels = JSON.stringify({ seq: book.seq, bids: book.bids(), asks: book.asks() });
  viewer.client.close();
  return levels;
}

describe('a gateway behind the stream', () => {
  it('exits 75, and started again catches up from the core snapshot', async () => {
    await startRole('core');
    const active = await startRole('gateway');
    const behind = await startRole('gateway');
    const trader = await connect(active.url, 'token-alice');
    process.kill(behind.pid, 'SIGSTOP');
    // Far more records than the stream keeps (each acked place is one record).
    for (let i = 0; i < 600; i++) await trader.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 100 + (i % 40), qty: 1 });
    process.kill(behind.pid, 'SIGCONT');
    const exit = await Promise.race([behind.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))]);
    expect(exit).toEqual({ code: 75, signal: null });
    expect(behind.warnings.some((w) => String(w.msg).includes('stale'))).toBe(true);
    const again = await startRole('gateway');
    await trader.client.ping();
    expect(await bookOn(again.url)).toEqual(await bookOn(active.url));
    trader.client.close();
  }, 60_000);
});
