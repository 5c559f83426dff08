// The size rule for snapshots counts the journal since the newest snapshot, not the commands of
// one process life: a server restarted (or crash-looping) before it reaches N commands in a life
// still snapshots once the journal holds N, and at start when it already does.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataPaths } from '../../server/server.js';
import { connect, waitUntil } from '../support/e2e.js';
import { TEST_FUNDING_DEPOSITS } from '../support/test-server.js';
import { makeTempDir, startOnDataDir, type InProcessServer } from './journal-support.js';
import { listSnapshots } from '../../server/journal/file-names.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Only the size rule: the time rule would snapshot on its own in a slow run. */
const NEVER_BY_TIME = Number.MAX_SAFE_INTEGER;

async function life(root: string, snapshotEveryCommands: number, places: number): Promise<InProcessServer> {
  const running = await startOnDataDir(root, { snapshotEveryCommands, snapshotEveryMs: NEVER_BY_TIME });
  const alice = await connect(running.url, 'token-alice');
  for (let i = 0; i < places; i++) await alice.client.place({ sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 1_000 + i, qty: 1 });
  alice.client.close();
  return running;
}

async function snapshotSeqs(root: string): Promise<number[]> {
  return (await listSnapshots(dataPaths(join(root, 'data')).snapshotDir)).map((name) => Number(name.slice(0, 16)));
}

describe('snapshots by journal size across restarts', () => {
  // The first life also journals the keys' funding deposits (seqs 1..F) before any order.
  const F = TEST_FUNDING_DEPOSITS;

  it('lives of 3 orders each with a rule of F+5: the second life snapshots at seq F+5', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    await (await life(dir.path, F + 5, 3)).server.close();
    expect(await snapshotSeqs(dir.path)).toEqual([]);

    const second = await life(dir.path, F + 5, 3);
    cleanups.push(() => second.server.close());
    await waitUntil(() => second.server.journal.snapshotsWritten === 1, 'a snapshot');
    expect(await snapshotSeqs(dir.path)).toEqual([F + 5]);
  });

  it('a journal already past the rule at start is snapshotted at start, before any new command', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    await (await life(dir.path, 1_000, 6)).server.close();
    expect(await snapshotSeqs(dir.path)).toEqual([]);

    const second = await life(dir.path, 5, 0);
    cleanups.push(() => second.server.close());
    await waitUntil(() => second.server.journal.snapshotsWritten === 1, 'a snapshot');
    expect(await snapshotSeqs(dir.path)).toEqual([F + 6]);
  });
});
