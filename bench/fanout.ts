// bench:fanout — book and trade streams to N subscribed sockets (1,000 and 10,000) while one bot
// trades at a steady rate, against a bare uWS publish loop sending the same number of messages of
// the same size to the same sockets. Reports deliveries/s, server CPU per delivery, and what
// happens to slow consumers: 1% of the sockets stop reading when the measurement starts.
// Needs an fd limit above 2N: `npm run bench:fanout` raises it in a shell first.
// Run: npm run bench:fanout [-- --subs 1000,10000 --rate 500 --seconds 4]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCodec } from '../protocol/codec.js';
import { ChildServer, exitOnInterrupt, type ProcessSample } from './lib/child-server.js';
import { DEMO_MARKETS } from '../server/config.js';
import { fundedKeys } from './lib/funding.js';
import { describeRejects, runLoad, type LoadResult } from './lib/load-generator.js';
import { human, printMachine, printTable } from './lib/report.js';
import { RawWsClient } from './lib/raw-ws-client.js';

const { values: args } = parseArgs({
  options: {
    subs: { type: 'string', default: '1000,10000' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '4' },
  },
});
const SUBSCRIBER_COUNTS = args.subs.split(',').map(Number);
const TRADING_RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const SYM = 'BTC-USD';
const SLOW_FRACTION = 0.01;
const codec = createCodec();

class SubscriberPool {
  readonly clients: RawWsClient[] = [];
  readonly framesOf: number[] = [];
  frames = 0;
  bytes = 0;
  closed = 0;

  static async open(port: number, count: number): Promise<SubscriberPool> {
    const pool = new SubscriberPool();
    const subscribe = codec.encode([
      { op: 'sub', ch: 'book', sym: SYM, depth: 10 },
      { op: 'sub', ch: 'trades', sym: SYM },
    ]);
    for (let i = 0; i < count; i += 200) {
      const group = Array.from({ length: Math.min(200, count - i) }, (_, j) => {
        const index = i + j;
        pool.framesOf.push(0);
        return RawWsClient.open('127.0.0.1', port, '/ws', {
          onPayload: (payload) => {
            pool.frames++;
            pool.bytes += payload.length;
            pool.framesOf[index]!++;
          },
          onClose: () => pool.closed++,
        });
      });
      for (const client of await Promise.all(group)) {
        client.send(subscribe);
        pool.clients.push(client);
      }
    }
    const deadline = Date.now() + 60_000;
    while (pool.framesOf.some((n) => n === 0)) {
      if (Date.now() > deadline) throw new Error('subscribers did not all get their first message in 60 s');
      await delay(20);
    }
    return pool;
  }

