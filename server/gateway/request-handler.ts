// What each request does: login, queries and subscriptions here; order entry through the engine.
// Every outcome is written into the current batch, never sent directly, so replies, execs and
// market data leave in order and only after the batch is durable. The engine reports the commands
// run here to the gateway's listener (gateway-listener.ts); where their messages go is
// event-router.ts.
import type { RejectCode } from '../../protocol/constants.js';
import { REJECT_CODES } from '../../protocol/constants.js';
import type {
  Ack,
  BalancesRequest,
  Reject,
  LoginRequest,
  OrderRef,
  OrderStateView,
  MarketInfo,
  MarketsReply,
  Request,
  Rid,
  ServerMessage,
  TransferRequest,
} from '../../protocol/messages.js';
import { makeReject } from '../../protocol/validate.js';
import type { MatchingEngine } from '../engine/engine.js';
import type { CommandResult, EngineCommand } from '../engine/types.js';
import type { BookFeed } from '../market-data/book-feed.js';
import type { MarketStats } from '../market-data/market-stats.js';
import type { ServerMetrics } from '../metrics.js';
import type { Batch, PendingSub } from './batch.js';
import type { Connection } from './connection.js';
import { ClosedOrders } from './closed-orders.js';
import { RecentFills } from './recent-fills.js';
import { DeadManSwitch } from './dead-man-switch.js';
import { PrivateStreams } from './private-streams.js';
import { ordersPage } from './orders-page.js';
import { AccountQueries } from './account-queries.js';
import { HISTORY_QUERIES_PER_CONNECTION, type AccountHistory } from './account-history.js';
import { Subscriptions } from './subscriptions.js';
import { AccountSessions, type Identity } from './account-sessions.js';
import { EventRouter } from './event-router.js';
import { GatewayListener, type MarketDataListener } from './gateway-listener.js';
import { ackOf, orderCommand, type Origin } from './order-commands.js';

export interface HandlerDeps {
  readonly engine: MatchingEngine;
  readonly feeds: ReadonlyMap<string, BookFeed>;
  /** Candles, tickers and recent trades, for the snapshots of those subscriptions. */
  readonly marketStats: MarketStats;
  readonly markets: readonly MarketInfo[];
  readonly tokens: ReadonlyMap<string, Identity>;
  readonly metrics: ServerMetrics;
  readonly clock: () => number;
  /** Connections one account may have logged in at once; 0: no cap. */
  readonly maxConnectionsPerAccount: number;
  /** Requests/s one account may send across its connections; 0 or absent: no account limit. */
  readonly accountRateLimitPerSecond?: number;
  /** Private messages kept per account for `login` with `resumeFrom` (default 1000). */
  readonly privateStreamRetention?: number;
  /** Closed orders remembered per account for `order` (default 1000). */
  readonly closedOrderRetention?: number;
  /** Older fills and orders, from Postgres (null or absent: memory only). */
  readonly history?: AccountHistory | null;
}

export const DEFAULT_PRIVATE_STREAM_RETENTION = 1000;
export const DEFAULT_CLOSED_ORDER_RETENTION = 1000;

function withRid<T extends object>(message: T, rid: Rid | undefined): T & { rid?: Rid } {
  return rid === undefined ? message : { ...message, rid };
}

export class RequestHandler {
  /** Logged-in connections per account: where that account's execs go. */
  private readonly sessions: AccountSessions;
  /** 'halted' after a journal failure: nothing more may be acknowledged. */
  orderEntry: 'open' | 'shutting_down' | 'halted' = 'open';
  private readonly marketsReply: Omit<MarketsReply, 'rid'>;
  readonly deadMan = new DeadManSwitch();
  readonly privateStreams: PrivateStreams;
  private readonly queries: AccountQueries;
  /** Runs `work` in the current batch, opening one if needed (set by the gateway): where history answers go. */
  inCurrentBatch: (work: (batch: Batch) => void) => void = () => {
    throw new Error('inCurrentBatch is not wired to a gateway');
  };
  private readonly subscriptions: Subscriptions;
  private readonly router: EventRouter;
  /** Where the engine reports the commands this handler runs. */
  private readonly reports: MarketDataListener;

