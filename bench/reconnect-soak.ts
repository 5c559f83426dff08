// soak: the reconnecting client's tests (test/e2e/reconnect-*.test.ts), for longer. Two accounts
// trade on reconnecting clients against a child server (own data dir); alice's connection is cut
// by a TCP proxy at random moments, and every `--restart-every`-th kill is a kill -9 of the server
// instead, restarted on the same data dir behind a fixed front port (the uWS.js build cannot
// rebind a killed server's port while its connections are in TIME_WAIT). After each kill, once
// both clients have resumed, each one's view (open orders, balances, fills of this server life)
// and alice's book are compared with what a fresh connection sees. Prints, never asserts.
// Run: npm run bench:reconnect-soak -- [--kills 1000] [--seed 1] [--restart-every 50] [--max-ms 60]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { SpotwireClient, type WebSocketConstructor } from '../protocol/client.js';
import { startServerProcess, type ServerProcess } from './lib/server-process.js';
import { mulberry32, randomInt } from './lib/prng.js';
import { ReconnectTrader, viewMismatches } from './lib/reconnect-trader.js';
import { TcpProxy } from './lib/tcp-proxy.js';
import { SOAK_MARKETS, soakKeys } from './lib/soak-setup.js';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    'restart-every': { type: 'string', default: '50' },
    'max-ms': { type: 'string', default: '60' },
  },
});
const kills = Number(args.kills);
const restartEvery = Number(args['restart-every']);
const maxMs = Number(args['max-ms']);
const seed = Number(args.seed);
const SYM = 'BTC-USD';
const MID = 5_000_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Whether alice's LocalBook differs from a fresh subscriber's. */
async function bookMismatch(alice: SpotwireClient, url: string): Promise<string | null> {
  const fresh = await SpotwireClient.connect(url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
  try {
    const truth = await fresh.subscribeBook(SYM, { depth: 20 });
    await alice.ping();
    await until(() => alice.book(SYM)?.synced === true, "alice's book to resync");
    const mine = alice.book(SYM)!;
    const a = JSON.stringify({ bids: mine.bids(), asks: mine.asks() });
    const b = JSON.stringify({ bids: truth.bids(), asks: truth.asks() });
    return a === b ? null : `book: client ${a}, server ${b}`;
  } finally {
    fresh.close();
  }
}

const root = mkdtempSync(join(tmpdir(), 'spotwire-reconnect-soak-'));
writeFileSync(join(root, 'keys.json'), JSON.stringify(soakKeys(['alice', 'bob'])));
writeFileSync(join(root, 'markets.json'), JSON.stringify(SOAK_MARKETS));
const serverOptions = {
  dataDir: join(root, 'data'),
  keysFile: join(root, 'keys.json'),
  marketsFile: join(root, 'markets.json'),
  snapshotEvery: 5_000,
  env: { CLOSED_ORDER_RETENTION: '1000000', PRIVATE_STREAM_RETENTION: '100000' },
};
let server: ServerProcess = await startServerProcess(serverOptions);
const front = await TcpProxy.start(server.port);
const cutter = await TcpProxy.start(front.port);
const started = performance.now();
const seconds = (): string => ((performance.now() - started) / 1000).toFixed(0);
const random = mulberry32(seed);
const tally = { drops: 0, restarts: 0, viewMismatches: 0, bookMismatches: 0, gapsOnDrops: 0 };
const samples: string[] = [];
let alice: ReconnectTrader | undefined;
let bob: ReconnectTrader | undefined;
try {
  alice = await ReconnectTrader.start({
    url: cutter.url,
    token: 'token-alice',
    sym: SYM,
    random: mulberry32(seed + 1),
    midPx: MID,
    takes: true,
  });
  bob = await ReconnectTrader.start({
    url: front.url,
    token: 'token-bob',
    sym: SYM,
    random: mulberry32(seed + 2),
    midPx: MID,
    takes: true,
  });
  await alice.client.subscribeBook(SYM, { depth: 20 });
  for (let kill = 1; kill <= kills; kill++) {
    alice.run();
    bob.run();
    await sleep(randomInt(random, 2, maxMs));
    const before = { alice: alice.record.resumes, bob: bob.record.resumes, gaps: alice.record.gaps };
    const restart = restartEvery > 0 && kill % restartEvery === 0;
    if (restart) {
      server.kill('SIGKILL');
      await server.exited;
      server = await startServerProcess(serverOptions);
      front.targetPort = server.port;
      tally.restarts++;
    } else {
      const hold = random();
      if (hold < 0.25) cutter.holdReplies = true;
      else if (hold < 0.4) cutter.holdRequests = true;
      if (hold < 0.4) await sleep(randomInt(random, 1, 10));
      cutter.dropAll();
      tally.drops++;
    }
    await until(
      () => alice!.record.resumes > before.alice && (!restart || bob!.record.resumes > before.bob),
      `the resume after kill ${kill}`,
    );
    if (!restart) tally.gapsOnDrops += alice.record.gaps - before.gaps;
    await alice.stop();
    await bob.stop();
    const found = [...(await viewMismatches(alice, front.url, 'token-alice')), ...(await viewMismatches(bob, front.url, 'token-bob'))];
    tally.viewMismatches += found.length;
    const book = await bookMismatch(alice.client, front.url);
    if (book !== null) tally.bookMismatches++;
    for (const line of [...found, ...(book === null ? [] : [book])])
      if (samples.length < 20) samples.push(`kill ${kill}: ${line.slice(0, 300)}`);
    if (kill % 50 === 0) console.log(`${seconds()} s: ${kill} kills, ${tally.viewMismatches + tally.bookMismatches} mismatches`);
  }
  const problems = [...alice.record.problems, ...bob.record.problems];
  const r = alice.record;
  console.log(`kills                        ${kills} (${tally.drops} connection cuts by the proxy, ${tally.restarts} kill -9 + restart)`);
  console.log(`resumes                      alice ${r.resumes}, bob ${bob.record.resumes}`);
  console.log(`reconnect attempts           alice ${r.attempts}, bob ${bob.record.attempts}`);
  console.log(`restores cut after login     alice ${r.restoresCutAfterLogin}, bob ${bob.record.restoresCutAfterLogin}`);
  console.log(`gaps found                   ${r.gaps} (${tally.gapsOnDrops} on connection cuts; a restart is always one)`);
  console.log(`private messages replayed    ${r.replayed}`);
  console.log(`fills seen (this life)       alice ${alice.fills.size}, bob ${bob.fills.size}`);
  console.log(
    `requests lost in flight      ${r.connectionLost}; places resolved by cid: ${r.resolvedFound} found, ${r.resolvedUnknown} never received`,
  );
  console.log(`view mismatches              ${tally.viewMismatches}`);
  console.log(`book mismatches              ${tally.bookMismatches}`);
  console.log(`stream problems              ${problems.length} (pseq out of order or repeated, fills seen twice, unexpected errors)`);
  for (const line of [...samples, ...problems.slice(0, 20)]) console.log(`  ${line}`);
  console.log(`elapsed                      ${seconds()} s`);
} finally {
  alice?.client.close();
  bob?.client.close();
  await cutter.close();
  await front.close();
  server.kill('SIGKILL');
  await server.exited;
  rmSync(root, { recursive: true, force: true });
}
