// An edge gateway's composition root (`--role gateway`, docs/SCALING.md): the server's own gateway
// over a replica engine. The replica starts from the core's snapshot and applies the core's journal
// records in order, each as one gateway batch, so its books, balances, open orders, market-data
// seqs and checksums are the core's at every seq; it answers queries and serves market data itself.
// Order entry is forwarded to the core and answered when the record holding it comes back.
import type { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import { createCodec } from '../../protocol/codec.js';
import { describeService } from '../about.js';
import type { ServerConfig } from '../config.js';
import { restoreEngine } from '../engine/engine-state.js';
import type { MatchingEngine } from '../engine/engine.js';
import type { CommandResult } from '../engine/types.js';
import { AccountHistory } from '../gateway/account-history.js';
import { Gateway } from '../gateway/gateway.js';
import type { Batch } from '../gateway/batch.js';
import { bookFeeds, gatewayOptions, handlerSettings } from '../gateway/gateway-setup.js';
import { StaticSite, WEB_DIST_DIR } from '../gateway/static-site.js';
import { loadNativeUws } from '../gateway/uws.js';
import { createCommandCodec } from '../journal/command-codec.js';
import { MarketStats } from '../market-data/market-stats.js';
import { createMetrics, scrapedGauge, type ServerMetrics } from '../metrics.js';
import type { AnswerResult, BusRecord } from './bus-format.js';
import { EdgeBus, unavailable, type Waiting } from './edge-bus.js';
import { EdgeRequestHandler } from './edge-request-handler.js';

export interface RunningEdge {
  readonly port: number;
  readonly engine: MatchingEngine;
  readonly metrics: ServerMetrics;
  readonly edgeId: string;
  /** The last journal seq the replica has applied. */
  appliedSeq(): number;
  /** Forwarded commands waiting for the core. */
  inFlight(): number;
  bookSeqs(): Map<string, number>;
  close(): Promise<void>;
}

/** How long a starting edge waits for the core's first snapshot. */
const SNAPSHOT_WAIT_MS = 30_000;
const MAX_IN_FLIGHT = 50_000;

function answerResult(answer: AnswerResult): CommandResult {
  return answer.ok ? { ok: true, transfer: answer.transfer, events: [] } : { ok: false, code: answer.code, msg: answer.msg, events: [] };
}

export interface EdgeHooks {
  /**
   * The journal stream no longer holds the records this replica needs (it fell behind the trim).
   * The CLI stops the process with exit code 75, so that it is started again and catches up from
   * the core's newest snapshot; until then /health answers 503 with `stale`.
   */
  readonly onStale?: (why: string) => void;
}

export async function startEdgeGateway(config: ServerConfig, logger: Logger, hooks: EdgeHooks = {}): Promise<RunningEdge> {
  if (config.busUrl === null) throw new Error('--role gateway needs --bus redis://… (the Redis the core reads)');
  const metrics = createMetrics();
  let handler: EdgeRequestHandler | null = null;
  let gateway: Gateway | null = null;
  const bus = new EdgeBus({
    url: config.busUrl,
    prefix: config.redisPrefix,
    logger,
    timeoutMs: config.busTimeoutMs,
    maxInFlight: MAX_IN_FLIGHT,
    streamLength: config.busStreamLength,
    onExpired: (expired) => expire(expired),
  });
  const snapshot = await bus.loadSnapshot(SNAPSHOT_WAIT_MS).catch(async (error: unknown) => {
    await bus.close();
    throw error;
  });
  const limits = { maxOpenOrdersPerAccount: config.maxOpenOrdersPerAccount };
  const engine = restoreEngine(config.markets, limits, snapshot.engine);
  const bookSeqs = new Map(config.markets.map((m) => [m.sym, snapshot.bookSeqs[m.sym] ?? 0]));
  const marketStats = new MarketStats(
    config.markets.map((m) => m.sym),
    snapshot.marketData,
  );
  const feeds = bookFeeds(config.markets, engine, bookSeqs);
  let appliedSeq = snapshot.journalSeq;
  let stale: string | null = null;
  const clock = (): number => Date.now();
  const codec = createCommandCodec();
  // Older fills and orders: from the Postgres the core's write-behind fills.
  const history = config.databaseUrl === null ? null : new AccountHistory(config.databaseUrl, config.markets);
  const edge = new EdgeRequestHandler(
    {
      history,
      engine,
      feeds,
      marketStats,
      ...handlerSettings(config),
      metrics,
      clock,
    },
    bus,
  );
  handler = edge;
  const site = StaticSite.load(WEB_DIST_DIR);
  const front = new Gateway(gatewayOptions(config), {
    uws: loadNativeUws(),
    handler: edge,
    markets: new Map(config.markets.map((market) => [market.sym, market])),
    feeds,
    marketStats,
    codec: createCodec(),
    metrics,
    logger,
    // Durable already: the core journaled every record before publishing it.
    commit: () => undefined,
    onCommitFailure: () => undefined,
    health: () => ({
      ok: stale === null && bus.connected,
      detail: {
        role: 'gateway',
        edge: bus.edgeId,
        appliedSeq,
        inFlight: bus.inFlight,
        ...(stale !== null ? { stale } : {}),
        ...(bus.connected ? {} : { bus: 'unreachable' }),
      },
    }),
    about: () => describeService(config.markets, 'live'),
    site,
    clock,
  });
  gateway = front;

  function expire(expired: readonly Waiting[]): void {
    if (!handler || !gateway) return;
    const message = `no answer from the core within ${config.busTimeoutMs} ms: the outcome is unknown (query the order by cid)`;
    gateway.runBatch((batch) => {
      for (const waiting of expired) handler!.completed(batch, waiting.origin, waiting.command, unavailable(message));
    });
  }

  function apply(record: BusRecord): void {
    if (record.lastSeq <= appliedSeq && record.body !== null) return;
    if (record.body !== null && record.seq !== appliedSeq + 1) {
      // The stream no longer holds what this replica needs: it cannot follow (docs/SCALING.md).
      if (stale !== null) return;
      stale = `journal stream jumped from seq ${appliedSeq} to ${record.seq}`;
      logger.fatal({ appliedSeq, next: record.seq }, 'bus: the journal stream skipped records; this gateway is stale');
      hooks.onStale?.(stale);
      return;
    }
    front.runBatch((batch: Batch) => {
      if (record.body !== null) {
        const entries = codec.decodeBatch(record.body);
        batch.engineTs = entries[0]!.command.ts;
        const mine = new Map<number, number>();
        for (const origin of record.origins) if (origin.edge === bus.edgeId) mine.set(origin.index, origin.tag);
        // Each command is answered before the next runs, as in a single process: a query waiting behind it sees the state it left.
        for (let i = 0; i < entries.length; i++) {
          const result = edge.applyEntry(batch, record.seq + i, entries[i]!);
          const tag = mine.get(i);
          const waiting = tag === undefined ? undefined : bus.take(tag);
          edge.completed(batch, waiting?.origin ?? null, entries[i]!.command, result);
        }
        appliedSeq = record.lastSeq;
      }
      for (const answer of record.answers) {
        if (answer.edge !== bus.edgeId) continue;
        const waiting = bus.take(answer.tag);
        if (waiting) edge.completed(batch, waiting.origin, answer.command, answerResult(answer.result));
      }
    });
  }

  const gauge = (name: string, help: string, value: () => number): Gauge => scrapedGauge(metrics.registry, name, help, value);
  gauge('spotwire_bus_in_flight', 'Commands forwarded to the core and not yet answered', () => bus.inFlight);
  gauge('spotwire_bus_applied_seq', 'Last journal seq this gateway has applied', () => appliedSeq);
  gauge(
    'spotwire_bus_lag_seconds',
    'Age of the last journal record when this gateway read it (its entry id time)',
    () => bus.lastRecordAgeMs / 1000,
  );
  gauge('spotwire_bus_forwarded_commands', 'Commands forwarded to the core since start', () => bus.forwardedCommands);
  gauge('spotwire_bus_unavailable_answers', 'Requests answered unavailable since start', () => bus.unavailableAnswers);

  bus.startTail(apply);
  const port = await front.listen().catch(async (error: unknown) => {
    await bus.close();
    throw error;
  });
  logger.info(
    { port, role: 'gateway', url: `ws://127.0.0.1:${port}/ws`, edge: bus.edgeId, appliedSeq, bus: config.busUrl },
    'spotwire listening',
  );
  return {
    port,
    engine,
    metrics,
    edgeId: bus.edgeId,
    appliedSeq: () => appliedSeq,
    inFlight: () => bus.inFlight,
    bookSeqs: () => new Map([...feeds].map(([sym, feed]) => [sym, feed.seq])),
    close: async () => {
      edge.orderEntry = 'shutting_down';
      await front.close();
      await bus.close();
      await history?.close();
    },
  };
}
