// The composition root: recovers the engine from the data dir, then builds market data, metrics,
// the journal and the gateway, and starts listening. Everything the server holds is reachable from
// the returned handle; nothing lives in module state.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';
import { createCodec } from '../protocol/codec.js';
import { describeService } from './about.js';
import type { ServerConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { exportEngineState } from './engine/engine-state.js';
import type { MatchingEngine } from './engine/engine.js';
import type { TransferCommand } from './engine/types.js';
import { Gateway } from './gateway/gateway.js';
import { AccountHistory } from './gateway/account-history.js';
import { RequestHandler } from './gateway/request-handler.js';
import { bookFeeds, gatewayOptions, handlerSettings } from './gateway/gateway-setup.js';
import { StaticSite, WEB_DIST_DIR } from './gateway/static-site.js';
import { loadNativeUws } from './gateway/uws.js';
import { createCommandCodec, type JournalEntry } from './journal/command-codec.js';
import { Journal, removeTempFiles } from './journal/journal.js';
import type { JournalFileSystem } from './journal/journal-writer.js';
import { readJournal } from './journal/journal-reader.js';
import { recover } from './journal/recovery.js';
import { createMetrics, scrapedGauge, type ServerMetrics } from './metrics.js';
import { startWriteBehind, type WriteBehindHandle } from './persistence/write-behind.js';
import { checkRecordedMarkets, recordMarkets } from './recorded-markets.js';
import { checkDataFormat, recordDataFormat } from './data-format.js';
import { CoreBus } from './cluster/core-bus.js';
import { CoreRequestHandler } from './cluster/core-request-handler.js';

/** How often a core publishes its state for edge gateways that start (when records were published). */
const CORE_SNAPSHOT_EVERY_MS = 5_000;

export interface RunningServer {
  readonly port: number;
  readonly engine: MatchingEngine;
  readonly metrics: ServerMetrics;
  readonly journal: Journal;
  /** Redis/Postgres written behind the journal; null without REDIS_URL and DATABASE_URL. */
  readonly writeBehind: WriteBehindHandle | null;
  /** Graceful stop: refuse new orders, flush the journal, close sockets and the listener. */
  close(): Promise<void>;
}

export interface ServerHooks {
  /** Replaces the journal's file operations (tests simulate a failing disk with it). */
  readonly journalFileSystem?: JournalFileSystem;
  /** Replaces the wall clock that stamps batches (tests move engine time across candle intervals). */
  readonly clock?: () => number;
}

export function dataPaths(dataDir: string): { journalDir: string; snapshotDir: string; marketsFile: string } {
  return { journalDir: join(dataDir, 'journal'), snapshotDir: join(dataDir, 'snapshots'), marketsFile: join(dataDir, 'markets.json') };
}

/**
 * Credits each key's configured `deposit` once, as a journaled deposit with ref
 * `init:<account>:<asset>`: a restart finds the ref applied and changes nothing, so funding is
 * as durable and replayable as any other transfer.
 */
async function fundConfiguredAccounts(
  config: ServerConfig,
  engine: MatchingEngine,
  journal: Journal,
  clock: () => number,
  logger: Logger,
): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  for (const key of config.keys) {
    for (const [asset, amount] of Object.entries(key.deposit)) {
      const command: TransferCommand = {
        op: 'deposit',
        ts: clock(),
        account: key.account,
        asset,
        amount,
        ref: `init:${key.account}:${asset}`,
      };
      const result = engine.execute(command);
      if (!result.ok) logger.warn({ account: key.account, asset, code: result.code }, `initial deposit skipped: ${result.msg}`);
      else if (result.transfer?.duplicate !== true) entries.push({ command, id: null });
    }
  }
  if (entries.length === 0) return entries;
  await journal.commit(entries);
  logger.info({ deposits: entries.length }, 'funded configured accounts');
  return entries;
}

/** Starts a server on `config.dataDir`, which it holds locked until `close()` (data-dir-lock.ts). */
export async function startServer(config: ServerConfig, logger: Logger, hooks: ServerHooks = {}): Promise<RunningServer> {
  const lock = lockDataDir(config.dataDir, `spotwire server on ${config.host}:${config.port}`);
  let server: RunningServer;
  try {
    server = await startLocked(config, logger, hooks);
  } catch (error) {
    lock.release();
    throw error;
  }
  return {
    ...server,
    close: async () => {
      try {
        await server.close();
      } finally {
        lock.release();
      }
    },
  };
}

