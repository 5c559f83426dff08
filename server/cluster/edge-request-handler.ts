// An edge gateway's request handler: everything as in the single process (login, queries from its
// replica engine, subscriptions), except that a command goes to the core instead of the engine.
// It is answered when the core's journal record with it comes back (edge-server.ts).
//
// Order per connection: while a connection has commands at the core, its other requests (a query,
// a sub, a ping) wait in order behind them, so `orders` after a `place` lists that order, as in
// the single process. Order entry itself goes on being forwarded (pipelining stays), and the core
// answers in the order it was sent.
import type { Reject, Request } from '../../protocol/messages.js';
import type { MatchingEngine } from '../engine/engine.js';
import type { CommandResult, EngineCommand } from '../engine/types.js';
import type { Batch } from '../gateway/batch.js';
import type { Connection } from '../gateway/connection.js';
import type { Origin } from '../gateway/order-commands.js';
import type { JournalEntry } from '../journal/command-codec.js';
import { executeEntry } from '../journal/recovery.js';
import { RequestHandler, type HandlerDeps } from '../gateway/request-handler.js';
import type { EdgeBus } from './edge-bus.js';

const FORWARDED_OPS = new Set<Request['op']>(['place', 'cancel', 'cancel_all', 'amend', 'deposit', 'withdraw']);
/** Requests one connection may have waiting behind its commands; one more is `overloaded`. */
const MAX_WAITING_PER_CONNECTION = 4_096;

/** A request waiting its turn, or the intake's reject of one (kept in line with the replies around it). */
type Waiting = Request | { readonly refused: Reject };

interface ConnectionOrder {
  atCore: number;
  readonly waiting: Waiting[];
}

export class EdgeRequestHandler extends RequestHandler {
  private readonly order = new Map<Connection, ConnectionOrder>();
  private readonly replica: MatchingEngine;

  constructor(
    deps: HandlerDeps,
    private readonly bus: EdgeBus,
  ) {
    super(deps);
    this.replica = deps.engine;
  }

  /**
   * One command of a core's journal record, run on the replica as the core ran it; what it did
   * reaches this gateway's clients and market data as its own commands' would (gateway-listener.ts).
   */
  applyEntry(batch: Batch, seq: number, entry: JournalEntry): CommandResult {
    return this.reportingInto(batch, () => executeEntry(this.replica, seq, entry));
  }

  override refused(batch: Batch, connection: Connection, reject: Reject): void {
    const state = this.order.get(connection);
    if (state === undefined) return super.refused(batch, connection, reject);
    if (state.waiting.length < MAX_WAITING_PER_CONNECTION) state.waiting.push({ refused: reject });
  }

  override handle(batch: Batch, connection: Connection, request: Request): void {
    const state = this.order.get(connection);
    if (state !== undefined && (state.waiting.length > 0 || !FORWARDED_OPS.has(request.op))) {
      if (state.waiting.length >= MAX_WAITING_PER_CONNECTION) {
        batch.requests++;
        return this.reject(batch, connection, request.op, 'overloaded', request.rid, 'too many requests waiting behind orders at the core');
      }
      state.waiting.push(request);
      return;
    }
    super.handle(batch, connection, request);
  }

  protected override submit(batch: Batch, origin: Origin | null, command: EngineCommand): void {
    const refused = this.bus.forward(origin, command);
    if (refused) return super.completed(batch, origin, command, refused);
    if (origin === null) return;
    const state = this.order.get(origin.connection);
    if (state) state.atCore++;
    else this.order.set(origin.connection, { atCore: 1, waiting: [] });
  }

  override completed(batch: Batch, origin: Origin | null, command: EngineCommand, result: CommandResult): void {
    super.completed(batch, origin, command, result);
    const state = origin === null ? undefined : this.order.get(origin.connection);
    // Only an answer from the core settles a forwarded command; a refusal before forwarding had none.
    if (state === undefined || state.atCore === 0) return;
    if (--state.atCore > 0) return;
    this.order.delete(origin!.connection);
    for (let i = 0; i < state.waiting.length; i++) {
      if (origin!.connection.closed) return;
      const next = state.waiting[i]!;
      if ('refused' in next) super.refused(batch, origin!.connection, next.refused);
      else this.handle(batch, origin!.connection, next);
      const now = this.order.get(origin!.connection);
      // A forwarded command among them: the rest waits behind it again.
      if (now !== undefined) {
        now.waiting.push(...state.waiting.slice(i + 1));
        return;
      }
    }
  }

  override disconnect(batch: Batch, connection: Connection): void {
    this.order.delete(connection);
    super.disconnect(batch, connection);
  }
}
