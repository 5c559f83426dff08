// bench:engine — the matching engine alone, in-process, against nodejs-order-book on the same
// seeded streams. Equal work is checked before timing (the taker's filled quantity on
// every command, and the final depth); then runs alternate between the books, and medians of the
// timed runs after warm-up are reported with per-command latency from a separate timed pass.
// With --baseline <git rev> it also measures this tree's engine against that commit's on one
// stream (--baseline-stream, default steady), each pass in a child process of its own, the trees
// alternating: e.g. the ledger's cost against the last commit before money (c0afe1a).
// Run: npm run bench:engine [-- --runs 5 --scale 1 --only steady,deep] [--baseline c0afe1a --baseline-rounds 6]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { baselineTree, REPO_ROOT } from './lib/baseline-tree.js';
import { NodejsOrderBookAdapter, SpotwireBook, type BenchBook } from './lib/book-adapters.js';
import {
  collectGarbage,
  duration,
  human,
  median,
  nanosHistogram,
  percentiles,
  printMachine,
  printTable,
  type Percentiles,
} from './lib/report.js';
import type { RejectCounts } from './lib/reject-tally.js';
import { buildStream, STREAM_NAMES, type Stream, type StreamName } from './lib/streams.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    scale: { type: 'string', default: '1' },
    only: { type: 'string', default: STREAM_NAMES.join(',') },
    baseline: { type: 'string' },
    'baseline-stream': { type: 'string', default: 'steady' },
    'baseline-rounds': { type: 'string', default: '6' },
  },
});
const RUNS = Math.max(1, Number(args.runs));
const WARMUP = Math.max(0, Number(args.warmup));
const SCALE = Number(args.scale) > 0 ? Number(args.scale) : 1;
// deep needs a long stream for its book to reach tens of thousands of orders.
const LENGTHS: Record<StreamName, number> = { thin: 200_000, steady: 200_000, deep: 300_000, mm: 200_000 };

interface BookFigures {
  readonly opsPerSec: number;
  readonly nsPerOp: number;
  readonly runsOpsPerSec: number[];
  readonly latencyNs: Percentiles;
  heapMiB: number;
}

interface StreamFigures {
  readonly stream: StreamName;
  readonly commands: number;
  readonly trades: number;
  readonly restingAtEnd: number;
  readonly maxResting: number;
  readonly equalWork: boolean;
  readonly spotwire: BookFigures;
  readonly nob: BookFigures;
  readonly ratio: number;
  /** Best run against best run: less moved by other processes taking the cores mid-run. */
  readonly bestRatio: number;
}

/** Null when the book reproduces the stream's fills and final depth; else the first difference. */
function verify(book: BenchBook, stream: Stream): string | null {
  book.reset();
  for (let i = 0; i < stream.commands.length; i++) {
    const filled = book.run(i);
    if (filled !== stream.filledPerCommand[i]) {
      return `command ${i} (${JSON.stringify(stream.commands[i])}): filled ${filled}, expected ${stream.filledPerCommand[i]}`;
    }
  }
  return null;
}

function sameDepth(a: BenchBook, b: BenchBook): boolean {
  const canonical = (book: BenchBook): string => {
    const { bids, asks } = book.depth();
    const sort = (levels: [number, number][]): [number, number][] => [...levels].sort((x, y) => x[0] - y[0]);
    return JSON.stringify({ bids: sort(bids), asks: sort(asks) });
  };
  return canonical(a) === canonical(b);
}

// No forced collection before timed runs: a full gc() shrinks V8's young generation, which slows
// the run after it. Collections are forced only for the heap figures, after all timing.
function timedRun(book: BenchBook, length: number): number {
  book.reset();
  const start = process.hrtime.bigint();
  for (let i = 0; i < length; i++) book.run(i);
  return Number(process.hrtime.bigint() - start);
}

function latencyPass(book: BenchBook, length: number): Percentiles {
  const histogram = nanosHistogram();
  book.reset();
  for (let i = 0; i < length; i++) {
    const start = process.hrtime.bigint();
    book.run(i);
    histogram.recordValue(Number(process.hrtime.bigint() - start));
  }
  const result = percentiles(histogram);
  histogram.destroy();
  return result;
}

/** Heap the book holds once the whole stream has run, over an empty book's. */
function heapHeld(book: BenchBook, length: number): number {
  book.reset();
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < length; i++) book.run(i);
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  return (after - before) / 2 ** 20;
}

