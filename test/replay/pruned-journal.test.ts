// A session captured without --keep-journal: the server retired the segments its snapshots cover,
// so replay must start from the oldest snapshot the remaining journal continues.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../server/journal/snapshot-store.js';
import { barrier, connect, type Recorded } from '../support/e2e.js';
import { captureSession, SYMS, type CapturedSession } from './capture-session.js';
import { runReplay, startReplay, type ReplayProcess } from './replay-cli.js';
import { listSegments } from '../../server/journal/file-names.js';

let session: CapturedSession;
let replay: ReplayProcess | null = null;
let client: Recorded | null = null;

beforeAll(async () => {
  session = await captureSession({ rounds: 100, seed: 23, keepJournal: false });
}, 120_000);

afterAll(async () => {
  client?.client.close();
  await replay?.stop();
  session?.cleanup();
});

/** The oldest snapshot the journal continues from: where any replay of this session begins. */
function oldestSnapshot(): { seq: number; nextTradeIds: Map<string, number> } {
  const name = readdirSync(join(session.dataDir, 'snapshots')).sort()[0]!;
  const contents = decodeSnapshot(readFileSync(join(session.dataDir, 'snapshots', name)));
  return { seq: contents.journalSeq, nextTradeIds: new Map(contents.engine.markets.map((m) => [m.sym, m.nextTradeId])) };
}

describe('replay of a journal whose early segments were retired', () => {
  it('really lost its first segment', () => {
    const first = listSegments(join(session.dataDir, 'journal'))[0]!;
    expect(Number(first.slice(0, 16))).toBeGreaterThan(1);
  });

  it('--verify starts from the oldest snapshot and arrives at the live state', async () => {
    const { code, stdout } = await runReplay([session.dataDir, '--verify']);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain(`verify ok: ${session.lastSeq - oldestSnapshot().seq} commands`);
    expect(stdout).toContain(`state hash ${session.stateHash}`);
  });

  it('--serve starts from the oldest snapshot and ends on the live book and trades', async () => {
    const start = oldestSnapshot();
    replay = startReplay([session.dataDir, '--serve', '--port', '0', '--speed', 'max', '--wait-subs', '4']);
    const [, port, from] = await replay.waitFor(/serving ws:\/\/127\.0\.0\.1:(\d+)\/ws from journal sequence (\d+)/);
    expect(Number(from)).toBe(start.seq + 1);
    client = await connect(`ws://127.0.0.1:${port}/ws`);
    for (const sym of SYMS) {
      await client.client.subscribeBook(sym, { depth: 1000 });
      await client.client.subscribeTrades(sym, () => undefined);
    }
    await replay.waitFor(/replay done: published journal sequences \d+\.\.\d+/);
    await barrier(client);
    for (const sym of SYMS) {
      expect(client.client.book(sym)!.seq, sym).toBe(session.bookSeqs.get(sym));
      expect(client.client.book(sym)!.bids(), sym).toEqual(session.books.get(sym)!.bids);
      expect(client.client.book(sym)!.asks(), sym).toEqual(session.books.get(sym)!.asks);
    }
    expect(client.trades).toEqual(session.trades.filter((t) => t.tradeId >= start.nextTradeIds.get(t.sym)!));
    expect(await replay.stop()).toBe(0);
  });

  it('refuses --from before what the journal still holds, saying where it starts', async () => {
    const { code, stderr } = await runReplay([session.dataDir, '--serve', '--port', '0', '--from', '1']);
    expect(code).toBe(1);
    expect(stderr).toContain(`starts at sequence ${oldestSnapshot().seq + 1}`);
  });
});
