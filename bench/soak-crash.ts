// soak: the kill -9 harness of test/journal/crash.test.ts, for longer. The real server is SIGKILLed
// at random moments under pipelined trading and restarted on the same data dir, many times; every
// restart checks that acked orders and reported fills are there exactly once. Prints, never asserts.
// Run: npm run bench:soak-crash -- [--kills 500] [--seed 1] [--min-ms 100] [--max-ms 600] [--keep]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCrashCycles } from './lib/crash-cycles.js';
import { SOAK_MARKETS } from './lib/soak-setup.js';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '500' },
    seed: { type: 'string', default: '1' },
    'min-ms': { type: 'string', default: '100' },
    'max-ms': { type: 'string', default: '600' },
    'snapshot-every': { type: 'string', default: '2000' },
    keep: { type: 'boolean', default: false },
  },
});

const root = mkdtempSync(join(tmpdir(), 'spotwire-soak-crash-'));
const started = performance.now();
const seconds = (): string => ((performance.now() - started) / 1000).toFixed(0);
try {
  const result = await runCrashCycles({
    root,
    markets: SOAK_MARKETS,
    accounts: ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'],
    kills: Number(args.kills),
    seed: Number(args.seed),
    snapshotEvery: Number(args['snapshot-every']),
    tradeMs: [Number(args['min-ms']), Number(args['max-ms'])],
    quiesceEvery: 7,
    stopOnViolation: false,
    onCycle: (cycle, progress) => {
      if (cycle % 10 === 0) {
        console.log(
          `${seconds()} s: ${progress.kills} kills, ${progress.violations.length} violation lines, exact checks ${progress.stats.certain}`,
        );
      }
    },
  });
  const starts = [...result.startMs].sort((a, b) => a - b);
  console.log(`kills                      ${result.kills} (${result.quiescedKills} after quiescing)`);
  console.log(`torn tails cut at restart  ${result.tornTails}`);
  console.log(`places acked               ${result.placesAcked}`);
  console.log(`fills reported             ${result.fillsReported}`);
  console.log(`orders checked exactly     ${result.stats.certain}`);
  console.log(
    `orders allowed to differ   ${result.stats.uncertain} (a request in flight or a batch the owner had not received at the kill may have changed them)`,
  );
  console.log(`in-flight places committed ${result.stats.phantoms}`);
  console.log(`start+recovery ms          p50 ${starts[Math.floor(starts.length / 2)]?.toFixed(0)}, max ${starts.at(-1)?.toFixed(0)}`);
  console.log(`final SIGTERM exit         ${JSON.stringify(result.finalExit)}`);
  console.log(`violations                 ${result.violations.length === 0 ? 'none' : ''}`);
  for (const line of result.violations.slice(0, 50)) console.log(`  ${line}`);
  console.log(`elapsed                    ${seconds()} s`);
} finally {
  if (args.keep) console.log(`data kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