function timerOverhead(): Percentiles {
  const histogram = nanosHistogram();
  for (let i = 0; i < 200_000; i++) {
    const start = process.hrtime.bigint();
    histogram.recordValue(Number(process.hrtime.bigint() - start));
  }
  const result = percentiles(histogram);
  histogram.destroy();
  return result;
}

function benchStream(name: StreamName, stream: Stream, books: readonly BenchBook[]): StreamFigures {
  const length = stream.commands.length;
  let equalWork = true;
  for (const book of books) {
    const problem = verify(book, stream);
    if (problem !== null) {
      equalWork = false;
      console.log(`  ! ${book.name} differs from the stream on ${name}: ${problem}`);
    }
  }
  if (equalWork && !sameDepth(books[0]!, books[1]!)) {
    equalWork = false;
    console.log(`  ! the final depth differs between the books on ${name}`);
  }

  const times = new Map<BenchBook, number[]>(books.map((b) => [b, []]));
  for (let run = 0; run < WARMUP + RUNS; run++) {
    // Alternate which book goes first so neither always runs on a warmer or cooler machine.
    const order = run % 2 === 0 ? books : [...books].reverse();
    for (const book of order) {
      const nanos = timedRun(book, length);
      if (run >= WARMUP) times.get(book)!.push(nanos);
    }
  }
  const figures = books.map((book): BookFigures => {
    const runsOpsPerSec = times.get(book)!.map((nanos) => (length * 1e9) / nanos);
    const nanos = median(times.get(book)!);
    return {
      opsPerSec: (length * 1e9) / nanos,
      nsPerOp: nanos / length,
      runsOpsPerSec,
      latencyNs: latencyPass(book, length),
      heapMiB: Number.NaN,
    };
  });
  const [spotwire, nob] = figures as [BookFigures, BookFigures];
  return {
    stream: name,
    commands: length,
    trades: stream.trades,
    restingAtEnd: stream.restingAtEnd,
    maxResting: stream.maxResting,
    equalWork,
    spotwire,
    nob,
    ratio: spotwire.opsPerSec / nob.opsPerSec,
    bestRatio: Math.max(...spotwire.runsOpsPerSec) / Math.max(...nob.runsOpsPerSec),
  };
}

