// Server configuration: CLI flags, each also read from the environment (README "Options"; the keys
// and markets files: docs/PROTOCOL.md), with embedded defaults so `npm start` needs nothing. Invalid files fail fast with a
// message that names the file and the problem.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { MarketInfo } from '../protocol/messages.js';
import {
  FEE_RATE_SCALE,
  FEES_ACCOUNT,
  MAX_ACCOUNT_LENGTH,
  MAX_ASSET_LENGTH,
  MAX_SYM_LENGTH,
  MAX_TOKEN_LENGTH,
  ROLES,
  isOneOf,
  type Role,
} from '../protocol/constants.js';

export interface ApiKey {
  readonly token: string;
  readonly account: string;
  readonly role: Role;
  /** Initial funding per asset, credited once as a deposit with ref `init:<account>:<asset>`. */
  readonly deposit: Readonly<Record<string, number>>;
}

/** single: one process does everything; core and gateway split it over a bus (docs/SCALING.md). */
export const SERVER_ROLES = ['single', 'core', 'gateway'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

export interface ServerConfig {
  readonly role: ServerRole;
  /** The Redis of the cluster's bus (Redis Streams); null for a single process. */
  readonly busUrl: string | null;
  /** How long an edge gateway waits for the core's answer to a forwarded command. */
  readonly busTimeoutMs: number;
  /** Entries each bus stream keeps (XADD MAXLEN ~): how far a gateway may fall behind. */
  readonly busStreamLength: number;
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly dataDir: string;
  readonly keysFile: string | null;
  readonly keys: readonly ApiKey[];
  readonly marketsFile: string | null;
  readonly markets: readonly MarketInfo[];
  readonly redisUrl: string | null;
  readonly databaseUrl: string | null;
  /** Prefix of every Redis key the write-behind writes (several servers can share one Redis). */
  readonly redisPrefix: string;
  /** Longest one write-behind call to a sink may take before it counts as hung. */
  readonly sinkDeadlineMs: number;
  /** How long a graceful stop waits for the sinks to catch up with the journal. */
  readonly writeBehindDrainMs: number;
  /**
   * Nice value (0–19) of the write-behind worker thread. Above 0, matching wins the CPU whenever
   * both want it: the sinks fall behind during a burst (the journal holds what they still need)
   * and catch up when it passes, instead of taking throughput from trading.
   */
  readonly writeBehindNice: number;
  /**
   * Share of time (0–1] the write-behind may work while the matching thread is saturated; it
   * rests the rest (server/persistence/matching-pressure.ts). 1: it never rests.
   */
  readonly writeBehindBusyDuty: number;
  /** Largest WebSocket frame accepted; larger frames close the socket (1009). */
  readonly maxPayloadBytes: number;
  /** Bytes a socket may have queued before it is treated as a slow consumer and closed. */
  readonly maxBackpressureBytes: number;
  /** Requests per second one connection may send (token bucket, burst = one second's worth). */
  readonly rateLimitPerSecond: number;
  /** Requests per second one account may send across all its connections (0: no account limit). */
  readonly accountRateLimitPerSecond: number;
  /** Connections one remote address may hold open (0: no cap); one more is closed 1008. */
  readonly maxConnectionsPerIp: number;
  /** Connections one account may have logged in (0: no cap); one more login is `too_many_connections`. */
  readonly maxConnectionsPerAccount: number;
  readonly maxOpenOrdersPerAccount: number;
  /** Private-stream messages (execs, balances) kept per account for login's resumeFrom. */
  readonly privateStreamRetention: number;
  /** Closed orders remembered per account for `order`. */
  readonly closedOrderRetention: number;
  readonly logLevel: string;
  /** fdatasync each journal group; off only to measure what durability costs. */
  readonly fsync: boolean;
  readonly keepJournal: boolean;
  readonly snapshotEveryCommands: number;
  readonly snapshotEveryMs: number;
  readonly segmentBytes: number;
}

export const DEMO_MARKETS: readonly MarketInfo[] = [
  { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 1000, takerFee: 2000 },
  { sym: 'ETH-USD', base: 'ETH', quote: 'USD', pxDecimals: 2, qtyDecimals: 4, makerFee: 1000, takerFee: 2000 },
];

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 9001,
  dataDir: './data',
  maxPayloadBytes: 64 * 1024,
  maxBackpressureBytes: 1024 * 1024,
  rateLimitPerSecond: 200_000,
  accountRateLimitPerSecond: 400_000,
  maxConnectionsPerIp: 256,
  maxConnectionsPerAccount: 32,
  privateStreamRetention: 1000,
  closedOrderRetention: 1000,
  maxOpenOrdersPerAccount: 10_000,
  logLevel: 'info',
  snapshotEveryCommands: 1_000_000,
  snapshotEveryMs: 60_000,
  segmentBytes: 64 * 1024 * 1024,
  redisPrefix: 'spotwire:',
  sinkDeadlineMs: 5_000,
  writeBehindDrainMs: 10_000,
  writeBehindNice: 10,
  writeBehindBusyDuty: 0.1,
  busTimeoutMs: 5_000,
  busStreamLength: 100_000,
} as const;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${what} file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** Names the file, the entry and the field of a config mistake, and what was found. */
class ConfigEntry {
  constructor(
    private readonly what: string,
    private readonly source: string,
    private readonly index: number,
    private readonly entry: Record<string, unknown>,
  ) {}