  constructor(private readonly deps: HandlerDeps) {
    this.marketsReply = { type: 'markets', markets: [...deps.markets], assets: [...deps.engine.assets] };
    const retention = deps.closedOrderRetention ?? DEFAULT_CLOSED_ORDER_RETENTION;
    this.queries = new AccountQueries(new RecentFills(retention), new ClosedOrders(retention), deps.history ?? null, (account, sym, ref) =>
      this.openOrderState(account, sym, ref),
    );
    this.privateStreams = new PrivateStreams(deps.privateStreamRetention ?? DEFAULT_PRIVATE_STREAM_RETENTION, String(deps.clock()));
    this.sessions = new AccountSessions(
      deps.tokens,
      { maxConnectionsPerAccount: deps.maxConnectionsPerAccount, accountRateLimitPerSecond: deps.accountRateLimitPerSecond ?? 0 },
      this.privateStreams,
    );
    this.router = new EventRouter(this.sessions, this.privateStreams, this.queries);
    this.reports = this.listenerFor(this.router);
    this.subscriptions = new Subscriptions({
      feeds: deps.feeds,
      marketStats: deps.marketStats,
      clock: deps.clock,
      reject: (batch, connection, op, code, rid, msg) => this.reject(batch, connection, op, code, rid, msg),
      refuseUndurable: (batch, connection, op, rid) => {
        if (this.orderEntry !== 'halted') return false;
        this.rejectUndurable(batch, connection, op, rid);
        return true;
      },
    });
  }

  reject(
    batch: Batch,
    connection: Connection,
    op: string | null,
    code: RejectCode,
    rid: Rid | undefined,
    msg: string = REJECT_CODES[code],
  ): void {
    batch.tally.count(op ?? 'unknown', code);
    batch.send(connection, makeReject(op, code, msg, rid));
  }

  /** A request the intake refused (not valid, over a rate limit): its reject, counted. */
  refused(batch: Batch, connection: Connection, reject: Reject): void {
    batch.tally.count(reject.op ?? 'unknown', reject.code);
    batch.send(connection, reject);
  }

  /**
   * After a journal failure the engine may hold the batch that could not be journaled; its state
   * must not be shown (it would vanish at restart), so state queries are refused like orders.
   */
  private rejectUndurable(batch: Batch, connection: Connection, op: string, rid: Rid | undefined): void {
    this.reject(batch, connection, op, 'internal', rid, 'halted: the journal cannot write, so the live state is not durable');
  }

  handle(batch: Batch, connection: Connection, request: Request): void {
    batch.requests++;
    // The rate limit was charged before validation (request-intake.ts).
    const { rid } = request;
    switch (request.op) {
      case 'login':
        return this.login(batch, connection, request, rid);
      case 'markets':
        batch.send(connection, withRid({ ...this.marketsReply }, rid));
        batch.work += this.marketsReply.markets.length + this.marketsReply.assets.length;
        break;
      case 'ping':
        batch.send(connection, withRid({ type: 'pong' as const, ts: this.deps.clock() }, rid));
        break;
      case 'sub':
        return this.subscriptions.subscribe(batch, connection, request);
      case 'unsub':
        return this.subscriptions.unsubscribe(batch, connection, request);
      case 'orders': {
        if (connection.account === null) return this.reject(batch, connection, 'orders', 'unauthenticated', rid);
        if (this.orderEntry === 'halted') return this.rejectUndurable(batch, connection, 'orders', rid);
        if (request.sym !== null && !this.deps.engine.hasMarket(request.sym)) {
          return this.reject(batch, connection, 'orders', 'unknown_market', rid);
        }
        const page = ordersPage(this.deps.engine, connection.account, request.sym, request.limit, request.after);
        if (typeof page === 'string') return this.reject(batch, connection, 'orders', 'bad_request', rid, page);
        batch.send(connection, withRid({ type: 'orders' as const, orders: page.orders, more: page.more, next: page.next }, rid));
        batch.work += page.orders.length;
        break;
      }
      case 'balances':
        return this.balances(batch, connection, request);
      case 'my_trades':
      case 'order': {
        const account = connection.account;
        if (account === null) return this.reject(batch, connection, request.op, 'unauthenticated', rid);
        if (this.orderEntry === 'halted') return this.rejectUndurable(batch, connection, request.op, rid);
        if (request.sym !== null && !this.deps.engine.hasMarket(request.sym))
          return this.reject(batch, connection, request.op, 'unknown_market', rid);
        const mayQuery = connection.historyQueries < HISTORY_QUERIES_PER_CONNECTION;
        const answer =
          request.op === 'my_trades'
            ? this.queries.myTrades(account, request, mayQuery)
            : this.queries.order(account, request.sym, request.ref, rid, mayQuery);
        return this.answer(batch, connection, request.op, answer);
      }
      case 'deposit':
      case 'withdraw':
        return this.transfer(batch, connection, request);
      case 'cancel_after': {
        if (connection.account === null) return this.reject(batch, connection, 'cancel_after', 'unauthenticated', rid);
        if (this.orderEntry === 'shutting_down') return this.reject(batch, connection, 'cancel_after', 'shutting_down', rid);
        if (this.orderEntry === 'halted') return this.rejectUndurable(batch, connection, 'cancel_after', rid);
        const triggerAt = this.deadMan.arm(connection.account, request.timeout, this.deps.clock());
        batch.send(connection, withRid({ type: 'ack' as const, op: 'cancel_after' as const, timeout: request.timeout, triggerAt }, rid));
        break;
      }
      case 'place':
      case 'cancel':
      case 'cancel_all':
      case 'amend': {
        const account = connection.account;
        if (account === null) return this.reject(batch, connection, request.op, 'unauthenticated', rid);
        if (this.orderEntry === 'shutting_down') return this.reject(batch, connection, request.op, 'shutting_down', rid);
        if (this.orderEntry === 'halted') {
          return this.reject(batch, connection, request.op, 'internal', rid, 'order entry is halted: the journal cannot write');
        }
        if (
          request.op === 'place' &&
          request.retry === true &&
          this.answerRetriedPlace(batch, connection, account, request.sym, request.cid!, rid)
        )
          return;
        const retry = request.op === 'place' && request.retry === true;
        return this.submit(batch, { connection, op: request.op, rid, retry }, orderCommand(request, account, batch.ts));
      }
    }
    batch.tally.count(request.op, 'ok');
  }

