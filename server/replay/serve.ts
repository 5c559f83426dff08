// Replay's composition root: the server's own gateway and book feeds over an engine rebuilt from
// the journal, with a read-only request handler. Each journal record is published as one gateway
// batch, so book seqs, deltas, checksums, trade and candle frames come out exactly as they did live.
import type { Logger } from 'pino';
import { createCodec } from '../../protocol/codec.js';
import { describeService } from '../about.js';
import type { MatchingEngine } from '../engine/engine.js';
import { Gateway } from '../gateway/gateway.js';
import { StaticSite, WEB_DIST_DIR } from '../gateway/static-site.js';
import { defaultIntakeLimits } from '../gateway/request-intake.js';
import { loadNativeUws } from '../gateway/uws.js';
import type { JournalRecord } from '../journal/journal-reader.js';
import { applyRecord, type RecoveredState } from '../journal/recovery.js';
import { bookFeeds } from '../gateway/gateway-setup.js';
import { MarketStats } from '../market-data/market-stats.js';
import { createMetrics } from '../metrics.js';
import type { SessionPaths } from './journal-source.js';
import { ReadOnlyRequestHandler } from './read-only-handler.js';

export interface ReplayServeOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly logger: Logger;
}

export interface ReplayServer {
  readonly port: number;
  readonly engine: MatchingEngine;
  /** Market-data seq per market as published so far. */
  bookSeqs(): Map<string, number>;
  /** Resolves once `count` subscriptions have been made since start. */
  subscriptions(count: number): Promise<void>;
  /** Publishes one journal record as one batch; returns the trades it made. */
  publish(record: JournalRecord): number;
  /** Bytes queued on the most backed-up socket. */
  backlogBytes(): number;
  close(): Promise<void>;
}

// Live limits, except the frame and queue sizes that only matter for order entry.
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_BACKPRESSURE_BYTES = 1024 * 1024;
const RATE_LIMIT_PER_SECOND = 200_000;

export async function startReplayServer(paths: SessionPaths, state: RecoveredState, options: ReplayServeOptions): Promise<ReplayServer> {
  const { engine } = state;
  const bookSeqs = new Map(state.bookSeqs);
  const feeds = bookFeeds(paths.markets, engine, bookSeqs);
  let subscriptionCount = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const onSubscribe = (): void => {
    subscriptionCount++;
    for (const waiter of waiters.filter((w) => w.count <= subscriptionCount)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const metrics = createMetrics();
  const clock = (): number => Date.now();
  // The candles and tickers of the journal before the first record played, rebuilt as live had them.
  const marketStats = state.marketStats ?? new MarketStats(paths.markets.map((m) => m.sym));
  const handler = new ReadOnlyRequestHandler(
    { engine, feeds, marketStats, markets: paths.markets, tokens: new Map(), metrics, clock, maxConnectionsPerAccount: 0 },
    onSubscribe,
  );
  const gateway = new Gateway(
    {
      host: options.host,
      port: options.port,
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      maxBackpressureBytes: MAX_BACKPRESSURE_BYTES,
      rateLimitPerSecond: RATE_LIMIT_PER_SECOND,
      // A replay is watched from one machine (often with many sockets); no cap per address.
      maxConnectionsPerIp: 0,
      intake: defaultIntakeLimits(MAX_BACKPRESSURE_BYTES),
    },
    {
      uws: loadNativeUws(),
      handler,
      markets: new Map(paths.markets.map((market) => [market.sym, market])),
      feeds,
      marketStats,
      codec: createCodec(),
      metrics,
      logger: options.logger,
      // Nothing to make durable: the records come from the journal.
      commit: () => undefined,
      onCommitFailure: () => undefined,
      health: () => ({ ok: true, detail: { mode: 'replay', markets: paths.markets.length } }),
      about: () => describeService(paths.markets, 'replay'),
      // The page works on a replay too: market data only, since nobody can log in.
      site: StaticSite.load(WEB_DIST_DIR),
      clock,
    },
  );
  const port = await gateway.listen();
  return {
    port,
    engine,
    bookSeqs: () => new Map([...feeds].map(([sym, feed]) => [sym, feed.seq])),
    subscriptions: (count) =>
      count <= subscriptionCount ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    publish: (record) => {
      let trades = 0;
      let changed: ReadonlyMap<string, number> = new Map();
      gateway.runBatch((batch) => {
        const replayed = applyRecord(engine, bookSeqs, record.seq, record.entries);
        // Market data advances to the record's time as it did to the live batch's.
        batch.engineTs = record.entries[0]!.command.ts;
        for (const result of replayed.results) {
          handler.distribute(batch, result);
          for (const event of result.events) if (event.kind === 'trade') trades++;
        }
        changed = replayed.bookSeqs;
      });
      // The feeds count batches that changed a book just as recovery does; if they ever disagree,
      // what subscribers see is no longer what the live session published.
      for (const [sym, seq] of changed) {
        const published = feeds.get(sym)?.seq;
        if (published !== seq)
          throw new Error(`book seq of ${sym} is ${String(published)} after record ${record.seq}, the journal implies ${seq}`);
      }
      return trades;
    },
    backlogBytes: () => gateway.maxBufferedBytes,
    close: () => gateway.close(),
  };
}