  fail(problem: string): never {
    throw new Error(`${this.what} file ${this.source} entry ${this.index}: ${problem}`);
  }

  name(field: string, max: number): string {
    const value = this.entry[field];
    if (!isName(value, max)) this.fail(`${field} must be a string of 1 to ${max} chars, got ${JSON.stringify(value) ?? 'nothing'}`);
    return value;
  }

  integer(field: string, min: number, max: number, fallback?: number): number {
    const value = this.entry[field];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(`${field} must be an integer ${min}–${max}, got ${JSON.stringify(value) ?? 'nothing'}`);
    }
    return value;
  }
}

function entriesOf(value: unknown, what: string, source: string, shape: string): ConfigEntry[] {
  if (!Array.isArray(value)) throw new Error(`${what} file ${source}: expected a JSON array of ${shape}`);
  return value.map((entry: unknown, index) => {
    if (!isRecord(entry)) throw new Error(`${what} file ${source} entry ${index}: expected an object ${shape}`);
    return new ConfigEntry(what, source, index, entry);
  });
}

function parseDeposit(entry: ConfigEntry, value: unknown): Record<string, number> {
  if (value === undefined) return {};
  if (!isRecord(value)) entry.fail('deposit must be an object {"<asset>": amount, …}');
  const deposit: Record<string, number> = {};
  for (const [asset, amount] of Object.entries(value)) {
    if (!isName(asset, MAX_ASSET_LENGTH)) entry.fail(`deposit asset ${JSON.stringify(asset)} is not a valid asset name`);
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1) {
      entry.fail(`deposit.${asset} must be a safe integer ≥ 1 in the asset's ledger units, got ${JSON.stringify(amount)}`);
    }
    deposit[asset] = amount;
  }
  return deposit;
}

