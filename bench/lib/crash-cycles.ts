// The kill -9 cycle: start the real server on the data dir (recovering), reconnect every account,
// check the recovered state against the models, trade for a random while with pipelined requests,
// SIGKILL, repeat. Shared by test/journal/crash.test.ts and bench/soak-crash.ts. The child is
// always killed on the way out, whatever happens.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BalanceView, MarketInfo, OrderView } from '../../protocol/messages.js';
import WebSocket from 'ws';
import { SpotwireClient, type WebSocketConstructor } from '../../protocol/client.js';
import { mulberry32, randomInt } from './prng.js';
import { checkBalances, checkRecovered, type CheckStats } from './crash-check.js';
import { FEES_ACCOUNT } from '../../protocol/constants.js';
import { CrashTrader } from './crash-trader.js';
import { CrashTreasurer } from './crash-treasurer.js';
import { deriveAssets } from '../../server/engine/assets.js';
import { DEFAULTS } from '../../server/config.js';
import { createCommandCodec } from '../../server/journal/command-codec.js';
import { recover } from '../../server/journal/recovery.js';
import { dataPaths } from '../../server/server.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { soakKeys } from './soak-setup.js';

export interface CrashRunOptions {
  readonly root: string;
  readonly markets: readonly MarketInfo[];
  readonly accounts: readonly string[];
  readonly kills: number;
  readonly seed: number;
  readonly snapshotEvery: number;
  /** Trading time before each kill, in ms. */
  readonly tradeMs: readonly [number, number];
  /** Every n-th kill waits until every request is answered (nothing is then uncertain). */
  readonly quiesceEvery: number;
  /** Stops at the first restart whose checks fail (tests); soaks go on and count. */
  readonly stopOnViolation: boolean;
  readonly onCycle?: (cycle: number, result: CrashRunResult) => void;
}

export interface CrashRunResult {
  kills: number;
  quiescedKills: number;
  tornTails: number;
  placesAcked: number;
  fillsReported: number;
  readonly stats: CheckStats;
  readonly violations: string[];
  /** Spawn to listening, recovery included, per start. */
  readonly startMs: number[];
  /** Exit of the final SIGTERM: 0 when the graceful stop worked. */
  finalExit: { code: number | null; signal: NodeJS.Signals | null } | null;
  transfersAcked: number;
}

/**
 * Every balance the restarted server reports equals what a fresh replay of its data dir gives
 * (read-only: the server holds the data dir, the replay only reads it).
 */
async function checkAgainstReplay(
  markets: readonly MarketInfo[],
  dataDir: string,
  balances: ReadonlyMap<string, BalanceView[]>,
  violations: string[],
): Promise<void> {
  const { journalDir, snapshotDir } = dataPaths(dataDir);
  const replayed = await recover({
    journalDir,
    snapshotDir,
    markets,
    limits: { maxOpenOrdersPerAccount: DEFAULTS.maxOpenOrdersPerAccount },
    codec: createCommandCodec(),
    log: { info: () => undefined, warn: () => undefined },
    truncateTornTail: false,
  });
  for (const [account, views] of balances) {
    const fresh = replayed.engine.balances(account);
    if (JSON.stringify(fresh) !== JSON.stringify(views))
      violations.push(`${account}: balances ${JSON.stringify(views)}, a fresh replay gives ${JSON.stringify(fresh)}`);
  }
}

