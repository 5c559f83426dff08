// bench:pg-sink — how many trades/s PgSink applies to the local Postgres. Batches come from the
// real engine (makers rest at several prices, a taker sweeps them: each trade brings about 1.25
// order rows), each built just before it is applied, as the write-behind worker does, and only
// `apply` is timed: wall time and Node CPU (process.cpuUsage) around each call. Each run writes
// into freshly truncated tables of a scratch database that is dropped at the end, and is followed
// by a reference run of Postgres alone (the same numbers of order and trade rows generated
// server-side by INSERT … SELECT generate_series … ON CONFLICT): on a shared machine the ratio of
// the two says more about the sink than either figure. CPU seconds of the sink's backends (and
// of the reference's) come from /proc when Postgres runs on this host; contention does not
// inflate them much, so trades / (node + backend CPU) estimates the rate on an idle machine.
// Prints medians, and as its last line one JSON object.
// Run: npm run bench:pg-sink [-- --trades 200000 --batch 2000 --runs 3]   (DATABASE_URL: the server)
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { migrateDatabase } from '../db/migrate.js';
import { MatchingEngine } from '../server/engine/engine.js';
import type { EngineCommand } from '../server/engine/types.js';
import type { EventBatch, PersistedCommand } from '../server/persistence/event-batch.js';
import { PgSink } from '../server/persistence/postgres/pg-sink.js';
import { fundAccounts } from './lib/funding.js';
import { human, median } from './lib/report.js';
import { processCpuSeconds } from './lib/process-cpu.js';

const { values: args } = parseArgs({
  options: {
    trades: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    sweep: { type: 'string', default: '4' },
  },
});
const TRADES = Math.max(1, Number(args.trades));
const COMMANDS_PER_BATCH = Math.max(1, Number(args.batch));
const RUNS = Math.max(1, Number(args.runs));
const MAKERS_PER_SWEEP = Math.max(1, Number(args.sweep));
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MARKET = { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 };
/** Makers and takers each; postgresAlone's rows name the same 500 of each. */
const ACCOUNTS = 500;

/** The same deterministic stream every run: sweeps until TRADES trades, cut into batches. */
class BatchSource {
  private readonly engine = new MatchingEngine([MARKET]);
  private seq = 0;
  private round = 0;
  private ts = 1_700_000_000_000;
  trades = 0;

  constructor() {
    // In the engine only: the sink is handed the trading and never sees the deposits.
    fundAccounts(
      this.engine,
      ['maker', 'taker'].flatMap((role) => Array.from({ length: ACCOUNTS }, (_, i) => `${role}-${i}`)),
    );
  }

  get orderRows(): number {
    return this.engine.book(MARKET.sym)!.nextOrderId - 1;
  }

  next(): EventBatch | null {
    if (this.trades >= TRADES) return null;
    const commands: PersistedCommand[] = [];
    const base = { op: 'place', sym: MARKET.sym, kind: 'limit', tif: 'gtc', post: false, stp: 'none', cid: null } as const;
    while (commands.length < COMMANDS_PER_BATCH && this.trades < TRADES) {
      this.ts += 1;
      const round = this.round++;
      for (let m = 0; m < MAKERS_PER_SWEEP; m++) {
        const account = `maker-${(round * MAKERS_PER_SWEEP + m) % ACCOUNTS}`;
        this.run(commands, { ...base, ts: this.ts, account, side: 'sell', px: 10_000 + m, qty: 3 });
      }
      this.run(commands, {
        ...base,
        ts: this.ts,
        account: `taker-${round % ACCOUNTS}`,
        side: 'buy',
        px: 10_000 + MAKERS_PER_SWEEP,
        qty: 3 * MAKERS_PER_SWEEP,
      });
    }
    return { fromSeq: commands[0]!.seq, toSeq: commands.at(-1)!.seq, commands, books: [] };
  }

