// What the command-line entry points print for --help and for a bad flag: usage on request, and a
// mistake as one line with exit code 2 (not a log line with a stack trace).
import { DEFAULTS } from './config.js';

export const SERVER_USAGE = `Usage: npm start -- [options]

Each flag is also read from the environment (in brackets); flags win.

  --port N             listen port [PORT] (default ${DEFAULTS.port}; 0 picks a free one)
  --host H             listen address [HOST] (default ${DEFAULTS.host})
  --data-dir D         journal, snapshots, dead letters [DATA_DIR] (default ${DEFAULTS.dataDir})
  --keys F             API keys, JSON [{"token","account","role"?,"deposit"?}] [KEYS_FILE]
                       (default none: nobody can trade; role trader|admin, deposit {"<asset>": units})
  --markets F          markets, JSON [{"sym","base","quote","pxDecimals","qtyDecimals","makerFee"?,"takerFee"?}]
                       [MARKETS_FILE] (default the demo markets BTC-USD, ETH-USD; fees in ppm)
  --redis-url URL      write-behind to Redis [REDIS_URL] (default off)
  --database-url URL   write-behind to Postgres [DATABASE_URL] (default off)
  --redis-prefix P     prefix of every Redis key written [REDIS_PREFIX] (default ${DEFAULTS.redisPrefix})
  --rate-limit N       requests/s per connection [RATE_LIMIT] (default ${DEFAULTS.rateLimitPerSecond})
  --account-rate-limit N           requests/s per account, across its connections [ACCOUNT_RATE_LIMIT]
                                  (default ${DEFAULTS.accountRateLimitPerSecond}; 0: no account limit)
  --max-connections-per-ip N       open connections per remote address [MAX_CONNECTIONS_PER_IP]
                                  (default ${DEFAULTS.maxConnectionsPerIp}; 0: no cap)
  --max-connections-per-account N  logged-in connections per account [MAX_CONNECTIONS_PER_ACCOUNT]
                                  (default ${DEFAULTS.maxConnectionsPerAccount}; 0: no cap)
  --keep-journal       keep segments a snapshot made unnecessary [KEEP_JOURNAL=1] (default off)
  --snapshot-every N   commands between snapshots [SNAPSHOT_EVERY] (default ${DEFAULTS.snapshotEveryCommands}; also every ${DEFAULTS.snapshotEveryMs / 1000} s)
  --no-fsync           do not fdatasync the journal (only to measure durability's cost) [JOURNAL_FSYNC=off]
  --log-level L        pino level [LOG_LEVEL] (default ${DEFAULTS.logLevel})
  --role R             single | core | gateway [ROLE] (default single; docs/SCALING.md)
  --bus URL            the cluster's Redis, for --role core and gateway [BUS_URL] (keys under --redis-prefix)
  --help, -h           this text

Environment only:
  CLOSED_ORDER_RETENTION    closed orders and fills remembered per account (order, my_trades) (default ${DEFAULTS.closedOrderRetention})
  PRIVATE_STREAM_RETENTION  execs and balances kept per account for login's resumeFrom (default ${DEFAULTS.privateStreamRetention})
  SINK_DEADLINE_MS        longest one write-behind call may take (default ${DEFAULTS.sinkDeadlineMs})
  WRITE_BEHIND_NICE       nice value 0-19 of the write-behind thread (default ${DEFAULTS.writeBehindNice})
  WRITE_BEHIND_BUSY_DUTY  share of time (0-1] the sinks work while matching is saturated (default ${DEFAULTS.writeBehindBusyDuty})
  BUS_TIMEOUT_MS          a gateway's wait for the core's answer before unavailable (default ${DEFAULTS.busTimeoutMs})
  BUS_STREAM_MAXLEN       entries each bus stream keeps (default ${DEFAULTS.busStreamLength}); a gateway further behind exits 75
  LOG_FORMAT              json or pretty (default: pretty on a terminal, json otherwise)

Exit codes: 0 stopped cleanly, 1 failed to start or to stop, 2 bad usage or configuration,
75 a gateway that fell behind the bus (start it again: it catches up from the core's snapshot).`;

/** True when argv asks for help (before any `--` that ends the options). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/**
 * A node:util parseArgs error as one plain line ("unknown option --bogus"), or null for any other
 * error. Node's own wording for an unknown option suggests `--` tricks that do not apply here.
 */
export function parseArgsMistake(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return null;
  const message = (error as Error).message;
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument ${positional[1]}`;
  return message;
}
