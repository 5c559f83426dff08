// CLI entry point: `npm start [-- --port N --data-dir D --keys F --markets F]` (--help lists all). The only place
// that reads process.argv/env, installs signal handlers or exits the process.
import { parseArgsMistake, SERVER_USAGE, wantsHelp } from './cli-usage.js';
import { loadConfig, type ServerConfig } from './config.js';
import { createLogger, parseLogFormat } from './logger.js';
import { startServer } from './server.js';
import { startEdgeGateway } from './cluster/edge-server.js';

/** EX_TEMPFAIL: a gateway that must be started again to catch up (docs/SCALING.md). */
const EXIT_STALE_GATEWAY = 75;

const logFormat = parseLogFormat(process.env.LOG_FORMAT, process.stdout.isTTY === true);
const logger = createLogger(logFormat ?? 'json', process.env.LOG_LEVEL ?? 'info');
// The write-behind worker thread reads it: its stdout is a pipe to this thread, never a terminal.
if (logFormat !== null) process.env.LOG_FORMAT = logFormat;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(`${SERVER_USAGE}\n`);
    return;
  }
  if (logFormat === null) {
    process.stderr.write(`spotwire: LOG_FORMAT must be json or pretty, got "${process.env.LOG_FORMAT}"\n`);
    process.exitCode = 2;
    return;
  }
  let config: ServerConfig;
  try {
    config = loadConfig(argv, process.env);
  } catch (error) {
    // Bad usage or configuration: one line for the person who typed it, exit 2.
    const mistake = parseArgsMistake(error);
    process.stderr.write(
      `spotwire: ${mistake === null ? (error as Error).message : `${mistake} (npm start -- --help lists the options)`}\n`,
    );
    process.exitCode = 2;
    return;
  }
  logger.level = config.logLevel;
  if (config.keys.length === 0) {
    logger.warn(
      'no API keys configured: market data is served, but nobody can log in to trade. Create a JSON file like ' +
        '[{"token":"secret-1","account":"alice","deposit":{"USD":1000000000000}},{"token":"secret-ops","account":"ops","role":"admin"}] ' +
        'and start with --keys <file> (or KEYS_FILE=<file>); deposits are in ledger units (README "Money").',
    );
  }
  // A gateway that fell behind the bus stream's trim exits 75 (EX_TEMPFAIL): started again, it
  // catches up from the core's newest snapshot (npm run cluster restarts it; so would a supervisor).
  let server: { close(): Promise<void> } | null = null;
  let stopping = false;
  function stop(signal: string, exitCode = 0): void {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Still starting (a gateway can find itself stale before it listens): nothing to drain.
    if (server === null) process.exit(exitCode);
    server.close().then(
      () => {
        logger.info('stopped');
        process.exit(exitCode);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  }
  server =
    config.role === 'gateway'
      ? await startEdgeGateway(config, logger, { onStale: () => stop('stale', EXIT_STALE_GATEWAY) })
      : await startServer(config, logger);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, (error as Error).message);
  process.exit(1);
});