export function parseKeys(value: unknown, source: string): ApiKey[] {
  const tokens = new Set<string>();
  return entriesOf(value, 'keys', source, '{token, account, role?, deposit?}').map((entry: ConfigEntry, index) => {
    const raw = (value as Record<string, unknown>[])[index]!;
    const token = entry.name('token', MAX_TOKEN_LENGTH);
    const account = entry.name('account', MAX_ACCOUNT_LENGTH);
    if (account === FEES_ACCOUNT) entry.fail(`account ${FEES_ACCOUNT} is reserved for collected fees`);
    if (tokens.has(token)) entry.fail('repeats the token of an earlier entry');
    tokens.add(token);
    const role = raw.role ?? 'trader';
    if (!isOneOf(ROLES, role)) entry.fail(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
    return { token, account, role, deposit: parseDeposit(entry, raw.deposit) };
  });
}

export function parseMarkets(value: unknown, source: string): MarketInfo[] {
  const entries = entriesOf(value, 'markets', source, '{sym, base, quote, pxDecimals, qtyDecimals, makerFee?, takerFee?}');
  if (entries.length === 0) throw new Error(`markets file ${source}: lists no market`);
  const syms = new Set<string>();
  return entries.map((entry) => {
    const sym = entry.name('sym', MAX_SYM_LENGTH);
    if (syms.has(sym)) entry.fail(`market ${sym} is listed twice`);
    syms.add(sym);
    const base = entry.name('base', MAX_ASSET_LENGTH);
    const quote = entry.name('quote', MAX_ASSET_LENGTH);
    if (base === quote) entry.fail(`base and quote are both ${base}`);
    return {
      sym,
      base,
      quote,
      pxDecimals: entry.integer('pxDecimals', 0, 18),
      qtyDecimals: entry.integer('qtyDecimals', 0, 18),
      makerFee: entry.integer('makerFee', 0, FEE_RATE_SCALE, 0),
      takerFee: entry.integer('takerFee', 0, FEE_RATE_SCALE, 0),
    };
  });
}

function positiveInteger(value: string, name: string, allowZero = false): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < (allowZero ? 0 : 1)) {
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`);
  }
  return number;
}

function niceValue(value: string): number {
  const nice = positiveInteger(value, 'WRITE_BEHIND_NICE', true);
  if (nice > 19) throw new Error(`WRITE_BEHIND_NICE must be 0..19, got "${value}"`);
  return nice;
}

function dutyCycle(value: string): number {
  const duty = Number(value);
  if (!(duty > 0 && duty <= 1)) throw new Error(`WRITE_BEHIND_BUSY_DUTY must be in (0, 1], got "${value}"`);
  return duty;
}

/** Reads flags from argv and falls back to the environment, then to the defaults. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServerConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      keys: { type: 'string' },
      markets: { type: 'string' },
      'redis-url': { type: 'string' },
      'database-url': { type: 'string' },
      'redis-prefix': { type: 'string' },
      'rate-limit': { type: 'string' },
      'account-rate-limit': { type: 'string' },
      'max-connections-per-ip': { type: 'string' },
      'max-connections-per-account': { type: 'string' },
      'log-level': { type: 'string' },
      'keep-journal': { type: 'boolean' },
      'no-fsync': { type: 'boolean' },
      'snapshot-every': { type: 'string' },
      role: { type: 'string' },
      bus: { type: 'string' },
    },
    strict: true,
  });
  const portText = values.port ?? env.PORT;
  const keysFile = values.keys ?? env.KEYS_FILE ?? null;
  const marketsFile = values.markets ?? env.MARKETS_FILE ?? null;
  const rateText = values['rate-limit'] ?? env.RATE_LIMIT;
  const snapshotText = values['snapshot-every'] ?? env.SNAPSHOT_EVERY;
  const accountRateText = values['account-rate-limit'] ?? env.ACCOUNT_RATE_LIMIT;
  const perIpText = values['max-connections-per-ip'] ?? env.MAX_CONNECTIONS_PER_IP;
  const perAccountText = values['max-connections-per-account'] ?? env.MAX_CONNECTIONS_PER_ACCOUNT;
  const role = values.role ?? env.ROLE ?? 'single';
  if (!isOneOf(SERVER_ROLES, role)) throw new Error(`role must be one of ${SERVER_ROLES.join(', ')}, got "${role}"`);
  const busUrl = values.bus ?? env.BUS_URL ?? null;
  if (role !== 'single' && busUrl === null) throw new Error(`--role ${role} needs --bus redis://host:port (or BUS_URL)`);
  return {
    role,
    busUrl,
    busTimeoutMs: env.BUS_TIMEOUT_MS === undefined ? DEFAULTS.busTimeoutMs : positiveInteger(env.BUS_TIMEOUT_MS, 'BUS_TIMEOUT_MS'),
    busStreamLength:
      env.BUS_STREAM_MAXLEN === undefined ? DEFAULTS.busStreamLength : positiveInteger(env.BUS_STREAM_MAXLEN, 'BUS_STREAM_MAXLEN'),
    host: values.host ?? env.HOST ?? DEFAULTS.host,
    port: portText === undefined ? DEFAULTS.port : positiveInteger(portText, 'port', true),
    dataDir: values['data-dir'] ?? env.DATA_DIR ?? DEFAULTS.dataDir,
    keysFile,
    keys: keysFile === null ? [] : parseKeys(readJson(keysFile, 'keys'), keysFile),
    marketsFile,
    markets: marketsFile === null ? DEMO_MARKETS : parseMarkets(readJson(marketsFile, 'markets'), marketsFile),
    redisUrl: values['redis-url'] ?? env.REDIS_URL ?? null,
    databaseUrl: values['database-url'] ?? env.DATABASE_URL ?? null,
    redisPrefix: values['redis-prefix'] ?? env.REDIS_PREFIX ?? DEFAULTS.redisPrefix,
    sinkDeadlineMs:
      env.SINK_DEADLINE_MS === undefined ? DEFAULTS.sinkDeadlineMs : positiveInteger(env.SINK_DEADLINE_MS, 'SINK_DEADLINE_MS'),
    writeBehindDrainMs: DEFAULTS.writeBehindDrainMs,
    writeBehindNice: env.WRITE_BEHIND_NICE === undefined ? DEFAULTS.writeBehindNice : niceValue(env.WRITE_BEHIND_NICE),
    writeBehindBusyDuty: env.WRITE_BEHIND_BUSY_DUTY === undefined ? DEFAULTS.writeBehindBusyDuty : dutyCycle(env.WRITE_BEHIND_BUSY_DUTY),
    maxPayloadBytes: DEFAULTS.maxPayloadBytes,
    maxBackpressureBytes: DEFAULTS.maxBackpressureBytes,
    rateLimitPerSecond: rateText === undefined ? DEFAULTS.rateLimitPerSecond : positiveInteger(rateText, 'rate limit'),
    accountRateLimitPerSecond:
      accountRateText === undefined ? DEFAULTS.accountRateLimitPerSecond : positiveInteger(accountRateText, 'account-rate-limit', true),
    maxConnectionsPerIp:
      perIpText === undefined ? DEFAULTS.maxConnectionsPerIp : positiveInteger(perIpText, 'max-connections-per-ip', true),
    maxConnectionsPerAccount:
      perAccountText === undefined
        ? DEFAULTS.maxConnectionsPerAccount
        : positiveInteger(perAccountText, 'max-connections-per-account', true),
    maxOpenOrdersPerAccount: DEFAULTS.maxOpenOrdersPerAccount,
    privateStreamRetention:
      env.PRIVATE_STREAM_RETENTION === undefined
        ? DEFAULTS.privateStreamRetention
        : positiveInteger(env.PRIVATE_STREAM_RETENTION, 'PRIVATE_STREAM_RETENTION'),
    closedOrderRetention:
      env.CLOSED_ORDER_RETENTION === undefined
        ? DEFAULTS.closedOrderRetention
        : positiveInteger(env.CLOSED_ORDER_RETENTION, 'CLOSED_ORDER_RETENTION'),
    logLevel: values['log-level'] ?? env.LOG_LEVEL ?? DEFAULTS.logLevel,
    fsync: !(values['no-fsync'] ?? env.JOURNAL_FSYNC === 'off'),
    keepJournal: values['keep-journal'] ?? env.KEEP_JOURNAL === '1',
    snapshotEveryCommands: snapshotText === undefined ? DEFAULTS.snapshotEveryCommands : positiveInteger(snapshotText, 'snapshot-every'),
    snapshotEveryMs: DEFAULTS.snapshotEveryMs,
    segmentBytes: DEFAULTS.segmentBytes,
  };
}
