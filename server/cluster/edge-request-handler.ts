// An edge gateway's request handler: everything as in the single process (login, queries from its
// replica engine, subscriptions), except that a command goes to the core instead of the engine.
// It is answered when the core's journal record with it comes back (edge-server.ts).
import type { EngineCommand } from '../engine/types.js';
import type { Batch } from '../gateway/batch.js';
import type { Origin } from '../gateway/order-commands.js';
import { RequestHandler, type HandlerDeps } from '../gateway/request-handler.js';
import type { EdgeBus } from './edge-bus.js';

export class EdgeRequestHandler extends RequestHandler {
  constructor(
    deps: HandlerDeps,
    private readonly bus: EdgeBus,
  ) {
    super(deps);
  }

  protected override submit(batch: Batch, origin: Origin | null, command: EngineCommand): void {
    const refused = this.bus.forward(origin, command);
    if (refused) this.completed(batch, origin, command, refused);
  }
}
