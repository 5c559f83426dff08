// `npm run demo`: a live market out of the box. Starts a server on a data dir of its own (a fresh
// temporary one unless --data-dir says otherwise; never ./data) with funded demo accounts, the
// reference market maker (bots/market-maker.ts) on each demo market as a child process, and a
// few random takers, then prints the page's address and a login token. Ctrl-C stops it all.
//
//   npm run demo [-- --port 9001 --host 127.0.0.1 --data-dir DIR --takers 3]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import WebSocket from 'ws';
import { SpotwireClient, type WebSocketConstructor } from '../protocol/index.js';
import { DEMO_MARKETS, loadConfig, type ApiKey } from '../server/config.js';
import { startServer } from '../server/server.js';
import { RandomTaker, type TakerMarket } from './random-taker.js';

export const DEMO_TOKEN = 'demo-token';

/** Reference prices and sizes per demo market, in ticks and lots (BTC-USD: 0.01 USD, 0.000001 BTC). */
const PLAN: Readonly<Record<string, { refPx: number; quoteQty: number; minQty: number; maxQty: number; step: number }>> = {
  'BTC-USD': { refPx: 5_000_000, quoteQty: 20_000, minQty: 200, maxQty: 3_000, step: 100 },
  'ETH-USD': { refPx: 300_000, quoteQty: 5_000, minQty: 50, maxQty: 600, step: 20 },
};

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '9001' },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    'data-dir': { type: 'string' },
    takers: { type: 'string', default: '3' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const takerCount = Number(values.takers);
if (!Number.isInteger(takerCount) || takerCount < 0 || takerCount > 20) {
  console.error('--takers must be an integer 0–20');
  process.exit(2);
}

const ownDir = values['data-dir'] === undefined;
const home = mkdtempSync(join(tmpdir(), 'spotwire-demo-'));
const dataDir = values['data-dir'] ?? join(home, 'data');
const keys: ApiKey[] = [
  // Ledger units: USD 8 decimals, BTC 6, ETH 4 (docs/PROTOCOL.md "Accounts and money").
  { token: DEMO_TOKEN, account: 'demo', role: 'trader', deposit: { USD: 100_000 * 1e8, BTC: 2 * 1e6, ETH: 50 * 1e4 } },
  ...DEMO_MARKETS.map((m): ApiKey => ({
    token: `demo-mm-${m.sym}`,
    account: `mm-${m.base.toLowerCase()}`,
    role: 'trader',
    deposit: { USD: 1e14, BTC: 1e9, ETH: 1e8 },
  })),
  ...Array.from({ length: takerCount }, (_, i): ApiKey => ({
    token: `demo-taker-${i + 1}`,
    account: `taker-${i + 1}`,
    role: 'trader',
    deposit: { USD: 1e14, BTC: 1e9, ETH: 1e8 },
  })),
];
const keysFile = join(home, 'keys.json');
writeFileSync(keysFile, JSON.stringify(keys));

const logger = pino({ level: values['log-level']! });
// A throwaway data dir needs no fsync; one the user named keeps the server's default.
const config = loadConfig(
  ['--port', values.port!, '--host', values.host!, '--data-dir', dataDir, '--keys', keysFile, ...(ownDir ? ['--no-fsync'] : [])],
  {},
);
const server = await startServer(config, logger).catch((error: unknown) => {
  // Most often the port is taken (another server, or a demo already running): say so plainly.
  console.error(`spotwire demo: ${(error as Error).message} (--port N picks another, 0 a free one)`);
  rmSync(home, { recursive: true, force: true });
  process.exit(1);
});
const reachable = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
const base = `${reachable}:${server.port}`;
const wsUrl = `ws://${base}/ws`;

const children: ChildProcess[] = [];
const marketMaker = fileURLToPath(new URL('./market-maker.ts', import.meta.url));
for (const market of DEMO_MARKETS) {
  const plan = PLAN[market.sym];
  if (plan === undefined) continue;
  const args = [
    '--import',
    'tsx',
    marketMaker,
    '--url',
    wsUrl,
    '--token',
    `demo-mm-${market.sym}`,
    '--sym',
    market.sym,
    '--ref-px',
    String(plan.refPx),
  ];
  args.push(
    '--levels',
    '8',
    '--spread-ticks',
    String(plan.step * 2),
    '--step-ticks',
    String(plan.step),
    '--qty',
    String(plan.quoteQty),
    '--skew-ticks',
    '1',
  );
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
}

const takers: RandomTaker[] = [];
const takerMarkets: TakerMarket[] = DEMO_MARKETS.flatMap((market) => {
  const plan = PLAN[market.sym];
  return plan === undefined ? [] : [{ market, minQty: plan.minQty, maxQty: plan.maxQty, stepTicks: plan.step, restLevels: 6 }];
});
for (let i = 1; i <= takerCount; i++) {
  const client = await SpotwireClient.connect(wsUrl, { WebSocket: WebSocket as unknown as WebSocketConstructor });
  await client.login(`demo-taker-${i}`, { cancelOnDisconnect: true });
  for (const { market } of takerMarkets) await client.subscribeBook(market.sym, { depth: 1 });
  const taker = new RandomTaker(client, `taker${i}`, { markets: takerMarkets, meanPauseMs: 400, restShare: 0.35, maxResting: 6 });
  takers.push(taker);
  taker.run().catch((error: unknown) => logger.error({ err: error }, `taker ${i} stopped`));
}

console.log(`Spotwire demo: ${DEMO_MARKETS.map((m) => m.sym).join(', ')}, a market maker on each and ${takerCount} random takers

  page:   http://${base}/
  login:  ${DEMO_TOKEN}   (account demo: 100,000 USD, 2 BTC, 50 ETH)
  ws:     ${wsUrl}
  data:   ${dataDir}${ownDir ? ' (removed on exit)' : ''}

Ctrl-C stops it.`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const taker of takers) taker.stop();
  // The market makers cancel their quotes on SIGINT and exit.
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGINT');
        }),
    ),
  );
  await server.close();
  rmSync(home, { recursive: true, force: true });
  console.log('demo stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