async function startLocked(config: ServerConfig, logger: Logger, hooks: ServerHooks): Promise<RunningServer> {
  const uws = loadNativeUws();
  const metrics = createMetrics();
  const limits = { maxOpenOrdersPerAccount: config.maxOpenOrdersPerAccount };
  const commandCodec = createCommandCodec();
  const { journalDir, snapshotDir, marketsFile } = dataPaths(config.dataDir);
  // Before anything in the data dir is touched: a journal replayed under other markets (or other
  // rules) is another history.
  checkDataFormat(config.dataDir, journalDir, snapshotDir);
  checkRecordedMarkets(marketsFile, config.markets);
  removeTempFiles(snapshotDir);

  const started = performance.now();
  const recovered = await recover({
    journalDir,
    snapshotDir,
    markets: config.markets,
    limits,
    codec: commandCodec,
    log: logger,
    truncateTornTail: true,
    marketData: true,
  });
  const { engine } = recovered;
  const marketStats = recovered.marketStats!;
  // Replay tools read the markets a journal was written with from here (an added market included).
  recordMarkets(marketsFile, config.markets);
  recordDataFormat(config.dataDir);
  logger.info(
    {
      snapshotSeq: recovered.snapshotSeq,
      replayedCommands: recovered.replayedCommands,
      nextSeq: recovered.nextSeq,
      ms: Math.round(performance.now() - started),
    },
    'recovered',
  );

  const feeds = bookFeeds(config.markets, engine, recovered.bookSeqs);
  const clock = hooks.clock ?? ((): number => Date.now());
  const writeBehind = await startWriteBehind(
    {
      journalDir,
      snapshotDir,
      markets: config.markets,
      limits,
      durableSeq: recovered.nextSeq - 1,
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      logLevel: logger.level,
      nice: config.writeBehindNice,
      tuning: { deadlineMs: config.sinkDeadlineMs, busyDutyCycle: config.writeBehindBusyDuty },
    },
    metrics.registry,
    logger,
  );
  /** A cluster core's bus (--role core): set once the gateway exists, read by the journal's snapshots. */
  let bus: CoreBus | null = null;
  const journal = new Journal({
    journalDir,
    snapshotDir,
    nextSeq: recovered.nextSeq,
    chain: recovered.chain,
    fsync: config.fsync,
    segmentBytes: config.segmentBytes,
    snapshotEveryCommands: config.snapshotEveryCommands,
    commandsSinceSnapshot: recovered.nextSeq - 1 - recovered.snapshotSeq,
    snapshotEveryMs: config.snapshotEveryMs,
    keepJournal: config.keepJournal,
    codec: commandCodec,
    ...(hooks.journalFileSystem ? { fileSystem: hooks.journalFileSystem } : {}),
    captureState: () => ({
      engine: exportEngineState(engine),
      bookSeqs: Object.fromEntries([...feeds].map(([sym, feed]) => [sym, feed.seq])),
      marketData: marketStats.export(),
      ...(bus !== null ? { busCursor: bus.position } : {}),
    }),
    clock,
    log: logger,
    ...(writeBehind ? { retainFromSeq: () => writeBehind.retainFromSeq() } : {}),
  });
  journal.snapshotIfDue();
  const funding = await fundConfiguredAccounts(config, engine, journal, clock, logger);
  if (funding.length > 0) {
    writeBehind?.notifyDurable(journal.lastSeq);
    // A journal record like any other: replaying it moves market data's engine time, so here too.
    marketStats.applyRecord(funding, []);
  }
  // The write-behind has migrated the database by now; older fills and orders are read from it.
  const history = config.databaseUrl === null ? null : new AccountHistory(config.databaseUrl, config.markets);
  const handler = new (config.role === 'core' ? CoreRequestHandler : RequestHandler)({
    history,
    engine,
    feeds,
    marketStats,
    ...handlerSettings(config),
    metrics,
    clock,
  });
  const site = StaticSite.load(WEB_DIST_DIR);
  if (site === null)
    logger.warn(
      `the trading page is not built (no ${WEB_DIST_DIR}index.html): GET / answers JSON only; npm run build -w @spotwire/web builds it`,
    );
  const gateway = new Gateway(gatewayOptions(config), {
    uws,
    handler,
    markets: new Map(config.markets.map((market) => [market.sym, market])),
    feeds,
    marketStats,
    codec: createCodec(),
    metrics,
    logger,
    commit: (batch) => {
      if (batch.commands.length === 0) {
        bus?.committed(batch, 0, null, undefined);
        return undefined;
      }
      const durable = journal.commit(batch.commands, bus !== null ? bus.position : null);
      bus?.committed(batch, journal.lastSeq - batch.commands.length + 1, journal.lastBody, durable);
      if (writeBehind) {
        const seq = journal.lastSeq;
        durable.then(
          () => writeBehind.notifyDurable(seq),
          () => undefined,
        );
      }
      return durable;
    },
    onCommitFailure: (error) => {
      if (handler.orderEntry !== 'halted') logger.fatal({ err: error }, 'journal failed: order entry halted');
      handler.orderEntry = 'halted';
    },
    health: () => {
      const failure = journal.failed;
      const sinks = writeBehind?.health();
      return {
        ok: failure === null,
        degraded: sinks?.status === 'degraded',
        detail: {
          markets: config.markets.length,
          // Not lastSeq: after a failure that counts the batch that never reached the disk.
          journalSeq: journal.durableSeq,
          ...(failure ? { journal: failure.message } : {}),
          ...(sinks ? { writeBehind: sinks } : {}),
          ...(bus ? { role: 'core', bus: { published: bus.published, backlog: bus.backlog, forwarded: bus.forwarded } } : {}),
        },
      };
    },
    about: () => describeService(config.markets, 'live'),
    site,
    clock,
  });
  const port = await gateway.listen().catch(async (error: unknown) => {
    // Nothing was served: let go of what recovery opened, so a refused start leaves no thread behind.
    await journal.close();
    await writeBehind?.close(0);
    await history?.close();
    throw error;
  });
  if (config.role === 'core') {
    bus = new CoreBus({
      url: config.busUrl!,
      prefix: config.redisPrefix,
      logger,
      codec: commandCodec,
      runBatch: (work) => gateway.runBatch(work),
      handler,
      captureSnapshot: () => ({
        journalSeq: journal.lastSeq,
        engine: exportEngineState(engine),
        bookSeqs: Object.fromEntries([...feeds].map(([sym, feed]) => [sym, feed.seq])),
        marketData: marketStats.export(),
      }),
      snapshotEveryMs: CORE_SNAPSHOT_EVERY_MS,
      streamLength: config.busStreamLength,
    });
    const coreBus = bus;
    const gauge = (name: string, help: string, value: () => number): Gauge => scrapedGauge(metrics.registry, name, help, value);
    gauge('spotwire_bus_unpublished_records', 'Committed records waiting to be published to the bus', () => coreBus.backlog);
    gauge('spotwire_bus_published_records', 'Journal records published to the bus since start', () => coreBus.published);
    gauge('spotwire_bus_forwarded_commands', 'Commands read from the gateways since start', () => coreBus.forwarded);
    gauge('spotwire_bus_expired_commands', 'Forwarded commands not run: older than their gateway deadline', () => coreBus.expired);
    await bus.start(journal.lastSeq, recovered.busCursor, (publishedSeq) =>
      publishedSeq < recovered.snapshotSeq
        ? null
        : readJournal(journalDir, { fromSeq: recovered.snapshotSeq + 1, chainBefore: recovered.snapshotChain, codec: commandCodec }),
    );
    logger.info({ bus: config.busUrl }, 'core reading the bus');
  }
  // A wildcard address is not one to type into a client: name the loopback one instead.
  const reachable = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host;
  logger.info(
    {
      port,
      url: `ws://${reachable}:${port}/ws`,
      ...(site !== null ? { page: `http://${reachable}:${port}/` } : {}),
      health: `http://${reachable}:${port}/health`,
      metrics: `http://${reachable}:${port}/metrics`,
      markets: config.markets.map((m) => m.sym),
      accounts: config.keys.length,
    },
    'spotwire listening',
  );
  return {
    port,
    engine,
    metrics,
    journal,
    writeBehind,
    close: async () => {
      if (handler.orderEntry === 'open') handler.orderEntry = 'shutting_down';
      await gateway.close();
      await bus?.close();
      await journal.close();
      if (writeBehind) {
        if (!journal.failed) writeBehind.notifyDurable(journal.lastSeq);
        const { drained } = await writeBehind.close(config.writeBehindDrainMs);
        if (!drained) logger.warn('write-behind stopped before every sink caught up; they resume from the journal at next start');
      }
      await history?.close();
    },
  };
}