  private run(commands: PersistedCommand[], command: EngineCommand): void {
    const result = this.engine.execute(command);
    // Every command must trade as planned (the run ends after TRADES trades): a reject, e.g. an
    // account without funds, ends the bench rather than measuring something else.
    if (!result.ok) throw new Error(`bench command rejected: ${result.code} (${result.msg})`);
    for (const event of result.events) if (event.kind === 'trade') this.trades++;
    commands.push({ seq: ++this.seq, command, id: command.op === 'place' ? (result.id ?? null) : null, events: result.events });
  }
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

/** Postgres inserting the same rows generated server-side: no client, no parsing. */
async function postgresAlone(sql: postgres.Sql, trades: number, orderRows: number): Promise<number> {
  const started = performance.now();
  await sql.begin(async (tx) => {
    await tx`
      insert into orders select 'BTC-USD', i, 'maker-' || (i % 500), null, 'sell', 'limit', 'gtc', false, 10000 + i % 5,
        3, 3, 'filled', null, i, i, 1700000000000 + i / 5, 1700000000000 + i / 5
      from generate_series(1, ${orderRows}::bigint) i
      on conflict (market, order_id) do update set filled = excluded.filled where orders.updated_seq < excluded.updated_seq`;
    await tx`
      insert into trades select 'BTC-USD', i, 10000 + i % 4, 3, i, i + 1, 'maker-' || (i % 500), 'taker-' || (i % 500), 'buy',
        i, 1700000000000 + i / 4
      from generate_series(1, ${trades}::bigint) i
      on conflict do nothing`;
  });
  return (performance.now() - started) / 1000;
}

interface RunResult {
  readonly trades: number;
  readonly orderRows: number;
  readonly batches: number;
  readonly seconds: number;
  readonly batchMsP50: number;
  readonly batchMsP90: number;
  readonly nodeCpu: number;
  readonly backendCpu: number;
  readonly aloneSeconds: number;
  readonly aloneCpu: number;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function oneRun(url: string, name: string, control: postgres.Sql, controlPid: number): Promise<RunResult> {
  await control`truncate orders, trades, markets, accounts, sink_progress`;
  await control`checkpoint`;
  const sink = new PgSink({ url, markets: [MARKET] });
  const source = new BatchSource();
  const batchMs: number[] = [];
  let nodeCpu = 0;
  for (let batch = source.next(); batch !== null; batch = source.next()) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await sink.apply(batch);
    batchMs.push(performance.now() - started);
    nodeCpu += cpuSeconds(process.cpuUsage(cpuBefore));
  }
  // The sink's connections opened during the run, so all their CPU time belongs to it.
  const backends = await control`select pid from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
  const backendCpu = backends.reduce((sum, row) => sum + processCpuSeconds(row.pid as number), 0);
  await sink.close();

  await control`truncate orders, trades, markets, accounts, sink_progress`;
  await control`checkpoint`;
  const aloneCpuBefore = processCpuSeconds(controlPid);
  const aloneSeconds = await postgresAlone(control, source.trades, source.orderRows);
  const aloneCpu = processCpuSeconds(controlPid) - aloneCpuBefore;
  return {
    trades: source.trades,
    orderRows: source.orderRows,
    batches: batchMs.length,
    seconds: batchMs.reduce((sum, ms) => sum + ms, 0) / 1000,
    batchMsP50: percentile(batchMs, 50),
    batchMsP90: percentile(batchMs, 90),
    nodeCpu,
    backendCpu,
    aloneSeconds,
    aloneCpu,
  };
}

const micros = (seconds: number, trades: number): string => ((seconds * 1e6) / trades).toFixed(1);

async function main(): Promise<void> {
  const name = `spotwire_bench_${randomBytes(5).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    await migrateDatabase(url.toString());
    const control = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const [{ pid: controlPid }] = (await control`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
    const results: RunResult[] = [];
    for (let run = 0; run < RUNS; run++) {
      const r = await oneRun(url.toString(), name, control, controlPid);
      results.push(r);
      console.log(
        `run ${run + 1}: ${human(r.trades / r.seconds)} trades/s (${r.seconds.toFixed(2)} s, batch p50 ${r.batchMsP50.toFixed(1)} ms ` +
          `p90 ${r.batchMsP90.toFixed(1)} ms); CPU per trade: node ${micros(r.nodeCpu, r.trades)} µs + backend ` +
          `${micros(r.backendCpu, r.trades)} µs; Postgres alone ${r.aloneSeconds.toFixed(2)} s, ${micros(r.aloneCpu, r.trades)} µs CPU per trade`,
      );
    }
    await control.end();
    const first = results[0]!;
    const m = (pick: (r: RunResult) => number): number => median(results.map(pick));
    const summary = {
      trades: first.trades,
      orderRows: first.orderRows,
      batches: first.batches,
      commandsPerBatch: COMMANDS_PER_BATCH,
      tradesPerSecond: Math.round(m((r) => r.trades / r.seconds)),
      batchMsP50: Number(m((r) => r.batchMsP50).toFixed(2)),
      batchMsP90: Number(m((r) => r.batchMsP90).toFixed(2)),
      nodeCpuMicrosPerTrade: Number(m((r) => (r.nodeCpu * 1e6) / r.trades).toFixed(2)),
      backendCpuMicrosPerTrade: Number(m((r) => (r.backendCpu * 1e6) / r.trades).toFixed(2)),
      aloneCpuMicrosPerTrade: Number(m((r) => (r.aloneCpu * 1e6) / r.trades).toFixed(2)),
      wallVsAlone: Number(m((r) => r.aloneSeconds / r.seconds).toFixed(3)),
      cpuVsAlone: Number(m((r) => (r.backendCpu > 0 && r.aloneCpu > 0 ? r.aloneCpu / (r.nodeCpu + r.backendCpu) : 0)).toFixed(3)),
      idleEstimateTradesPerSecond: Math.round(m((r) => (r.backendCpu > 0 ? r.trades / (r.nodeCpu + r.backendCpu) : 0))),
    };
    console.log(
      `pg-sink: ${first.trades} trades + ${first.orderRows} order rows in ${first.batches} batches of ${COMMANDS_PER_BATCH} commands ` +
        `(${MAKERS_PER_SWEEP} makers per sweep): median ${human(summary.tradesPerSecond)} trades/s, ` +
        `${Math.round(100 * summary.wallVsAlone)}% of what Postgres alone does on this machine now`,
    );
    if (summary.idleEstimateTradesPerSecond > 0) {
      console.log(
        `pg-sink CPU per trade: node ${summary.nodeCpuMicrosPerTrade} µs + backend ${summary.backendCpuMicrosPerTrade} µs ` +
          `(Postgres alone ${summary.aloneCpuMicrosPerTrade} µs): ${human(summary.idleEstimateTradesPerSecond)} trades/s if nothing else ran`,
      );
    }
    console.log(JSON.stringify(summary));
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
