// bench:cluster — the single process against a cluster of one core and K edge gateways (K = 1, 2,
// 3 by default), each a child process, over the local Redis (its own key prefix). The same load
// (bench/lib/load-generator.ts: B bots with pipelined windows, S market-data subscribers) is spread
// evenly over the gateways; rounds alternate the targets. Reported per target: orders/s, order→ack
// p50/p99 (the slowest gateway's), market-data messages/s, and CPU per order of each role (core,
// gateways together, Redis). From the per-role CPU a line fit over K gives a gateway's replica cost
// (applying every record) and its own I/O cost, and from those a projection for a 16-core machine;
// one more gateway per cluster, with no clients, measures the replica's cost directly.
// Run: npm run bench:cluster [-- --gateways 1,2,3 --bots 12 --batch 16 --window 128 --seconds 3 --rounds 3]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_MARKETS } from '../server/config.js';
import { ChildServer, exitOnInterrupt, spotwirePort } from './lib/child-server.js';
import { benchServerSetup } from './lib/funding.js';
import { runLoad, type LoadResult } from './lib/load-generator.js';
import { processCpuSeconds } from './lib/process-cpu.js';
import { human, median, printMachine, printTable } from './lib/report.js';

const { values: args } = parseArgs({
  options: {
    gateways: { type: 'string', default: '1,2,3' },
    bots: { type: 'string', default: '12' },
    batch: { type: 'string', default: '16' },
    window: { type: 'string', default: '128' },
    subscribers: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    bus: { type: 'string', default: process.env.BUS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const GATEWAYS = args.gateways.split(',').map(Number);
const BOTS = Number(args.bots);
const SYM = 'BTC-USD';

/** The local redis-server's pid, for its CPU (0 when it cannot be asked: then Redis CPU reads 0). */
function redisPid(url: string): number {
  try {
    const { hostname, port } = new URL(url);
    const info = execFileSync('redis-cli', ['-h', hostname, '-p', port || '6379', 'info', 'server'], { encoding: 'utf8' });
    return Number(/process_id:(\d+)/.exec(info)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

interface Target {
  readonly name: string;
  readonly gateways: number;
  /** Where the bots connect: the single server, or each gateway. */
  readonly fronts: ChildServer[];
  /** The process that matches: the single server or the core. */
  readonly matcher: ChildServer;
  /** A gateway with no clients: what replicating alone costs. */
  readonly idle: ChildServer | null;
}

interface Figures {
  readonly ordersPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly mdPerSec: number;
  readonly matcherUsPerOrder: number;
  readonly gatewaysUsPerOrder: number;
  readonly redisUsPerOrder: number;
  readonly replicaUsPerOrder: number;
}

async function measure(target: Target, tokens: string[], redis: number): Promise<Figures> {
  const processes = [target.matcher, ...target.fronts.filter((f) => f !== target.matcher), ...(target.idle ? [target.idle] : [])];
  const cpu = (): number[] => processes.map((p) => p.sample().cpuSeconds);
  let before: number[] = [];
  let after: number[] = [];
  let redisBefore = 0;
  let redisAfter = 0;
  const share = Math.ceil(BOTS / target.fronts.length);
  let windows = 0;
  const results: LoadResult[] = await Promise.all(
    target.fronts.map((front, i) =>
      runLoad({
        host: '127.0.0.1',
        port: front.port,
        sym: SYM,
        connections: share,
        window: Number(args.window),
        batch: Number(args.batch),
        subscribers: Math.max(1, Math.round(Number(args.subscribers) / target.fronts.length)),
        rate: 0,
        warmupSeconds: Number(args.warmup),
        seconds: Number(args.seconds),
        tokens: tokens.slice(i * share, (i + 1) * share),
        // The first load to open its window samples; all windows open and close within milliseconds.
        onWindow: (phase) => {
          if (phase === 'start' && windows++ === 0) {
            before = cpu();
            redisBefore = processCpuSeconds(redis);
          }
          if (phase === 'end' && --windows === 0) {
            after = cpu();
            redisAfter = processCpuSeconds(redis);
          }
        },
      }),
    ),
  );
  const orders = results.reduce((n, r) => n + r.ordersPerSec * r.elapsedSeconds, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsedSeconds));
  const used = after.map((seconds, i) => seconds - before[i]!);
  const perOrder = (seconds: number): number => (orders > 0 ? (seconds * 1e6) / orders : 0);
  return {
    ordersPerSec: orders / elapsed,
    p50Us: Math.max(...results.map((r) => r.latencyUs.p50)),
    p99Us: Math.max(...results.map((r) => r.latencyUs.p99)),
    mdPerSec: results.reduce((n, r) => n + r.mdPerSec, 0),
    matcherUsPerOrder: perOrder(used[0]!),
    gatewaysUsPerOrder: perOrder(used.slice(1, 1 + (target.gateways === 0 ? 0 : target.fronts.length)).reduce((a, b) => a + b, 0)),
    replicaUsPerOrder: target.idle ? perOrder(used[used.length - 1]!) : 0,
    redisUsPerOrder: target.gateways === 0 ? 0 : perOrder(redisAfter - redisBefore),
  };
}

function medianOf(runs: Figures[]): Figures {
  const pick = (key: keyof Figures): number => median(runs.map((r) => r[key]));
  return {
    ordersPerSec: pick('ordersPerSec'),
    p50Us: pick('p50Us'),
    p99Us: pick('p99Us'),
    mdPerSec: pick('mdPerSec'),
    matcherUsPerOrder: pick('matcherUsPerOrder'),
    gatewaysUsPerOrder: pick('gatewaysUsPerOrder'),
    redisUsPerOrder: pick('redisUsPerOrder'),
    replicaUsPerOrder: pick('replicaUsPerOrder'),
  };
}

/** Least squares y = a + b·x. */
function lineFit(points: [number, number][]): { a: number; b: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const b = sxx === 0 ? 0 : points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  return { a: my - b * mx, b };
}

async function main(): Promise<void> {
  exitOnInterrupt();
  printMachine();
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-bench-cluster-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const { tokens, args: common } = benchServerSetup(dir, BOTS, DEMO_MARKETS);
  const prefix = `spotwire-bench-${randomBytes(4).toString('hex')}:`;
  const redis = redisPid(args.bus);
  const started: ChildServer[] = [];
  const spawnServer = async (name: string, extra: string[]): Promise<ChildServer> => {
    const server = await ChildServer.start(name, 'server/main.ts', [...common, ...extra], spotwirePort);
    started.push(server);
    return server;
  };
  try {
    const single = await spawnServer('single', ['--data-dir', join(dir, 'single')]);
    const targets: Target[] = [{ name: 'single process', gateways: 0, fronts: [single], matcher: single, idle: null }];
    for (const k of GATEWAYS) {
      const bus = ['--bus', args.bus, '--redis-prefix', `${prefix}${k}:`];
      const core = await spawnServer(`core (K=${k})`, ['--role', 'core', '--data-dir', join(dir, `core-${k}`), ...bus]);
      const fronts: ChildServer[] = [];
      for (let i = 0; i < k; i++) fronts.push(await spawnServer(`gateway ${i + 1}/${k}`, ['--role', 'gateway', ...bus]));
      const idle = await spawnServer(`idle gateway (K=${k})`, ['--role', 'gateway', ...bus]);
      targets.push({ name: `core + ${k} gateway${k > 1 ? 's' : ''}`, gateways: k, fronts, matcher: core, idle });
    }
    console.log(`${BOTS} bots (batch ${args.batch}, window ${args.window}), ${args.subscribers} subscribers, ${args.rounds} rounds\n`);
    const runs = new Map<Target, Figures[]>(targets.map((t) => [t, []]));
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        const figures = await measure(target, tokens, redis);
        runs.get(target)!.push(figures);
        console.log(`  ${target.name}: ${human(figures.ordersPerSec)} orders/s, p99 ${figures.p99Us.toFixed(0)} µs`);
      }
    }
    const rows = targets.map((t) => [t, medianOf(runs.get(t)!)] as const);
    const base = rows[0]![1];
    console.log('');
    printTable(
      [
        'target',
        'orders/s',
        'vs single',
        'p50 µs',
        'p99 µs',
        'md msgs/s',
        'matcher µs/order',
        'gateways µs/order',
        'idle replica µs/order',
        'redis µs/order',
      ],
      rows.map(([t, f]) => [
        t.name,
        human(f.ordersPerSec),
        `${(f.ordersPerSec / base.ordersPerSec).toFixed(2)}×`,
        f.p50Us.toFixed(0),
        f.p99Us.toFixed(0),
        human(f.mdPerSec),
        f.matcherUsPerOrder.toFixed(2),
        f.gatewaysUsPerOrder.toFixed(2),
        t.idle ? f.replicaUsPerOrder.toFixed(2) : '-',
        f.redisUsPerOrder.toFixed(2),
      ]),
    );
    const cluster = rows.slice(1);
    const core = median(cluster.map(([, f]) => f.matcherUsPerOrder));
    const redisCost = median(cluster.map(([, f]) => f.redisUsPerOrder));
    // Gateways' CPU per order over K: the slope is one more replica applying every record, the intercept the I/O of the orders themselves.
    const fit = lineFit(cluster.map(([t, f]) => [t.gateways, f.gatewaysUsPerOrder]));
    console.log(`\ncore CPU per order: ${core.toFixed(2)} µs (target ≤ 1.5 µs; single process ${base.matcherUsPerOrder.toFixed(2)} µs)`);
    console.log(
      `gateway CPU per order: ${fit.a.toFixed(2)} µs of order I/O (shared by the gateways) + ${fit.b.toFixed(2)} µs per gateway replica`,
    );
    // 16 cores: one for the core, one for Redis, the rest gateways; each order costs a gateway its share of I/O plus every replica's apply.
    const cores = 16;
    const gateways = cores - 2;
    const coreBound = 1e6 / core;
    const gatewayBound = (gateways * 1e6) / Math.max(1e-9, fit.a + gateways * fit.b);
    const redisBound = redisCost > 0 ? 1e6 / redisCost : Infinity;
    const projected = Math.min(coreBound, gatewayBound, redisBound);
    console.log(
      `projection, ${cores} cores (1 core, 1 Redis, ${gateways} gateways): core ${human(coreBound)}/s, gateways ${human(gatewayBound)}/s, ` +
        `Redis ${Number.isFinite(redisBound) ? human(redisBound) : '-'}/s → ${human(projected)} orders/s ` +
        `(single process here: ${human(1e6 / (base.matcherUsPerOrder || 1))}/s on one core)`,
    );
    console.log(JSON.stringify({ bench: 'cluster', rows: rows.map(([t, f]) => ({ target: t.name, ...f })), core, fit, projected }));
  } finally {
    for (const server of started.reverse()) await server.stop();
    try {
      execFileSync('sh', ['-c', `redis-cli --scan --pattern '${prefix}*' | xargs -r redis-cli del > /dev/null`]);
    } catch {
      // Best effort: the keys are bounded streams under a prefix of this run.
    }
  }
}

void main();
