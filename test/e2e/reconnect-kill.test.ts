// The reconnecting client under a server that is killed (kill -9) while it trades and restarted
// on the same port with the same data dir: each time the client comes back by itself, finds the
// stream's gap (a new server life), refetches its snapshots, and its view — open orders, balances,
// the fills of this server life — equals what a fresh connection sees. A dead-man switch the app
// armed is armed again on the restarted server, which forgot it.
//
// The clients connect through a plain TCP forwarder on a fixed port, and the server restarts on
// a new port behind it: the uWS.js build in use sets no SO_REUSEADDR, so a server cannot bind the
// port of a killed one while that one's connections sit in TIME_WAIT (60 s on Linux). What the
// clients see is the server's: its sockets closing, then refused connections until it is back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JOURNAL_MARKETS } from '../journal/journal-support.js';
import { startServerProcess, type ServerProcess } from '../../bench/lib/server-process.js';
import { mulberry32, randomInt } from '../../bench/lib/prng.js';
import { ReconnectTrader, viewMismatches } from '../../bench/lib/reconnect-trader.js';
import { TcpProxy } from '../../bench/lib/tcp-proxy.js';
import { TEST_KEYS } from '../support/test-server.js';
import { SYM, waitUntil } from '../support/e2e.js';
import type { Exec } from '../../protocol/messages.js';

const KILLS = 4;
const MID = 5_000_000;
const root = mkdtempSync(join(tmpdir(), 'spotwire-reconnect-kill-'));
const keysFile = join(root, 'keys.json');
const marketsFile = join(root, 'markets.json');
writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
writeFileSync(marketsFile, JSON.stringify(JOURNAL_MARKETS));
let server: ServerProcess | undefined;
let front: TcpProxy | undefined;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the server (again) on the data dir; resolves with the URL the clients use. */
async function start(): Promise<string> {
  server = await startServerProcess({
    dataDir: join(root, 'data'),
    keysFile,
    marketsFile,
    snapshotEvery: 1_000_000,
    env: { CLOSED_ORDER_RETENTION: '100000', PRIVATE_STREAM_RETENTION: '100000' },
  });
  front ??= await TcpProxy.start(server.port);
  front.targetPort = server.port;
  return front.url;
}

async function killAndRestart(): Promise<void> {
  server!.kill('SIGKILL');
  await server!.exited;
  await start();
}

afterAll(async () => {
  await front?.close();
  if (server !== undefined) {
    server.kill('SIGKILL');
    await server.exited;
  }
  rmSync(root, { recursive: true, force: true });
});

describe('reconnect across kill -9 and restart', () => {
  it(`${KILLS} kills under trading: each time the client resumes by itself and its view equals the server's`, async () => {
    const random = mulberry32(9_001);
    const url = await start();
    const alice = await ReconnectTrader.start({ url, token: 'token-alice', sym: SYM, random: mulberry32(11), midPx: MID, takes: true });
    const bob = await ReconnectTrader.start({ url, token: 'token-bob', sym: SYM, random: mulberry32(12), midPx: MID, takes: true });
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        alice.run();
        bob.run();
        await sleep(randomInt(random, 50, 300));
        const resumes = [alice.record.resumes, bob.record.resumes];
        await killAndRestart();
        await waitUntil(
          () => alice.record.resumes > resumes[0]! && bob.record.resumes > resumes[1]!,
          `both resumed after kill ${kill}`,
          20_000,
        );
        await sleep(randomInt(random, 0, 50));
        await alice.stop();
        await bob.stop();
        expect(await viewMismatches(alice, url, 'token-alice'), `after kill ${kill}`).toEqual([]);
        expect(await viewMismatches(bob, url, 'token-bob'), `after kill ${kill}`).toEqual([]);
      }
      expect(alice.record.problems).toEqual([]);
      expect(bob.record.problems).toEqual([]);
      // A restart is a new server life: every resume finds a gap and falls back to snapshots.
      expect(alice.record.gaps).toBe(KILLS);
      expect(alice.record.resumes).toBe(KILLS);
      expect(alice.fills.size + bob.fills.size).toBeGreaterThan(0);
    } finally {
      alice.client.close();
      bob.client.close();
    }
  }, 120_000);

  it('re-arms the dead-man switch after a restart: the orders are canceled with reason timeout', async () => {
    const url = front!.url;
    const alice = await ReconnectTrader.start({ url, token: 'token-carol', sym: SYM, random: mulberry32(13), midPx: MID, takes: false });
    const timeouts: Exec[] = [];
    alice.client.onExec((e) => {
      if (e.status === 'canceled' && e.reason === 'timeout') timeouts.push(e);
    });
    try {
      await alice.client.cancelAll();
      await alice.client.place({ sym: SYM, side: 'buy', kind: 'limit', px: 4_000_000, qty: 5, post: true, cid: 'dead-man-1' });
      await alice.client.cancelAfter(1_500);
      const resumes = alice.record.resumes;
      await killAndRestart();
      await waitUntil(() => alice.record.resumes > resumes, 'the resume after the restart', 20_000);
      // The restarted server had no switch; only the client's re-arm can cancel the order now.
      expect(alice.client.openOrders(SYM).map((o) => o.cid)).toEqual(['dead-man-1']);
      await waitUntil(() => timeouts.length === 1, 'the dead-man switch to fire', 10_000);
      expect(timeouts[0]).toMatchObject({ cid: 'dead-man-1' });
      expect(alice.client.openOrders()).toEqual([]);
      expect(await viewMismatches(alice, url, 'token-carol')).toEqual([]);
    } finally {
      alice.client.close();
    }
  }, 60_000);
});
