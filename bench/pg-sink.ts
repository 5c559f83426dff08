// bench:pg-sink — how many trades/s PgSink applies to the local Postgres. Batches are built first
// by running the real engine (makers rest at several prices, a taker sweeps them: each trade
// brings about 1.25 order rows), so only the sink is timed. Each run writes into freshly
// truncated tables of a scratch database that is dropped at the end. Each run is followed by a
// reference run of Postgres alone (the same numbers of order and trade rows generated server-side
// by INSERT … SELECT generate_series): on a shared machine the ratio of the two says more about the
// sink than either figure. It also counts CPU seconds — the bench process's and, when Postgres
// runs on this host, the sink's backends' (/proc) — which contention does not inflate: since a
// batch alternates between Node and Postgres, trades / (node + backend CPU) estimates the rate on
// an idle machine. Prints medians.
// Run: npm run bench:pg-sink [-- --trades 200000 --batch 2000 --runs 3]   (DATABASE_URL: the server)
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { migrateDatabase } from '../db/migrate.js';
import { MatchingEngine } from '../server/engine/engine.js';
import type { EngineCommand } from '../server/engine/types.js';
import type { EventBatch, PersistedCommand } from '../server/persistence/event-batch.js';
import { PgSink } from '../server/persistence/pg-sink.js';
import { human, median } from './report.js';
import { processCpuSeconds } from './process-cpu.js';

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
const MARKET = { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6 };

function buildBatches(): { batches: EventBatch[]; trades: number; orderRows: number } {
  const engine = new MatchingEngine([MARKET]);
  const commands: PersistedCommand[] = [];
  let trades = 0;
  let ts = 1_700_000_000_000;
  const run = (command: EngineCommand): void => {
    const result = engine.execute(command);
    if (!result.ok) throw new Error(`bench command rejected: ${result.code}`);
    for (const event of result.events) if (event.kind === 'trade') trades++;
    commands.push({ seq: commands.length + 1, command, id: command.op === 'place' ? (result.id ?? null) : null, events: result.events });
  };
  const base = { op: 'place', sym: MARKET.sym, kind: 'limit', tif: 'gtc', post: false, stp: 'none', cid: null } as const;
  for (let round = 0; trades < TRADES; round++) {
    ts += 1;
    for (let m = 0; m < MAKERS_PER_SWEEP; m++) {
      run({ ...base, ts, account: `maker-${(round * MAKERS_PER_SWEEP + m) % 500}`, side: 'sell', px: 10_000 + m, qty: 3 });
    }
    run({ ...base, ts, account: `taker-${round % 500}`, side: 'buy', px: 10_000 + MAKERS_PER_SWEEP, qty: 3 * MAKERS_PER_SWEEP });
  }
  const batches: EventBatch[] = [];
  for (let from = 0; from < commands.length; from += COMMANDS_PER_BATCH) {
    const slice = commands.slice(from, from + COMMANDS_PER_BATCH);
    batches.push({ fromSeq: slice[0]!.seq, toSeq: slice.at(-1)!.seq, commands: slice, books: [] });
  }
  return { batches, trades, orderRows: engine.book(MARKET.sym)!.nextOrderId - 1 };
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

/** Seconds Postgres takes to insert the same rows generated server-side: no client, no JSON. */
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

async function main(): Promise<void> {
  const { batches, trades, orderRows } = buildBatches();
  const name = `spotwire_bench_${randomBytes(5).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    await migrateDatabase(url.toString());
    const control = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const [{ pid: controlPid }] = (await control`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
    const rates: number[] = [];
    const ratios: number[] = [];
    const cpuEstimates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await control`truncate orders, trades, markets, accounts, sink_progress`;
      await control`checkpoint`;
      const sink = new PgSink({ url: url.toString(), markets: [MARKET] });
      const nodeCpuBefore = process.cpuUsage();
      const started = performance.now();
      for (const batch of batches) await sink.apply(batch);
      const seconds = (performance.now() - started) / 1000;
      const nodeCpu = cpuSeconds(process.cpuUsage(nodeCpuBefore));
      // The sink's connections opened during the run, so all their CPU time belongs to it.
      const backends = await control`select pid from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`;
      const backendCpu = backends.reduce((sum, row) => sum + processCpuSeconds(row.pid as number), 0);
      await sink.close();
      if (backendCpu > 0) {
        cpuEstimates.push(trades / (nodeCpu + backendCpu));
        console.log(`  CPU: node ${nodeCpu.toFixed(2)} s + Postgres backends ${backendCpu.toFixed(2)} s`);
      }

      await control`truncate orders, trades, markets, accounts, sink_progress`;
      await control`checkpoint`;
      const aloneCpuBefore = processCpuSeconds(controlPid);
      const alone = await postgresAlone(control, trades, orderRows);
      const aloneCpu = processCpuSeconds(controlPid) - aloneCpuBefore;
      if (aloneCpu > 0) console.log(`  CPU: Postgres alone ${aloneCpu.toFixed(2)} s for the same rows`);
      rates.push(trades / seconds);
      ratios.push(alone / seconds);
      console.log(
        `run ${run + 1}: ${human(trades / seconds)} trades/s (${seconds.toFixed(2)} s); ` +
          `Postgres alone ${alone.toFixed(2)} s for the same rows (${Math.round((100 * alone) / seconds)}%)`,
      );
    }
    await control.end();
    console.log(
      `pg-sink: ${trades} trades + ${orderRows} order rows in ${batches.length} batches of ${COMMANDS_PER_BATCH} commands ` +
        `(${MAKERS_PER_SWEEP} makers per sweep): median ${human(median(rates))} trades/s ` +
        `(${human((median(rates) * (trades + orderRows)) / trades)} rows/s), ` +
        `${Math.round(100 * median(ratios))}% of what Postgres alone does on this machine now`,
    );
    if (cpuEstimates.length > 0) {
      console.log(`pg-sink CPU cost: ${human(median(cpuEstimates))} trades/s if nothing else ran (trades / (node + backend CPU s))`);
    }
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
