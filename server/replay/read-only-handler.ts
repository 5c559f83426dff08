// Replay serves the captured market data and nothing else: the engine's state belongs to the
// journal, so login, order entry and account queries get a clear `bad_request` instead of running.
import type { Request } from '../../protocol/messages.js';
import type { Batch } from '../gateway/batch.js';
import type { Connection } from '../gateway/connection.js';
import { RequestHandler, type HandlerDeps } from '../gateway/request-handler.js';

const READ_ONLY_REFUSALS: Partial<Record<Request['op'], string>> = {
  login: 'replay is read-only: no login needed for market data',
  place: 'replay is read-only',
  cancel: 'replay is read-only',
  cancel_all: 'replay is read-only',
  amend: 'replay is read-only',
  orders: 'replay is read-only: it has no accounts',
  balances: 'replay is read-only: it has no accounts',
  deposit: 'replay is read-only',
  withdraw: 'replay is read-only',
  cancel_after: 'replay is read-only',
  order: 'replay is read-only: it has no accounts',
  my_trades: 'replay is read-only: it has no accounts',
};

export class ReadOnlyRequestHandler extends RequestHandler {
  constructor(
    deps: HandlerDeps,
    /** Called after each accepted `sub` (playback can wait for its audience). */
    private readonly onSubscribe: () => void,
  ) {
    super(deps);
  }

  override handle(batch: Batch, connection: Connection, request: Request): void {
    const refusal = READ_ONLY_REFUSALS[request.op];
    if (refusal !== undefined) {
      batch.requests++;
      this.reject(batch, connection, request.op, 'bad_request', request.rid, refusal);
      return;
    }
    const subscriptionsBefore = connection.subscriptionCount;
    super.handle(batch, connection, request);
    // A repeated sub replaces the old one; only a sub that added one counts.
    if (request.op === 'sub' && connection.subscriptionCount > subscriptionsBefore) this.onSubscribe();
  }
}
