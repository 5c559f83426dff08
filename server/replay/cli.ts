// `npm run replay -- <dir> --verify | --serve [options]` (usage in cli-args.ts): the replay tool's
// entry point, the only place that reads argv, prints, handles signals and exits the process.
import { pino } from 'pino';
import { createCommandCodec } from '../journal/command-codec.js';
import { readJournal, type TornTail } from '../journal/journal-reader.js';
import type { RecoveryLog } from '../journal/recovery.js';
import { parseReplayArgs, UsageError, USAGE, type ServeArgs } from './cli-args.js';
import { locateSession, type SessionPaths } from './journal-source.js';
import { countJournal } from './journal-stats.js';
import { playRecords } from './playback.js';
import { Progress } from './progress.js';
import { earliestStart, seqAtTime, stateBefore } from './seek.js';
import { startReplayServer } from './serve.js';
import { verifySession } from './verify.js';
import { listSegments, seqOfName } from '../journal/file-names.js';

const out = (line: string): boolean => process.stdout.write(`${line}\n`);
const err = (line: string): boolean => process.stderr.write(`${line}\n`);

const perSecond = (count: number, ms: number): string => (ms > 0 ? Math.round((count * 1000) / ms).toString() : 'n/a');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
const describeTorn = (tail: TornTail): string =>
  `the journal ends in a torn record (segment ${tail.segment}, offset ${tail.offset}: ${tail.reason}); it was never acknowledged and is not replayed`;

async function runVerify(paths: SessionPaths): Promise<number> {
  const report = await verifySession(paths);
  if (report.tornTail) err(`note: ${describeTorn(report.tornTail)}`);
  if (!report.ok) {
    out(`verify FAILED after ${report.commands} commands in ${report.records} records: ${report.divergence ?? 'unknown divergence'}`);
    return 1;
  }
  out(
    `verify ok: ${report.commands} commands in ${report.records} records, ${report.trades} trades, ${report.snapshotsChecked} snapshots checked`,
  );
  out(`state hash ${report.stateHash}`);
  out(`elapsed ${seconds(report.elapsedMs)}, ${perSecond(report.commands, report.elapsedMs)} commands/s`);
  return 0;
}

async function runServe(paths: SessionPaths, args: ServeArgs): Promise<number> {
  // Handlers first: whoever reads the "serving" line may signal at once.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stopped = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
  const codec = createCommandCodec();
  const log: RecoveryLog = {
    info: () => undefined,
    warn: (fields, msg) => err(`replay: warning: ${msg} ${JSON.stringify(fields)}`),
  };
  const start = await earliestStart(paths);
  const fromSeq = args.from === null ? start.seq : 'seq' in args.from ? args.from.seq : seqAtTime(paths, start, args.from.time, codec);
  const state = await stateBefore(paths, fromSeq, codec, log);
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const server = await startReplayServer(paths, state, { host: args.host, port: args.port, logger });
  const seqsText = (): string => [...server.bookSeqs()].map(([sym, seq]) => `${sym} ${seq}`).join(', ');
  const origin = state.snapshotSeq > 0 ? `snapshot ${state.snapshotSeq}` : 'the start';
  out(
    `replay: serving ws://${args.host}:${server.port}/ws from journal sequence ${state.nextSeq} ` +
      `(state from ${origin} + ${state.replayedCommands} commands fast-forwarded; book seqs ${seqsText()}), speed ${args.speed}`,
  );

  if (args.waitSubs > 0) {
    out(`replay: waiting for ${args.waitSubs} subscriptions`);
    await Promise.race([server.subscriptions(args.waitSubs), stopped]);
  }

  let tornTail: TornTail | null = null;
  const records = readJournal(paths.journalDir, {
    fromSeq: state.nextSeq,
    chainBefore: state.chain,
    codec,
    onTornTail: (tail) => {
      tornTail = tail;
    },
  });
  const toSeq = args.to !== null && 'seq' in args.to ? args.to.seq : null;
  const toTime = args.to !== null && 'time' in args.to ? args.to.time : null;
  const firstSegment = listSegments(paths.journalDir)[0];
  const lastSeq = (firstSegment ? seqOfName(firstSegment) : 1) - 1 + countJournal(paths.journalDir).commands;
  const progress = new Progress('replay', Math.max(0, Math.min(toSeq ?? lastSeq, lastSeq) - state.nextSeq + 1));
  let trades = 0;
  try {
    const stats = await playRecords(
      records,
      args.speed,
      { toSeq, toTime },
      {
        play: (record) => {
          trades += server.publish(record);
        },
        backlogBytes: () => server.backlogBytes(),
        onProgress: (commands) => progress.update(commands),
      },
      stop.signal,
    );
    progress.finish();
    const range = stats.firstSeq === null ? 'nothing' : `journal sequences ${stats.firstSeq}..${stats.lastSeq}`;
    out(
      `replay ${stop.signal.aborted ? 'stopped' : 'done'}: published ${range}: ${stats.commands} commands in ${stats.records} records, ` +
        `${trades} trades, book seqs ${seqsText()}, elapsed ${seconds(stats.elapsedMs)}, ${perSecond(stats.commands, stats.elapsedMs)} commands/s`,
    );
    const torn = tornTail as TornTail | null;
    if (torn) err(`note: ${describeTorn(torn)}`);
    if (!stop.signal.aborted) {
      out('replay: still serving the final state; SIGINT or SIGTERM to stop');
      await stopped;
    }
  } catch (error) {
    progress.finish();
    throw error;
  } finally {
    await server.close();
  }
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseReplayArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`replay: ${error.message} (npm run replay -- --help lists the options)`);
    return 2;
  }
  if (args.mode === 'help') {
    out(USAGE);
    return 0;
  }
  const paths = locateSession(args.dir, args.marketsFile);
  return args.mode === 'verify' ? runVerify(paths) : runServe(paths, args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    err(`replay: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
