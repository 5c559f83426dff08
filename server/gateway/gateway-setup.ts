// What the single server, a cluster core and an edge gateway build the same way from their
// configuration: the book feeds over an engine, the request handler's settings and the gateway's
// limits.
import type { MarketInfo } from '../../protocol/messages.js';
import type { ServerConfig } from '../config.js';
import type { MatchingEngine } from '../engine/engine.js';
import { BookFeed } from '../market-data/book-feed.js';
import type { GatewayOptions } from './gateway.js';
import type { HandlerDeps } from './request-handler.js';
import { defaultIntakeLimits } from './request-intake.js';

/** One book feed per market over `engine`, each starting at its market-data seq. */
export function bookFeeds(
  markets: readonly MarketInfo[],
  engine: MatchingEngine,
  bookSeqs: ReadonlyMap<string, number>,
): Map<string, BookFeed> {
  const feeds = new Map<string, BookFeed>();
  for (const market of markets) {
    const source = { top: (side: 'buy' | 'sell', depth: number) => engine.levels(market.sym, side, depth) };
    feeds.set(market.sym, new BookFeed(market.sym, source, bookSeqs.get(market.sym) ?? 0));
  }
  return feeds;
}

/** The handler's settings that come straight from the configuration. */
export function handlerSettings(
  config: ServerConfig,
): Pick<
  HandlerDeps,
  'markets' | 'tokens' | 'maxConnectionsPerAccount' | 'accountRateLimitPerSecond' | 'privateStreamRetention' | 'closedOrderRetention'
> {
  return {
    markets: config.markets,
    tokens: new Map(config.keys.map((key) => [key.token, { account: key.account, role: key.role }])),
    maxConnectionsPerAccount: config.maxConnectionsPerAccount,
    accountRateLimitPerSecond: config.accountRateLimitPerSecond,
    privateStreamRetention: config.privateStreamRetention,
    closedOrderRetention: config.closedOrderRetention,
  };
}

export function gatewayOptions(config: ServerConfig): GatewayOptions {
  return {
    host: config.host,
    port: config.port,
    maxPayloadBytes: config.maxPayloadBytes,
    maxBackpressureBytes: config.maxBackpressureBytes,
    rateLimitPerSecond: config.rateLimitPerSecond,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    intake: defaultIntakeLimits(config.maxBackpressureBytes),
  };
}
