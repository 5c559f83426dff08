// A cluster core's request handler (`--role core`): the core keeps no client sessions, so its own
// WebSocket serves market data only (markets, ping, sub/unsub: an operator can watch it), and
// everything an account does is refused with a pointer to the gateways. The commands it runs
// report to a market-data listener: trades and book changes (the candles and seqs its snapshots
// carry to starting gateways) and nothing else: no private streams, no order history, since
// nobody logs in here — that work is the gateways'.
import type { Request } from '../../protocol/messages.js';
import type { Batch } from '../gateway/batch.js';
import type { Connection } from '../gateway/connection.js';
import { MarketDataListener } from '../gateway/gateway-listener.js';
import { RequestHandler } from '../gateway/request-handler.js';

const SERVED_HERE = new Set<Request['op']>(['markets', 'ping', 'sub', 'unsub']);

export class CoreRequestHandler extends RequestHandler {
  override handle(batch: Batch, connection: Connection, request: Request): void {
    if (SERVED_HERE.has(request.op)) return super.handle(batch, connection, request);
    batch.requests++;
    this.reject(
      batch,
      connection,
      request.op,
      'bad_request',
      request.rid,
      'this is a cluster core: log in and trade on a gateway (docs/SCALING.md)',
    );
  }

  protected override listenerFor(): MarketDataListener {
    return new MarketDataListener();
  }
}