  close(): void {
    for (const client of this.clients) client.destroy();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface FanoutRow {
  readonly target: 'spotwire' | 'uWS publish loop';
  readonly subscribers: number;
  readonly deliveriesPerSec: number;
  readonly perSubscriberPerSec: number;
  readonly bytesPerDelivery: number;
  readonly serverCpu: number;
  readonly serverNsPerDelivery: number;
  readonly rssMiB: number;
  readonly slowClosed: number;
  readonly slow: number;
  readonly healthyClosed: number;
  readonly clientCpu: number;
}

/** Opens the window: pauses the slow 1%, samples; `finish` closes it and computes the row. */
function measurement(server: ChildServer, pool: SubscriberPool, target: FanoutRow['target']): { finish(): FanoutRow } {
  const slow = Math.max(1, Math.round(pool.clients.length * SLOW_FRACTION));
  for (let i = 0; i < slow; i++) pool.clients[i]!.pause();
  const healthy = pool.clients.length - slow;
  const before: ProcessSample = server.sample();
  const framesBefore = pool.frames;
  const bytesBefore = pool.bytes;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  return {
    finish: () => {
      const seconds = (performance.now() - started) / 1000;
      const after = server.sample();
      const cpu = process.cpuUsage(cpuBefore);
      const deliveries = pool.frames - framesBefore;
      const serverSeconds = after.cpuSeconds - before.cpuSeconds;
      const slowClosed = pool.clients.slice(0, slow).filter((c) => c.closed).length;
      return {
        target,
        subscribers: pool.clients.length,
        deliveriesPerSec: deliveries / seconds,
        perSubscriberPerSec: deliveries / seconds / healthy,
        bytesPerDelivery: deliveries === 0 ? 0 : (pool.bytes - bytesBefore) / deliveries,
        serverCpu: serverSeconds / seconds,
        serverNsPerDelivery: deliveries === 0 ? 0 : (serverSeconds * 1e9) / deliveries,
        rssMiB: after.rssMiB,
        slowClosed,
        slow,
        healthyClosed: pool.clients.slice(slow).filter((c) => c.closed).length,
        clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      };
    },
  };
}

function portFrom(match: (entry: { msg?: string; port?: number }) => boolean): (line: string) => number | null {
  return (line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      return match(entry) && typeof entry.port === 'number' ? entry.port : null;
    } catch {
      return null;
    }
  };
}

/** The row, and the trading bot's load: its rejects show whether the book really traded. */
async function spotwireRun(dir: string, keysFile: string, subscribers: number): Promise<{ row: FanoutRow; bot: LoadResult }> {
  const server = await ChildServer.start(
    'spotwire',
    'server/main.ts',
    // Every subscriber connects from 127.0.0.1: no cap per address.
    [
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--keys',
      keysFile,
      '--data-dir',
      join(dir, `data-${subscribers}`),
      '--log-level',
      'info',
      '--max-connections-per-ip',
      '0',
    ],
    portFrom((e) => e.msg === 'spotwire listening'),
  );
  try {
    const pool = await SubscriberPool.open(server.port, subscribers);
    let window: { finish(): FanoutRow } | null = null;
    let row: FanoutRow | null = null;
    const bot = await runLoad({
      host: '127.0.0.1',
      port: server.port,
      sym: SYM,
      connections: 1,
      window: 256,
      batch: 8,
      subscribers: 0,
      rate: TRADING_RATE,
      warmupSeconds: 1,
      seconds: SECONDS,
      tokens: ['bench-fanout-token'],
      onWindow: (phase) => {
        if (phase === 'start') window = measurement(server, pool, 'spotwire');
        else row = window!.finish();
      },
    });
    pool.close();
    return { row: row!, bot };
  } finally {
    await server.stop();
  }
}

async function publishLoopRun(subscribers: number, rate: number, bytes: number): Promise<FanoutRow> {
  const server = await ChildServer.start(
    'publish',
    'bench/lib/publish-server.ts',
    ['--rate', String(Math.max(1, Math.round(rate))), '--bytes', String(Math.max(1, Math.round(bytes)))],
    portFrom(() => true),
  );
  try {
    const pool = await SubscriberPool.open(server.port, subscribers);
    await delay(1000);
    const window = measurement(server, pool, 'uWS publish loop');
    await delay(SECONDS * 1000);
    const row = window.finish();
    pool.close();
    return row;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  exitOnInterrupt();
  const host = printMachine();
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-bench-fanout-'));
  // Also on an interrupt, when the finally below does not run.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  try {
    const keysFile = join(dir, 'keys.json');
    writeFileSync(keysFile, JSON.stringify(fundedKeys([{ token: 'bench-fanout-token', account: 'fanout-bot' }], DEMO_MARKETS)));
    console.log(`one bot trading at ${TRADING_RATE} orders/s; ${SECONDS} s measured; ${SLOW_FRACTION * 100}% of sockets stop reading\n`);
    const rows: FanoutRow[] = [];
    const bots: { subscribers: number; ordersPerSec: number; rejected: number; rejectCodes: Readonly<Record<string, number>> }[] = [];
    for (const subscribers of SUBSCRIBER_COUNTS) {
      const { row: real, bot } = await spotwireRun(dir, keysFile, subscribers);
      rows.push(real);
      bots.push({ subscribers, ordersPerSec: bot.ordersPerSec, rejected: bot.rejected, rejectCodes: bot.rejectCodes });
      console.log(`  ${subscribers} subscribers spotwire: ${human(real.deliveriesPerSec)} deliveries/s; the bot ${describeRejects(bot)}`);
      // The same messages per second per socket, of the same average size, published bare.
      const bare = await publishLoopRun(subscribers, real.perSubscriberPerSec, real.bytesPerDelivery);
      rows.push(bare);
      console.log(`  ${subscribers} subscribers publish loop: ${human(bare.deliveriesPerSec)} deliveries/s`);
    }
    console.log('');
    printTable(
      [
        'subs',
        'target',
        'deliveries/s',
        'msgs/s/sub',
        'bytes',
        'server cpu',
        'ns/delivery',
        'RSS MiB',
        'slow closed',
        'healthy closed',
        'client cpu',
      ],
      rows.map((r) => [
        String(r.subscribers),
        r.target,
        human(r.deliveriesPerSec),
        r.perSubscriberPerSec.toFixed(0),
        r.bytesPerDelivery.toFixed(0),
        `${(r.serverCpu * 100).toFixed(0)}%`,
        r.serverNsPerDelivery.toFixed(0),
        r.rssMiB.toFixed(0),
        `${r.slowClosed}/${r.slow}`,
        String(r.healthyClosed),
        `${(r.clientCpu * 100).toFixed(0)}%`,
      ]),
    );
    for (const subscribers of SUBSCRIBER_COUNTS) {
      const real = rows.find((r) => r.subscribers === subscribers && r.target === 'spotwire')!;
      const bare = rows.find((r) => r.subscribers === subscribers && r.target !== 'spotwire')!;
      const ratio = real.deliveriesPerSec / bare.deliveriesPerSec;
      const line = `${subscribers} subscribers: spotwire/publish loop deliveries ${(ratio * 100).toFixed(0)}%, server CPU per delivery ${(real.serverNsPerDelivery / Math.max(1, bare.serverNsPerDelivery)).toFixed(1)}×`;
      console.log(subscribers === 10_000 ? `target (≥ 70%): ${line} ${ratio >= 0.7 ? 'met' : 'MISSED'}` : line);
      if (real.clientCpu >= 0.9 || bare.clientCpu >= 0.9)
        console.log(`note: ${subscribers} subscribers: the client used ≥ 90% of a core; it may be the bottleneck`);
    }
    console.log(JSON.stringify({ bench: 'fanout', machine: host, tradingRate: TRADING_RATE, seconds: SECONDS, rows, bots }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
