// The composition root: builds the engine, market data, metrics and gateway from a config and
// starts listening. Everything the server holds is reachable from the returned handle; nothing
// lives in module state.
import type { Logger } from 'pino';
import { createCodec } from '../protocol/codec.js';
import type { ServerConfig } from './config.js';
import { MatchingEngine } from './engine/engine.js';
import { Gateway } from './gateway/gateway.js';
import { RequestHandler } from './gateway/request-handler.js';
import { loadNativeUws } from './gateway/uws.js';
import { BookFeed } from './market-data/book-feed.js';
import { createMetrics, type ServerMetrics } from './metrics.js';

export interface RunningServer {
  readonly port: number;
  readonly engine: MatchingEngine;
  readonly metrics: ServerMetrics;
  /** Graceful stop: refuse new orders, flush, close sockets and the listener. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const uws = loadNativeUws();
  const metrics = createMetrics();
  const engine = new MatchingEngine(config.markets, { maxOpenOrdersPerAccount: config.maxOpenOrdersPerAccount });
  const feeds = new Map<string, BookFeed>();
  for (const market of config.markets) {
    feeds.set(market.sym, new BookFeed(market.sym, { top: (side, depth) => engine.levels(market.sym, side, depth) }));
  }
  const clock = (): number => Date.now();
  const handler = new RequestHandler({
    engine,
    feeds,
    markets: config.markets,
    tokens: new Map(config.keys.map((key) => [key.token, key.account])),
    metrics,
    clock,
  });
  const gateway = new Gateway(
    {
      host: config.host,
      port: config.port,
      maxPayloadBytes: config.maxPayloadBytes,
      maxBackpressureBytes: config.maxBackpressureBytes,
      rateLimitPerSecond: config.rateLimitPerSecond,
    },
    {
      uws,
      handler,
      feeds,
      codec: createCodec(),
      metrics,
      logger,
      commit: () => undefined,
      health: () => ({ ok: true, detail: { markets: config.markets.length } }),
      clock,
    },
  );
  const port = await gateway.listen();
  logger.info({ port, markets: config.markets.map((m) => m.sym), accounts: config.keys.length }, 'spotwire listening');
  return {
    port,
    engine,
    metrics,
    close: async () => {
      handler.acceptingOrders = false;
      await gateway.close();
    },
  };
}
