// bench:e2e — the real server as a child process with its journal fsyncing, driven over raw-socket
// WebSockets by K bots (separate accounts) with pipelined windows and array frames, plus S
// market-data subscribers; in the same run the same client against a bare uWS echo server (the
// transport ceiling) and against the server with --no-fsync (the durability cost). Rounds alternate
// the three targets per K. Then the fsync server at half its measured maximum rate, open loop, for
// the latency target. The client shares the 2 cores with the server: its own CPU is reported.
// With --baseline <rev>[,<rev>…], earlier commits' servers (git worktrees, bench/lib/baseline-tree.ts)
// run beside them as more targets, fsyncing, each named by its rev: a before/after in one run.
// Run: npm run bench:e2e [-- --conns 1,16,256 --batch 16 --window 256 --subscribers 4 --seconds 3 --baseline c0afe1a,e9372fc]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_MARKETS } from '../server/config.js';
import { baselineTree } from './lib/baseline-tree.js';
import { ChildServer, exitOnInterrupt, spotwirePort, type ProcessSample } from './lib/child-server.js';
import { benchServerSetup } from './lib/funding.js';
import { describeRejects, runLoad, type LoadResult } from './lib/load-generator.js';
import { human, printMachine, printTable } from './lib/report.js';

const { values: args } = parseArgs({
  options: {
    conns: { type: 'string', default: '1,16,256' },
    batch: { type: 'string', default: '16' },
    window: { type: 'string', default: '256' },
    'max-in-flight': { type: 'string', default: '8192' },
    subscribers: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const CONNECTIONS = args.conns.split(',').map(Number);
const BATCH = Number(args.batch);
const SUBSCRIBERS = Number(args.subscribers);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const ROUNDS = Math.max(1, Number(args.rounds));
const SYM = 'BTC-USD';

/** Per-connection window: the default, unless K of them would exceed the total in flight. */
function windowFor(connections: number): number {
  const share = Math.floor(Number(args['max-in-flight']) / connections / BATCH) * BATCH;
  return Math.max(BATCH, Math.min(Number(args.window), share));
}

/** echo, fsync, no-fsync, or a baseline's rev. */
type TargetName = string;

interface Row {
  readonly target: TargetName | 'fsync@half' | 'no-fsync@half';
  readonly connections: number;
  readonly window: number;
  readonly rate: number;
  readonly load: LoadResult;
  readonly serverCpu: number;
  /** Share of the window the server's event loop spent runnable but without a core. */
  readonly serverCpuWait: number;
  readonly server: ProcessSample;
}

async function measure(
  server: ChildServer,
  target: Row['target'],
  connections: number,
  rate: number,
  tokens: string[] | null,
): Promise<Row> {
  let before: ProcessSample | null = null;
  let after: ProcessSample | null = null;
  const window = windowFor(connections);
  const load = await runLoad({
    host: '127.0.0.1',
    port: server.port,
    sym: SYM,
    connections,
    window,
    batch: BATCH,
    subscribers: target === 'echo' ? 0 : SUBSCRIBERS,
    rate,
    warmupSeconds: WARMUP,
    seconds: SECONDS,
    tokens,
    onWindow: (phase) => {
      if (phase === 'start') before = server.sample();
      else after = server.sample();
    },
  });
  const start = before as ProcessSample | null;
  const end = after as ProcessSample | null;
  if (!start || !end) throw new Error('server was not sampled');
  return {
    target,
    connections,
    window,
    rate,
    load,
    serverCpu: (end.cpuSeconds - start.cpuSeconds) / load.elapsedSeconds,
    serverCpuWait: (end.mainThreadWaitSeconds - start.mainThreadWaitSeconds) / load.elapsedSeconds,
    server: end,
  };
}

function echoPort(line: string): number | null {
  try {
    const entry = JSON.parse(line) as { port?: number };
    return typeof entry.port === 'number' ? entry.port : null;
  } catch {
    return null;
  }
}

/** `--flag value` pairs whose option the server config of the checkout at `root` declares (older ones lack some). */
function flagsKnownTo(root: string, flags: readonly string[]): string[] {
  const config = readFileSync(join(root, 'server/config.ts'), 'utf8');
  const known: string[] = [];
  for (let i = 0; i + 1 < flags.length; i += 2) {
    const name = flags[i]!.slice(2);
    if (new RegExp(`['\\s{]${name}'?\\s*:\\s*\\{`).test(config)) known.push(flags[i]!, flags[i + 1]!);
  }
  return known;
}

function medianRow(rows: readonly Row[]): Row {
  const sorted = [...rows].sort((a, b) => a.load.ordersPerSec - b.load.ordersPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function main(): Promise<void> {
  exitOnInterrupt();
  const host = printMachine();
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-bench-e2e-'));
  // Also on an interrupt, when the finally below does not run.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const servers: ChildServer[] = [];
  try {
    const maxBots = Math.max(...CONNECTIONS);
    const { tokens, args: common } = benchServerSetup(dir, maxBots, DEMO_MARKETS);
    const echo = await ChildServer.start('echo', 'bench/lib/echo-server.ts', [], echoPort);
    servers.push(echo);
    const fsync = await ChildServer.start('fsync', 'server/main.ts', [...common, '--data-dir', join(dir, 'fsync')], spotwirePort);
    servers.push(fsync);
    const noFsync = await ChildServer.start(
      'no-fsync',
      'server/main.ts',
      [...common, '--data-dir', join(dir, 'no-fsync'), '--no-fsync'],
      spotwirePort,
    );
    servers.push(noFsync);
    const targets: [TargetName, ChildServer, string[] | null][] = [
      ['echo', echo, null],
      ['fsync', fsync, tokens],
      ['no-fsync', noFsync, tokens],
    ];
    const baselines = (args.baseline ?? '').split(',').filter((rev) => rev !== '');
    const baselineCommits: Record<string, string> = {};
    for (const rev of baselines) {
      const tree = baselineTree(rev);
      // The same keys file (a server from before money ignores the deposits) and the flags it knows.
      const server = await ChildServer.start(
        rev,
        join(tree.root, 'server/main.ts'),
        [...flagsKnownTo(tree.root, common), '--data-dir', join(dir, `baseline-${tree.commit}`)],
        spotwirePort,
      );
      servers.push(server);
      targets.push([rev, server, tokens]);
      baselineCommits[rev] = tree.commit;
      console.log(`baseline ${rev}: ${tree.commit.slice(0, 12)} at ${tree.root}, fsyncing`);
    }
    console.log(
      `batch ${BATCH} orders/frame, ${SUBSCRIBERS} market-data subscribers (server runs), ${WARMUP} s warm-up + ${SECONDS} s measured, ${ROUNDS} round(s)\n`,
    );

    const rows: Row[] = [];
    for (const connections of CONNECTIONS) {
      const perTarget = new Map<TargetName, Row[]>();
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const [name, server, botTokens] of order) {
          const row = await measure(server, name, connections, 0, botTokens);
          perTarget.set(name, [...(perTarget.get(name) ?? []), row]);
          console.log(
            `  K=${connections} ${name}: ${human(row.load.ordersPerSec)} orders/s, p99 ${row.load.latencyUs.p99.toFixed(0)} µs, ` +
              `client ${(row.load.clientCpu * 100).toFixed(0)}% cpu, server ${(row.serverCpu * 100).toFixed(0)}%` +
              (name === 'echo' ? '' : `, ${describeRejects(row.load)}`),
          );
        }
      }
      for (const [name] of targets) rows.push(medianRow(perTarget.get(name)!));
      // Half of each one's own maximum: the fsync row for the target, the other to show what the
      // disk's fdatasync adds to latency.
      for (const [name, server, target] of [
        ['fsync', fsync, 'fsync@half'],
        ['no-fsync', noFsync, 'no-fsync@half'],
      ] as const) {
        const half = Math.max(BATCH, Math.round(medianRow(perTarget.get(name)!).load.ordersPerSec / 2));
        const halfRow = await measure(server, target, connections, half, tokens);
        console.log(
          `  K=${connections} ${name} at ${human(half)}/s: p99 ${halfRow.load.latencyUs.p99.toFixed(0)} µs, ${describeRejects(halfRow.load)}`,
        );
        rows.push(halfRow);
      }
    }

    console.log('');
    const echoRate = (connections: number): number =>
      rows.find((r) => r.target === 'echo' && r.connections === connections)!.load.ordersPerSec;
    printTable(
      [
        'K',
        'W',
        'target',
        'orders/s',
        'vs echo',
        'p50 µs',
        'p99 µs',
        'p99.9 µs',
        'md msgs/s',
        'rejects',
        'server cpu',
        'cpu wait',
        'cpu µs/order',
        'RSS MiB',
        'client cpu',
      ],
      rows.map((r) => [
        String(r.connections),
        String(r.window),
        r.target.endsWith('@half') ? `${r.target.replace('@half', '')} @${human(r.rate)}/s` : r.target,
        human(r.load.ordersPerSec),
        r.target === 'echo' || r.target.endsWith('@half') ? '' : `${((100 * r.load.ordersPerSec) / echoRate(r.connections)).toFixed(0)}%`,
        r.load.latencyUs.p50.toFixed(0),
        r.load.latencyUs.p99.toFixed(0),
        r.load.latencyUs.p999.toFixed(0),
        r.target === 'echo' ? '' : human(r.load.mdPerSec),
        String(r.load.rejected),
        `${(r.serverCpu * 100).toFixed(0)}%`,
        `${(r.serverCpuWait * 100).toFixed(0)}%`,
        // CPU per order holds up better than orders/s when other processes take the cores.
        ((r.serverCpu * 1e6) / Math.max(1, r.load.ordersPerSec)).toFixed(2),
        r.server.rssMiB.toFixed(0),
        `${(r.load.clientCpu * 100).toFixed(0)}%`,
      ]),
    );
    console.log('\ncpu: 100% = one core; the machine has 2, shared by client, server and whatever else runs.');
    console.log("cpu wait: share of the time the server's event loop was runnable but had no core (other processes had them).");
    for (const r of rows) {
      if (r.load.clientCpu >= 0.9)
        console.log(
          `note: K=${r.connections} ${r.target}: the client used ${(r.load.clientCpu * 100).toFixed(0)}% of a core: it is (co-)bottleneck`,
        );
    }
    for (const connections of CONNECTIONS) {
      const at = (target: Row['target']): Row => rows.find((r) => r.connections === connections && r.target === target)!;
      const ratio = at('fsync').load.ordersPerSec / at('echo').load.ordersPerSec;
      const durability = at('fsync').load.ordersPerSec / at('no-fsync').load.ordersPerSec;
      console.log(
        `target K=${connections}: fsync ≥ 60% of echo: ${(ratio * 100).toFixed(0)}% ${ratio >= 0.6 ? 'met' : 'MISSED'}; fsync/no-fsync ${(durability * 100).toFixed(0)}%`,
      );
      const p99 = at('fsync@half').load.latencyUs.p99;
      console.log(`target K=${connections}: p99 ≤ 1 ms at half the max rate: ${p99.toFixed(0)} µs ${p99 <= 1000 ? 'met' : 'MISSED'}`);
      const cpuPerOrder = (r: Row): number => (r.serverCpu * 1e6) / Math.max(1, r.load.ordersPerSec);
      for (const rev of baselines) {
        const now = at('fsync');
        const then = at(rev);
        console.log(
          `against ${rev} K=${connections}: orders/s ${((100 * now.load.ordersPerSec) / then.load.ordersPerSec).toFixed(0)}% of its, ` +
            `server cpu µs/order ${cpuPerOrder(now).toFixed(2)} vs ${cpuPerOrder(then).toFixed(2)} (${((100 * cpuPerOrder(now)) / cpuPerOrder(then)).toFixed(0)}%)`,
        );
      }
    }

    console.log(
      JSON.stringify({
        bench: 'e2e',
        machine: host,
        baselines: baselineCommits,
        batch: BATCH,
        subscribers: SUBSCRIBERS,
        seconds: SECONDS,
        rounds: ROUNDS,
        rows: rows.map((r) => ({
          connections: r.connections,
          window: r.window,
          target: r.target,
          rate: r.rate,
          ordersPerSec: Math.round(r.load.ordersPerSec),
          latencyUs: r.load.latencyUs,
          mdPerSec: Math.round(r.load.mdPerSec),
          rejected: r.load.rejected,
          rejectCodes: r.load.rejectCodes,
          serverCpu: Number(r.serverCpu.toFixed(2)),
          serverCpuWait: Number(r.serverCpuWait.toFixed(2)),
          serverCpuUsPerOrder: Number(((r.serverCpu * 1e6) / Math.max(1, r.load.ordersPerSec)).toFixed(2)),
          serverRssMiB: Math.round(r.server.rssMiB),
          serverPeakRssMiB: Math.round(r.server.peakRssMiB),
          clientCpu: Number(r.load.clientCpu.toFixed(2)),
        })),
      }),
    );
  } finally {
    for (const server of servers) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