export async function runCrashCycles(options: CrashRunOptions): Promise<CrashRunResult> {
  const keysFile = join(options.root, 'keys.json');
  const marketsFile = join(options.root, 'markets.json');
  writeFileSync(
    keysFile,
    JSON.stringify([...soakKeys(options.accounts), { token: 'token-crash-admin', account: 'crash-admin', role: 'admin' }]),
  );
  writeFileSync(marketsFile, JSON.stringify(options.markets));
  const serverOptions = { dataDir: join(options.root, 'data'), keysFile, marketsFile, snapshotEvery: options.snapshotEvery };
  const syms = options.markets.map((m) => m.sym);
  const random = mulberry32(options.seed);
  const traders = options.accounts.map((account) => new CrashTrader(account, `token-${account}`, syms));
  const treasurer = new CrashTreasurer(
    'token-crash-admin',
    options.accounts,
    deriveAssets(options.markets).map((a) => a.asset),
  );
  const result: CrashRunResult = {
    kills: 0,
    quiescedKills: 0,
    tornTails: 0,
    placesAcked: 0,
    fillsReported: 0,
    stats: { certain: 0, uncertain: 0, phantoms: 0 },
    violations: [],
    startMs: [],
    finalExit: null,
    transfersAcked: 0,
  };
  let live: ServerProcess | null = null;
  try {
    for (let cycle = 0; cycle <= options.kills; cycle++) {
      const spawnedAt = performance.now();
      live = await startServerProcess(serverOptions);
      result.startMs.push(performance.now() - spawnedAt);
      result.tornTails += live.warnings.filter((w) => /torn/.test(String(w.msg))).length;
      await Promise.all(traders.map((trader) => trader.connect(live!.url)));
      await treasurer.connect(live.url);
      const reconciled = await treasurer.reconcile();
      const recovered = new Map<CrashTrader, OrderView[]>();
      const balances = new Map<string, BalanceView[]>();
      for (const trader of traders) {
        recovered.set(trader, (await trader.client!.orders()).orders);
        balances.set(trader.account, (await trader.client!.balances()).balances);
      }
      const watcher = await SpotwireClient.connect(live.url, {
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        timeoutMs: 15_000,
      });
      await watcher.login('token-crash-admin');
      balances.set(FEES_ACCOUNT, (await watcher.balances(FEES_ACCOUNT)).balances);
      const books = new Map<string, { bids: [number, number][]; asks: [number, number][] }>();
      for (const sym of syms) {
        const book = await watcher.subscribeBook(sym, { depth: 1_000 });
        books.set(sym, { bids: book.bids(), asks: book.asks() });
      }
      watcher.close();
      const before = result.violations.length;
      checkRecovered(syms, traders, recovered, books, result.violations, result.stats);
      result.violations.push(...reconciled);
      checkBalances(options.markets, traders, recovered, balances, treasurer.net, result.violations);
      await checkAgainstReplay(options.markets, serverOptions.dataDir, balances, result.violations);
      for (const trader of traders) result.violations.push(...trader.violations.splice(0));
      if (result.violations.length > before) {
        result.violations.splice(before, 0, `after restart ${cycle}:`);
        if (options.stopOnViolation) break;
      }

      // Ids and trade ids seen so far by anyone are floors for everything after this restart.
      const ids = new Map<string, number>();
      const tradeIds = new Map<string, number>();
      for (const trader of traders) {
        for (const [sym, id] of trader.maxAckedId) ids.set(sym, Math.max(ids.get(sym) ?? 0, id));
        for (const [sym, id] of trader.maxTradeId) tradeIds.set(sym, Math.max(tradeIds.get(sym) ?? 0, id));
      }
      for (const trader of traders) {
        trader.resetTo(recovered.get(trader)!);
        trader.setFloors(ids, tradeIds);
      }
      options.onCycle?.(cycle, result);
      if (cycle === options.kills) break;

      let running = true;
      const lanes = traders.flatMap((trader) => [trader.lane(random, () => running), trader.lane(random, () => running)]);
      lanes.push(treasurer.lane(random, () => running));
      await new Promise((resume) => setTimeout(resume, randomInt(random, options.tradeMs[0], options.tradeMs[1])));
      const quiesce = cycle % options.quiesceEvery === options.quiesceEvery - 1;
      if (quiesce) {
        running = false;
        await Promise.all(lanes);
        result.quiescedKills++;
      }
      live.kill('SIGKILL');
      const exit = await live.exited;
      live = null;
      if (exit.signal !== 'SIGKILL') result.violations.push(`cycle ${cycle}: server exited with ${JSON.stringify(exit)} before the kill`);
      result.kills++;
      running = false;
      await Promise.all(lanes);
      for (const trader of traders) trader.client!.close();
      treasurer.close();
      if (quiesce && traders.some((t) => t.inFlight.size > 0)) result.violations.push(`cycle ${cycle}: requests in flight after quiescing`);
    }
    for (const trader of traders) trader.client?.close();
    treasurer.close();
    if (live) {
      // Graceful stop at the end: SIGTERM flushes and exits 0.
      live.kill('SIGTERM');
      result.finalExit = await live.exited;
      live = null;
    }
  } finally {
    for (const trader of traders) trader.client?.close();
    if (live) {
      live.kill('SIGKILL');
      await live.exited;
    }
  }
  result.placesAcked = traders.reduce((sum, t) => sum + t.placesAcked, 0);
  result.fillsReported = traders.reduce((sum, t) => sum + t.fillsReported, 0);
  result.transfersAcked = treasurer.transfersAcked;
  return result;
}