  /** Sends a query's answer now, or once the history has it (bounded per connection and in all). */
  private answer(batch: Batch, connection: Connection, op: 'my_trades' | 'order', answer: ServerMessage | Promise<ServerMessage>): void {
    const send = (into: Batch, message: ServerMessage): void => {
      into.send(connection, message);
      into.tally.count(op, message.type === 'reject' ? message.code : 'ok');
      if (message.type === 'my_trades') into.work += message.trades.length;
    };
    if (!(answer instanceof Promise)) return send(batch, answer);
    connection.historyQueries++;
    void answer.then((message) => {
      connection.historyQueries--;
      if (!connection.closed) this.inCurrentBatch((later) => send(later, message));
    });
  }

  /**
   * A `place` with `retry` whose cid names an order of the account, open or recently closed: the
   * client lost the reply to the first place, so it gets that order instead of a second one.
   */
  private answerRetriedPlace(
    batch: Batch,
    connection: Connection,
    account: string,
    sym: string,
    cid: string,
    rid: Rid | undefined,
  ): boolean {
    const order = this.deps.engine.hasMarket(sym) ? this.queries.inMemory(account, sym, { cid }) : undefined;
    if (!order) return false;
    const ack: Ack = { type: 'ack', op: 'place', id: order.id, cid, ts: order.ts, duplicate: true, order };
    batch.send(connection, withRid(ack, rid));
    batch.tally.count('place', 'duplicate');
    return true;
  }

  /** An open order of the account by id or cid, as `order` shows it. */
  private openOrderState(account: string, sym: string, ref: OrderRef): OrderStateView | undefined {
    const open = this.deps.engine.openOrder(account, sym, ref);
    return (
      open && {
        sym: open.sym,
        id: open.id,
        cid: open.cid,
        side: open.side,
        status: open.status,
        px: open.px,
        qty: open.qty,
        filled: open.filled,
        leaves: open.leaves,
        ts: open.ts,
      }
    );
  }

  /**
   * Where a command goes: here, into the engine at once. A cluster's edge gateway forwards it to
   * the core instead and completes it when the core's journal record comes back.
   */
  protected submit(batch: Batch, origin: Origin | null, command: EngineCommand): void {
    this.completed(batch, origin, command, this.execute(batch, command));
  }

  /** A command that ran: its origin's ack (or reject), then where its events go. */
  completed(batch: Batch, origin: Origin | null, command: EngineCommand, result: CommandResult): void {
    // A retried place that met its own first try (a cluster's core has it open): answered with that order.
    if (
      !result.ok &&
      result.code === 'duplicate_cid' &&
      origin?.retry === true &&
      command.op === 'place' &&
      this.answerRetriedPlace(batch, origin.connection, command.account, command.sym, command.cid!, origin.rid)
    )
      return;
    if (!result.ok) {
      if (origin) this.reject(batch, origin.connection, origin.op, result.code, origin.rid, result.msg);
      return;
    }
    if (origin) {
      batch.send(origin.connection, ackOf(origin, command, result));
      batch.acked.push(origin);
      batch.tally.count(origin.op, 'ok');
    }
    this.distribute(batch, result);
  }

  /** The listener of the commands this handler runs: a gateway's routes market data and every account's messages. */
  protected listenerFor(router: EventRouter): MarketDataListener {
    return new GatewayListener(router);
  }

