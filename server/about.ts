// What `GET /` answers: enough for a person who opened the server's address in a browser, or a
// tool probing it, to learn what it is, which protocol it speaks and where to read more.
import type { MarketInfo } from '../protocol/messages.js';

/** The protocol version (docs/PROTOCOL.md) this server implements; 1.1 adds accounts and money. */
export const PROTOCOL_VERSION = '1.1';

export function describeService(markets: readonly MarketInfo[], mode: 'live' | 'replay'): Record<string, unknown> {
  return {
    service: 'spotwire',
    mode,
    protocol: { version: PROTOCOL_VERSION, websocket: '/ws', frames: 'binary, one MessagePack map or an array of maps' },
    markets: markets.map((market) => market.sym),
    http: {
      page: '/ (with Accept: text/html)',
      about: '/?format=json (or any Accept without text/html)',
      health: '/health',
      metrics: '/metrics',
    },
    docs: {
      protocol: 'docs/PROTOCOL.md in the Spotwire repository: the complete wire protocol, money included',
      server: 'README.md there: options, persistence, replay',
    },
  };
}
