// bench:redis-sink — what RedisSink costs per trade, Node and redis-server apart. Batches are built
// by running the real engine the way bench:write-behind's journal does (a maker rests, a taker
// fills it: one trade and four execs per pair; 1,000 maker and 1,000 taker accounts), cut into
// batches of 5,000 commands with the book after each; only the sink's calls are timed. CPU is
// counted for this process (process.cpuUsage) and for the redis-server process (/proc), which
// contention on a shared machine inflates far less than wall time; `evalsha` is redis-server's
// own account of the script (INFO commandstats). Each run writes under a fresh key prefix, deleted afterwards.
// Point REDIS_URL at a private redis-server to keep other clients out of its CPU figure.
// Run: npm run bench:redis-sink [-- --trades 200000 --batch 5000 --runs 3]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { MatchingEngine } from '../server/engine/engine.js';
import type { EngineCommand } from '../server/engine/types.js';
import type { EventBatch, PersistedCommand } from '../server/persistence/event-batch.js';
import { RedisSink } from '../server/persistence/redis/redis-sink.js';
import { fundAccounts } from './lib/funding.js';
import { processCpuSeconds } from './lib/process-cpu.js';
import { human, median, printMachine } from './lib/report.js';
import { deleteUnder } from './lib/redis-scratch.js';

const { values: args } = parseArgs({
  options: {
    trades: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '3' },
  },
});
const TRADES = Math.max(1, Number(args.trades));
const COMMANDS_PER_BATCH = Math.max(2, Number(args.batch));
const RUNS = Math.max(1, Number(args.runs));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MARKET = { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 };
const DEPTH = 50;

/**
 * The bench's batches, made one at a time while the sink is not timed: holding them all would make
 * a heap of hundreds of MB whose full collections (triggered by the sink's buffers) the sink would
 * be charged for, where the write-behind worker's heap holds one batch. Same engine, same batches
 * on every call.
 */
function* engineBatches(): Generator<EventBatch> {
  const engine = new MatchingEngine([MARKET], { maxOpenOrdersPerAccount: 1_000_000 });
  // In the engine only: the sink is handed the trading and never sees the deposits.
  fundAccounts(
    engine,
    ['maker', 'taker'].flatMap((role) => Array.from({ length: 1000 }, (_, i) => `${role}-${i}`)),
  );
  const ts = 1_700_000_000_000;
  let seq = 0;
  let commands: PersistedCommand[] = [];
  const cut = (): EventBatch => {
    const book = { sym: MARKET.sym, seq, bids: engine.levels(MARKET.sym, 'buy', DEPTH), asks: engine.levels(MARKET.sym, 'sell', DEPTH) };
    const batch = { fromSeq: commands[0]!.seq, toSeq: seq, commands, books: [book] };
    commands = [];
    return batch;
  };
  for (let round = 0; round < TRADES; round++) {
    const base = {
      op: 'place',
      ts: ts + (round >> 8),
      sym: MARKET.sym,
      kind: 'limit',
      px: 10_000 + (round % 5),
      qty: 2,
      tif: 'gtc',
      post: false,
      stp: 'none',
      cid: null,
    } as const;
    for (const command of [
      { ...base, account: `maker-${round % 1000}`, side: 'sell' },
      { ...base, account: `taker-${round % 1000}`, side: 'buy' },
    ] as EngineCommand[]) {
      const result = engine.execute(command);
      // Every pair must trade (the figures are per trade): a reject, e.g. an account without
      // funds, ends the bench rather than measuring something else.
      if (!result.ok) throw new Error(`bench command rejected: ${result.code} (${result.msg})`);
      commands.push({ seq: ++seq, command, id: result.id ?? null, events: result.events });
    }
    if (commands.length >= COMMANDS_PER_BATCH) yield cut();
  }
  if (commands.length > 0) yield cut();
}

async function evalshaMicros(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats)?.[1] ?? 0);
}

async function main(): Promise<void> {
  printMachine();
  const control = new Redis(REDIS_URL);
  const redisPid = Number(/process_id:(\d+)/.exec(await control.info('server'))?.[1] ?? 0);
  const perTrade = (seconds: number): number => (seconds * 1e6) / TRADES;
  const rows: { wall: number; node: number; server: number; script: number }[] = [];
  console.log(`redis-sink: ${human(TRADES)} trades in batches of ≤ ${COMMANDS_PER_BATCH} commands, ${REDIS_URL}`);
  for (let run = 0; run < RUNS; run++) {
    const prefix = `bench:redis-sink:${randomBytes(4).toString('hex')}:`;
    const sink = new RedisSink({ url: REDIS_URL, prefix });
    await sink.appliedSeq();
    const scriptBefore = await evalshaMicros(control);
    const serverBefore = processCpuSeconds(redisPid);
    let wall = 0;
    let nodeMicros = 0;
    for (const batch of engineBatches()) {
      const nodeBefore = process.cpuUsage();
      const started = performance.now();
      await sink.apply(batch);
      wall += (performance.now() - started) / 1000;
      const used = process.cpuUsage(nodeBefore);
      nodeMicros += used.user + used.system;
    }
    // Only this bench's calls make redis-server work while the batches are built.
    const server = processCpuSeconds(redisPid) - serverBefore;
    const script = ((await evalshaMicros(control)) - scriptBefore) / 1e6;
    await sink.close();
    await deleteUnder(control, prefix);
    const row = { wall, node: nodeMicros / 1e6, server, script };
    rows.push(row);
    console.log(
      `run ${run + 1}: ${human(TRADES / wall)} trades/s (${wall.toFixed(2)} s); per trade: Node ${perTrade(row.node).toFixed(1)} µs, ` +
        `redis-server ${perTrade(server).toFixed(1)} µs (script ${perTrade(script).toFixed(1)} µs)`,
    );
  }
  control.disconnect();
  const pick = (key: keyof (typeof rows)[number]): number => median(rows.map((row) => row[key]));
  const result = {
    tradesPerSec: Math.round(TRADES / pick('wall')),
    nodeUsPerTrade: Number(perTrade(pick('node')).toFixed(2)),
    redisUsPerTrade: Number(perTrade(pick('server')).toFixed(2)),
    scriptUsPerTrade: Number(perTrade(pick('script')).toFixed(2)),
  };
  console.log(
    `median: ${human(result.tradesPerSec)} trades/s; per trade Node ${result.nodeUsPerTrade} µs, redis-server ${result.redisUsPerTrade} µs ` +
      `(script ${result.scriptUsPerTrade} µs)`,
  );
  console.log(JSON.stringify(result));
}

await main();