  /** Runs a command through the engine (its reports to the listener) and records it for the journal when it changed state. */
  execute(batch: Batch, command: EngineCommand): CommandResult {
    const started = performance.now();
    const result = this.deps.engine.executeWith(this.reports.into(batch), command);
    this.deps.metrics.matchSeconds.observe((performance.now() - started) / 1000);
    // A duplicate transfer changed nothing, so there is nothing to journal.
    if (result.ok && result.transfer?.duplicate !== true) {
      batch.commands.push({ command, id: command.op === 'place' ? (result.id ?? null) : null });
      batch.engineTs = command.ts;
    }
    return result;
  }

  /** Runs `commands` with the engine reporting into `batch` as the commands this handler runs do. */
  protected reportingInto<T>(batch: Batch, commands: () => T): T {
    return this.deps.engine.withListener(this.reports.into(batch), commands);
  }

  /** After an accepted command's ack: the execs its reports held, or a replayed result's events. */
  distribute(batch: Batch, result: CommandResult): void {
    this.reports.deliver();
    this.router.distribute(batch, result);
  }

  /** Seal-time: each account's changed balances to its logged-in connections. */
  sendBalances(batch: Batch): void {
    this.router.sendBalances(batch);
  }

  private balances(batch: Batch, connection: Connection, request: BalancesRequest): void {
    const { rid } = request;
    if (connection.account === null) return this.reject(batch, connection, 'balances', 'unauthenticated', rid);
    if (request.account !== null && connection.role !== 'admin') {
      return this.reject(batch, connection, 'balances', 'forbidden', rid, "only an admin may read another account's balances");
    }
    if (this.orderEntry === 'halted') return this.rejectUndurable(batch, connection, 'balances', rid);
    const balances = this.deps.engine.balances(request.account ?? connection.account);
    batch.send(connection, withRid({ type: 'balances' as const, balances }, rid));
    batch.tally.count('balances', 'ok');
  }

  private transfer(batch: Batch, connection: Connection, request: TransferRequest): void {
    const { op, rid } = request;
    if (connection.account === null) return this.reject(batch, connection, op, 'unauthenticated', rid);
    if (connection.role !== 'admin') return this.reject(batch, connection, op, 'forbidden', rid, `only an admin may ${op}`);
    if (this.orderEntry === 'shutting_down') return this.reject(batch, connection, op, 'shutting_down', rid);
    if (this.orderEntry === 'halted') return this.reject(batch, connection, op, 'internal', rid, 'halted: the journal cannot write');
    const command: EngineCommand = {
      op,
      ts: batch.ts,
      account: request.account,
      asset: request.asset,
      amount: request.amount,
      ref: request.ref,
    };
    this.submit(batch, { connection, op, rid }, command);
  }

  private login(batch: Batch, connection: Connection, request: LoginRequest, rid: Rid | undefined): void {
    const refused = this.sessions.login(batch, connection, request, rid);
    if (refused) {
      batch.tally.count('login', refused.code);
      batch.send(connection, refused);
    }
  }

  /** Seal-time: the subscription joins its view and gets its snapshot (end-of-batch state). */
  resolvePendingSub(pending: PendingSub): void {
    this.subscriptions.resolve(pending);
  }

  /** Release-time: the socket joins the topic, after this batch's publishes. */
  activatePendingSub(pending: PendingSub): void {
    this.subscriptions.activate(pending);
  }

  /** A backed-up socket leaves its book views (subscriptions.ts); the count left. */
  suspendBooks(connection: Connection): number {
    return this.subscriptions.suspendBooks(connection);
  }

  /** The socket drained: each suspended view comes back with a snapshot, then its deltas. */
  resumeBooks(batch: Batch, connection: Connection): void {
    if (this.orderEntry === 'halted') return;
    this.subscriptions.resumeBooks(batch, connection);
  }

  /** The dead-man switches that ran out: each such account's orders are canceled (reason timeout). */
  fireDeadMen(batch: Batch, now: number): void {
    for (const account of this.deadMan.due(now)) {
      if (this.orderEntry !== 'open') continue;
      this.submit(batch, null, { op: 'cancel_all', ts: batch.ts, account, sym: null, reason: 'timeout' });
      batch.tally.count('cancel_after', 'fired');
    }
  }

  /** A closed socket: forget it, leave its views, and cancel its orders if it asked for that. */
  disconnect(batch: Batch, connection: Connection): void {
    connection.closed = true;
    this.subscriptions.dropAll(connection);
    const account = connection.account;
    if (account === null) return;
    this.sessions.logout(connection);
    if (connection.cancelOnDisconnect && this.orderEntry === 'open') {
      this.submit(batch, null, { op: 'cancel_all', ts: batch.ts, account, sym: null, reason: 'disconnect' });
    }
  }
}