function main(): void {
  const host = printMachine();
  const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!gcExposed) console.log('(run with node --expose-gc for heap figures and a collection before each run)');
  console.log(`runs: ${WARMUP} warm-up + ${RUNS} timed per book, alternating; medians\n`);
  const only = new Set(args.only.split(','));
  const results: (StreamFigures & { rejects: RejectCounts })[] = [];
  const heapPasses: (() => void)[] = [];
  for (const name of STREAM_NAMES) {
    if (!only.has(name)) continue;
    const started = Date.now();
    const stream = buildStream(name, Math.round(LENGTHS[name] * SCALE));
    const books = [new SpotwireBook(stream), new NodejsOrderBookAdapter(stream)] as const;
    const timed = benchStream(name, stream, books);
    // After timing: a stream of rejects (an unfunded account, say) would time as a fast engine.
    const rejects = books[0].tallyRejects();
    const result = { ...timed, rejects: rejects.toJSON() };
    results.push(result);
    heapPasses.push(() => {
      result.spotwire.heapMiB = heapHeld(books[0], stream.commands.length);
      result.nob.heapMiB = heapHeld(books[1], stream.commands.length);
    });
    console.log(
      `${name}: ${result.commands} commands, ${result.trades} trades, resting ${result.restingAtEnd} at end (max ${result.maxResting}), ` +
        `equal work: ${result.equalWork ? 'yes' : 'NO'}, spotwire ${rejects.summary()} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  const overhead = timerOverhead();
  if (gcExposed) for (const pass of heapPasses) pass();

  console.log('');
  const rows: string[][] = [];
  for (const r of results) {
    for (const [label, f] of [
      ['spotwire', r.spotwire],
      ['nodejs-order-book', r.nob],
    ] as const) {
      rows.push([
        label === 'spotwire' ? r.stream : '',
        label,
        human(f.opsPerSec),
        `${f.nsPerOp.toFixed(0)}`,
        label === 'spotwire' ? `${r.ratio.toFixed(1)}×` : '',
        human(Math.max(...f.runsOpsPerSec)),
        label === 'spotwire' ? `${r.bestRatio.toFixed(1)}×` : '',
        duration(f.latencyNs.p50),
        duration(f.latencyNs.p99),
        duration(f.latencyNs.p999),
        duration(f.latencyNs.max),
        gcExposed ? f.heapMiB.toFixed(1) : '-',
      ]);
    }
  }
  printTable(['stream', 'book', 'ops/s', 'ns/op', 'ratio', 'best ops/s', 'best ratio', 'p50', 'p99', 'p99.9', 'max', 'heap MiB'], rows);
  console.log('\nops/s, ns/op, ratio: medians of the timed runs; best: the fastest run of each book.');
  console.log(`per-command latency includes the timer: hrtime pair alone p50 ${duration(overhead.p50)}, p99 ${duration(overhead.p99)}`);
  const steady = results.find((r) => r.stream === 'steady');
  const deep = results.find((r) => r.stream === 'deep');
  const targets: string[] = [];
  if (steady) {
    targets.push(
      `steady ≥ 4× nodejs-order-book: ${steady.ratio.toFixed(1)}× (best ${steady.bestRatio.toFixed(1)}×) ${steady.ratio >= 4 ? 'met' : 'MISSED'}`,
    );
    const p99 = steady.spotwire.latencyNs.p99;
    targets.push(`steady p99 ≤ 5 µs: ${duration(p99)} ${p99 <= 5000 ? 'met' : 'MISSED'}`);
  }
  if (deep)
    targets.push(
      `deep ≥ 50× nodejs-order-book: ${deep.ratio.toFixed(1)}× (best ${deep.bestRatio.toFixed(1)}×) ${deep.ratio >= 50 ? 'met' : 'MISSED'}`,
    );
  for (const line of targets) console.log(`target: ${line}`);
  for (const r of results) {
    if (r.ratio < 1) console.log(`finding: spotwire is slower than nodejs-order-book on ${r.stream} (${r.ratio.toFixed(2)}×)`);
  }

  console.log(
    JSON.stringify({
      bench: 'engine',
      machine: host,
      runs: RUNS,
      warmup: WARMUP,
      timerOverheadNs: overhead,
      streams: results.map((r) => ({
        ...r,
        spotwire: { ...r.spotwire, opsPerSec: Math.round(r.spotwire.opsPerSec) },
        nob: { ...r.nob, opsPerSec: Math.round(r.nob.opsPerSec) },
        ratio: Number(r.ratio.toFixed(2)),
        bestRatio: Number(r.bestRatio.toFixed(2)),
      })),
    }),
  );
}

/** This tree against `rev` on one stream: child processes, alternating ABBA…, medians of their medians. */
function compareWithBaseline(rev: string): void {
  const { root, commit } = baselineTree(rev);
  const stream = args['baseline-stream'];
  const length = Math.round(LENGTHS[stream as StreamName] * SCALE);
  const trees = [
    { name: 'this tree', root: REPO_ROOT, medians: [] as number[], trades: 0 },
    { name: `${rev} (${commit.slice(0, 7)})`, root, medians: [] as number[], trades: 0 },
  ];
  const rounds = Math.max(1, Number(args['baseline-rounds']));
  console.log(`\nbaseline: this tree vs ${rev} on ${stream} (${length} commands), ${rounds} child processes each, alternating`);
  for (let round = 0; round < rounds; round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      const output = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          join(REPO_ROOT, 'bench/lib/engine-tree-run.ts'),
          tree.root,
          stream,
          String(length),
          String(RUNS),
          String(WARMUP),
        ],
        { cwd: tree.root, encoding: 'utf8' },
      );
      const { nsPerCommand, trades } = JSON.parse(output.trim().split('\n').pop()!) as { nsPerCommand: number[]; trades: number };
      tree.medians.push(median(nsPerCommand));
      tree.trades = trades;
    }
  }
  const [mine, base] = trees.map((t) => median(t.medians)) as [number, number];
  printTable(
    ['tree', 'trades', 'ns/command per process (medians)', 'median', 'commands/s'],
    trees.map((t) => [
      t.name,
      String(t.trades),
      t.medians.map((m) => m.toFixed(0)).join(' '),
      median(t.medians).toFixed(0),
      human(1e9 / median(t.medians)),
    ]),
  );
  if (trees[0]!.trades !== trees[1]!.trades) console.log(`  ! the trees made different trades: not the same work`);
  console.log(`this tree does ${((100 * base) / mine).toFixed(0)}% of ${rev}'s throughput on ${stream}`);
}

main();
if (args.baseline !== undefined) compareWithBaseline(args.baseline);
