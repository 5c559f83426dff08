// A gateway that falls behind the bus stream's trim (its process stopped with SIGSTOP while the
// core publishes more records than BUS_STREAM_MAXLEN keeps): once it runs again it sees the jump
// in seqs, and exits 75 so that it is started again; started again, it catches up from the core's
// snapshot and shows the same book as a gateway that never stopped.
import { afterAll, describe, expect, it } from 'vitest';
import { clusterProcesses } from '../support/cluster-processes.js';
import { connect, SYM } from '../support/e2e.js';

const cluster = clusterProcesses('stale', { BUS_STREAM_MAXLEN: '20' });
const startRole = cluster.startRole;

afterAll(() => cluster.stop());

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
