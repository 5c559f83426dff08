// The replay CLI's flags: parsed strictly, every mistake a UsageError (exit 2) that says what is
// wrong, before anything touches the session.
import { parseArgs } from 'node:util';
import type { Speed } from './playback.js';

export const USAGE = `Usage: npm run replay -- <dir> --verify | --serve [options]

<dir> is a server data dir (journal/, snapshots/, markets.json) or its journal/ dir.
Nothing in it is written: a torn tail is left as it is.

  --verify              re-run the journal through two fresh engines; compare their outputs
                        per record and the state with every snapshot the live server left.
                        Exit 0 with a summary, or 1 with the first divergence.
  --serve               serve the session's market data over the live protocol at /ws
                        (markets, sub/unsub book, trades, candles and ticker, ping; trading ops are rejected
                        with bad_request "replay is read-only"). Runs until SIGINT/SIGTERM.
    --port P            listen port (default 9001; 0 picks a free one)
    --host H            listen address (default 127.0.0.1)
    --speed S           1 (real pace, default), 10, any factor > 0, or max
    --from SEQ          start publishing at the batch holding journal sequence SEQ; the state
                        before it comes from the newest snapshot <= SEQ plus fast-forward
    --from-time T       start at the first batch stamped >= T (ms since epoch or ISO 8601)
    --to SEQ            stop after the last batch that ends at or before SEQ
    --to-time T         stop after the last batch stamped <= T
    --wait-subs N       hold playback until N subscriptions have been made (default 0)
  --markets F           markets JSON, if the dir has no markets.json (default: demo markets)
  --help                this text

Exit codes: 0 ok, 1 divergence or error, 2 bad usage.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

interface Common {
  readonly dir: string;
  readonly marketsFile: string | null;
}

export interface VerifyArgs extends Common {
  readonly mode: 'verify';
}

export interface ServeArgs extends Common {
  readonly mode: 'serve';
  readonly host: string;
  readonly port: number;
  readonly speed: Speed;
  readonly from: { readonly seq: number } | { readonly time: number } | null;
  readonly to: { readonly seq: number } | { readonly time: number } | null;
  readonly waitSubs: number;
}

export type ReplayArgs = VerifyArgs | ServeArgs | { readonly mode: 'help' };

const SERVE_ONLY = ['port', 'host', 'speed', 'from', 'from-time', 'to', 'to-time', 'wait-subs'] as const;

function integer(text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} needs an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function time(text: string, flag: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${flag} needs ms since the epoch or an ISO 8601 time, got "${text}"`);
  return value;
}

function speed(text: string): Speed {
  if (text === 'max') return 'max';
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > 0)) throw new UsageError(`--speed is 1, 10, another factor > 0, or max; got "${text}"`);
  return value;
}

function bound(values: Record<string, string | boolean | undefined>, name: 'from' | 'to'): { seq: number } | { time: number } | null {
  const seqText = values[name] as string | undefined;
  const timeText = values[`${name}-time`] as string | undefined;
  if (seqText !== undefined && timeText !== undefined) throw new UsageError(`give --${name} or --${name}-time, not both`);
  if (seqText !== undefined) return { seq: integer(seqText, name, 1) };
  if (timeText !== undefined) return { time: time(timeText, `${name}-time`) };
  return null;
}

export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // Node's own wording suggests `--` tricks; name the option plainly instead.
    const unknown = /Unknown option '([^']+)'/.exec((error as Error).message);
    throw new UsageError(unknown ? `unknown option ${unknown[1]}` : (error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { mode: 'help' };
  if (values.verify === values.serve) throw new UsageError('give exactly one of --verify or --serve');
  if (positionals.length !== 1) throw new UsageError(`give exactly one session dir, got ${positionals.length}`);
  const common = { dir: positionals[0]!, marketsFile: values.markets ?? null };
  if (values.verify) {
    const misplaced = SERVE_ONLY.find((flag) => values[flag] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} applies to --serve only`);
    return { mode: 'verify', ...common };
  }
  const from = bound(values, 'from');
  const to = bound(values, 'to');
  if (from && to && 'seq' in from && 'seq' in to && to.seq < from.seq) throw new UsageError('--to is before --from');
  if (from && to && 'time' in from && 'time' in to && to.time < from.time) throw new UsageError('--to-time is before --from-time');
  return {
    mode: 'serve',
    ...common,
    host: values.host ?? '127.0.0.1',
    port: values.port === undefined ? 9001 : integer(values.port, 'port', 0, 65535),
    speed: values.speed === undefined ? 1 : speed(values.speed),
    from,
    to,
    waitSubs: values['wait-subs'] === undefined ? 0 : integer(values['wait-subs'], 'wait-subs', 0),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      verify: { type: 'boolean' },
      serve: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      speed: { type: 'string' },
      from: { type: 'string' },
      'from-time': { type: 'string' },
      to: { type: 'string' },
      'to-time': { type: 'string' },
      'wait-subs': { type: 'string' },
      markets: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
