// The uWebSockets.js edge: `/ws` frames in, batches out. Requests of one event-loop turn form a
// batch; at the end of the turn the batch is sealed (market-data deltas and snapshots computed),
// committed (the journal's group commit, when there is one) and released: one corked frame per
// socket, one encoded publish per topic. Every native callback is guarded: a bug closes the socket
// with 1011, never the process. Requests go through the intake (request-intake.ts), which gives
// each connection a bounded slice of every turn. Plain HTTP is in http-routes.ts, cutting off slow
// consumers in slow-consumers.ts.
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Codec } from '../../protocol/codec.js';
import { TICKER_INTERVAL_MS } from '../../protocol/constants.js';
import type { ServerMessage } from '../../protocol/messages.js';
import { makeReject, type MarketTable } from '../../protocol/validate.js';
import type { BookFeed } from '../market-data/book-feed.js';
import { BookConflation } from '../market-data/book-conflation.js';
import type { MarketStats } from '../market-data/market-stats.js';
import { Batch, flattenOutgoing } from './batch.js';
import { Connection, type SocketData } from './connection.js';
import { addHttpRoutes, type HttpRouteDeps } from './http-routes.js';
import { MarketDataFrames } from './market-data-frames.js';
import type { RequestHandler } from './request-handler.js';
import { tradesTopic } from './subscriptions.js';
import { RequestIntake, type IntakeLimits } from './request-intake.js';
import { SLOW_CONSUMER_SWEEP_MS, SlowConsumers } from './slow-consumers.js';
import type { UwsModule } from './uws.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly maxPayloadBytes: number;
  readonly maxBackpressureBytes: number;
  readonly rateLimitPerSecond: number;
  /** Connections one remote address may hold open; 0: no cap. */
  readonly maxConnectionsPerIp: number;
  readonly intake: IntakeLimits;
}

export interface GatewayDeps extends HttpRouteDeps {
  readonly uws: UwsModule;
  readonly handler: RequestHandler;
  /** Markets by sym: the validator words a bad px or qty in the market's units. */
  readonly markets: MarketTable;
  readonly feeds: ReadonlyMap<string, BookFeed>;
  /** Candles, tickers and recent trades: advanced by each sealed batch that journaled commands. */
  readonly marketStats: MarketStats;
  readonly codec: Codec;
  /** Makes a sealed batch's commands durable; outputs are released only after it resolves. */
  readonly commit: (batch: Batch) => Promise<void> | void;
  readonly onCommitFailure: (error: Error) => void;
  readonly clock: () => number;
}

/** uWS's ListenOptions value (index.d.ts declares the enum, the addon exports only the number). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

/**
 * uWS's own payload limit is this many times ours. uWS drops a socket whose frame exceeds its
 * limit without a close frame (the client sees 1006; the reason "Received too big message" reaches
 * only our close handler), so frames between our limit and uWS's get a real 1009 with a reason.
 * Beyond uWS's, 1006 is all a client can see. It bounds the bytes uWS buffers per socket.
 */
const PAYLOAD_GRACE_FACTOR = 4;
/** How often expired dead-man switches are looked for: a switch fires at most this late. */
const DEAD_MAN_CHECK_MS = 50;

export class Gateway {
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | null = null;
  private batch: Batch | null = null;
  /** Batches sealed but not yet released, oldest first: released strictly in order. */
  private releaseChain: Promise<void> = Promise.resolve();
  private readonly connections = new Set<Connection>();
  private readonly connectionsPerIp = new Map<string, number>();
  private readonly intake: RequestIntake;
  private nextConnectionId = 1;
  private sweepTimer: NodeJS.Timeout | null = null;
  private deadManTimer: NodeJS.Timeout | null = null;
  private tickerTimer: NodeJS.Timeout | null = null;
  private readonly marketData: MarketDataFrames;
  private readonly conflation = new BookConflation(() => this.currentBatch());
  private readonly slowConsumers: SlowConsumers;
  /** Subscriptions in sealed batches not yet released: they join their topics at that release. */
  private unreleasedPendingSubs = 0;
  port = 0;

  constructor(
    private readonly options: GatewayOptions,
    private readonly deps: GatewayDeps,
  ) {
    this.app = deps.uws.App();
    this.marketData = new MarketDataFrames(deps.marketStats, deps.feeds, deps.codec);
    this.intake = new RequestIntake({
      codec: deps.codec,
      handler: deps.handler,
      markets: deps.markets,
      limits: options.intake,
      currentBatch: () => this.currentBatch(),
    });
    this.slowConsumers = new SlowConsumers(options.maxBackpressureBytes, deps.handler, deps.metrics, deps.logger, () =>
      this.currentBatch(),
    );
    deps.handler.inCurrentBatch = (work) => work(this.currentBatch());
    this.routes();
  }

  async listen(): Promise<number> {
    const { uws } = this.deps;
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      // uWS sets SO_REUSEPORT by default, so a second server on the same port would start and the
      // kernel would split connections between the two. Exclusive: the second one fails here.
      // (uWS reports no errno; a port in use is by far the common cause.)
      const listen = this.app.listen as unknown as (
        host: string,
        port: number,
        options: number,
        cb: (token: us_listen_socket | false) => void,
      ) => void;
      listen.call(this.app, host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (token) => {
        if (!token)
          return reject(new Error(`cannot listen on ${host}:${port}: port ${port} is already in use (or the address cannot be bound)`));
        this.listenSocket = token;
        this.port = uws.us_socket_local_port(token as unknown as Parameters<UwsModule['us_socket_local_port']>[0]);
        resolve();
      });
    });
    this.sweepTimer = setInterval(() => this.slowConsumers.sweep(this.connections), SLOW_CONSUMER_SWEEP_MS);
    this.sweepTimer.unref();
    // Dead-man switches fire within this period after their deadline (cancel_after).
    this.deadManTimer = setInterval(() => {
      if (this.deps.handler.deadMan.armed > 0) this.deps.handler.fireDeadMen(this.currentBatch(), this.deps.clock());
    }, DEAD_MAN_CHECK_MS);
    this.deadManTimer.unref();
    this.tickerTimer = setInterval(() => this.publishTickers(), TICKER_INTERVAL_MS);
    this.tickerTimer.unref();
    return this.port;
  }

  /** Stops accepting, flushes what is in flight, closes every socket. */
  async close(): Promise<void> {
    if (this.listenSocket) {
      this.deps.uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.deadManTimer) clearInterval(this.deadManTimer);
    if (this.tickerTimer) clearInterval(this.tickerTimer);
    this.conflation.stop();
    if (this.batch) this.seal();
    await this.releaseChain;
    for (const connection of [...this.connections]) {
      if (!connection.closed) connection.ws.end(1001, 'server shutting down');
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Bytes queued on the most backed-up socket: replay at max speed waits while it is high. */
  get maxBufferedBytes(): number {
    let max = 0;
    for (const connection of this.connections) if (!connection.closed) max = Math.max(max, connection.ws.getBufferedAmount());
    return max;
  }

  private routes(): void {
    const { uws, metrics } = this.deps;
    this.app.ws<SocketData>('/ws', {
      compression: uws.DISABLED,
      maxPayloadLength: this.options.maxPayloadBytes * PAYLOAD_GRACE_FACTOR,
      maxBackpressure: this.options.maxBackpressureBytes,
      closeOnBackpressureLimit: 1,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        res.upgrade<SocketData>(
          { connection: null },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        const ip = Buffer.from(ws.getRemoteAddressAsText()).toString();
        const fromIp = this.connectionsPerIp.get(ip) ?? 0;
        const cap = this.options.maxConnectionsPerIp;
        if (cap > 0 && fromIp >= cap) {
          this.deps.logger.warn({ ip, cap }, 'refusing a connection: too many from this address');
          ws.end(1008, `too many connections from ${ip} (the most is ${cap})`);
          return;
        }
        this.connectionsPerIp.set(ip, fromIp + 1);
        const connection = new Connection(this.nextConnectionId++, ws, ip, this.options.rateLimitPerSecond, this.deps.clock());
        ws.getUserData().connection = connection;
        this.connections.add(connection);
        metrics.connections.set(this.connections.size);
      },
      message: (ws, message, isBinary) => {
        const connection = ws.getUserData().connection;
        if (!connection) return;
        try {
          if (message.byteLength > this.options.maxPayloadBytes) {
            ws.end(1009, `frame of ${message.byteLength} bytes is over the ${this.options.maxPayloadBytes}-byte limit`);
            return;
          }
          this.intake.frame(connection, message, isBinary);
        } catch (error) {
          this.deps.logger.error({ err: error, connection: connection.id }, 'bug while handling a frame; closing the socket');
          ws.end(1011, 'internal error');
        }
      },
      drain: (ws) => {
        const connection = ws.getUserData().connection;
        if (connection && connection.suspendedBooks.size > 0) this.slowConsumers.resumeBooksIfDrained(connection);
        this.intake.wake();
      },
      close: (ws, code, reason) => {
        const connection = ws.getUserData().connection;
        if (!connection) return;
        try {
          if (code === 1006 && reason.byteLength > 0) {
            this.deps.logger.info({ connection: connection.id, reason: Buffer.from(reason).toString() }, 'uWS dropped the connection');
          }
          this.connections.delete(connection);
          const fromIp = (this.connectionsPerIp.get(connection.ip) ?? 1) - 1;
          if (fromIp > 0) this.connectionsPerIp.set(connection.ip, fromIp);
          else this.connectionsPerIp.delete(connection.ip);
          metrics.connections.set(this.connections.size);
          this.intake.forget(connection);
          this.deps.handler.disconnect(this.currentBatch(), connection);
        } catch (error) {
          this.deps.logger.error({ err: error }, 'bug while closing a connection');
        }
      },
    });
    addHttpRoutes(this.app, this.deps, () => this.connections.size);
  }

  /**
   * Runs `work` as a batch of its own, sealed at once: replay feeds one journal record per batch
   * so that market-data seqs come out exactly as they did live.
   */
  runBatch(work: (batch: Batch) => void): void {
    if (this.batch) this.seal();
    const batch = this.currentBatch();
    work(batch);
    this.seal();
  }

  /** The batch of this event-loop turn, opened on first use and sealed when the turn ends. */
  private currentBatch(): Batch {
    if (this.batch) return this.batch;
    const batch = new Batch(this.deps.clock());
    this.batch = batch;
    setImmediate(() => {
      if (this.batch === batch) this.seal();
    });
    return batch;
  }

  /** End of the turn: compute market data for the batch, then commit and release it in order. */
  private seal(): void {
    const batch = this.batch!;
    this.batch = null;
    const { codec, feeds, handler, metrics } = this.deps;
    try {
      metrics.batchSize.observe(batch.requests);
      batch.tally.flushTo(metrics.commands);
      for (const sym of batch.changedBooks) {
        const feed = feeds.get(sym)!;
        for (const delta of feed.advance()) {
          batch.topicFrames.push({ topic: delta.topic, bytes: codec.encode(delta.message) });
        }
        this.conflation.note(feed);
      }
      const merged = this.conflation.flush(this.deps.clock());
      for (const delta of merged) batch.topicFrames.push({ topic: delta.topic, bytes: codec.encode(delta.message) });
      metrics.conflatedDeltas.inc(merged.length);
      // A topic nobody holds gets no frame, unless a sub of an earlier, unreleased batch may join it
      // before this batch is released (this batch's own subs get a snapshot as of its end instead).
      const earlierSubs = this.unreleasedPendingSubs > 0;
      const wanted = (topic: string): boolean => earlierSubs || this.app.numSubscribers(topic) > 0;
      for (const [sym, trades] of batch.trades) {
        const topic = tradesTopic(sym);
        if (wanted(topic)) batch.topicFrames.push({ topic, bytes: codec.encode(trades.length === 1 ? trades[0] : trades) });
      }
      this.marketData.seal(batch, wanted);
      handler.sendBalances(batch);
      for (const pending of batch.pendingSubs) handler.resolvePendingSub(pending);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'bug while sealing a batch');
    }
    this.unreleasedPendingSubs += batch.pendingSubs.length;
    const committed = this.deps.commit(batch);
    this.releaseChain = this.releaseChain.then(async () => {
      try {
        await committed;
      } catch (error) {
        this.deps.logger.error({ err: error }, 'batch could not be journaled; its outputs are withheld');
        this.deps.onCommitFailure(error as Error);
        this.guardedRelease(batch, () => this.releaseFailed(batch));
        return;
      }
      this.guardedRelease(batch, () => this.release(batch));
    });
  }

  /** The conflation's due tickers (state of released batches only), at most one per market per interval. */
  private publishTickers(): void {
    try {
      for (const frame of this.marketData.dueTickers(performance.now(), (topic) => this.app.numSubscribers(topic) > 0)) {
        this.app.publish(frame.topic, frame.bytes, true);
        this.deps.metrics.outboundBytes.inc(frame.bytes.length * this.app.numSubscribers(frame.topic));
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, 'bug while publishing tickers');
    }
  }

  /**
   * Nothing may escape a release: it runs in the promise chain that orders all releases, where a
   * throw would skip every later batch and, unhandled, end the process. A socket whose frame fails
   * is closed in sendFrame; anything else is logged.
   */
  private guardedRelease(batch: Batch, release: () => void): void {
    this.unreleasedPendingSubs -= batch.pendingSubs.length;
    try {
      release();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'bug while releasing a batch');
    }
    this.intake.released(batch);
  }

  private release(batch: Batch): void {
    const { metrics, handler } = this.deps;
    const hasPendingSubs = batch.pendingSubs.length > 0;
    for (const [connection, outgoing] of batch.perConnection) {
      this.sendFrame(connection, hasPendingSubs ? flattenOutgoing(outgoing) : (outgoing as readonly ServerMessage[]));
    }
    for (const frame of batch.topicFrames) {
      const subscribers = this.app.numSubscribers(frame.topic);
      if (subscribers === 0) continue;
      this.app.publish(frame.topic, frame.bytes, true);
      metrics.outboundBytes.inc(frame.bytes.length * subscribers);
    }
    this.marketData.released(batch);
    for (const pending of batch.pendingSubs) handler.activatePendingSub(pending);
  }

  /** A batch that could not be journaled: its acks become `internal` rejects, nothing else leaves. */
  private releaseFailed(batch: Batch): void {
    const perConnection = new Map<Connection, ServerMessage[]>();
    for (const { connection, op, rid } of batch.acked) {
      const list = perConnection.get(connection) ?? [];
      list.push(makeReject(op, 'internal', 'not journaled: the journal cannot write', rid));
      perConnection.set(connection, list);
    }
    for (const [connection, messages] of perConnection) this.sendFrame(connection, messages);
  }

  private sendFrame(connection: Connection, messages: readonly ServerMessage[]): void {
    if (connection.closed || messages.length === 0) return;
    let bytes: Uint8Array;
    let status = 1;
    try {
      // uWS copies what it cannot write at once, so the encoder's space can be reused at once.
      bytes = this.deps.codec.encodeTransient(messages.length === 1 ? messages[0] : messages);
      connection.ws.cork(() => {
        status = connection.ws.send(bytes, true);
      });
    } catch (error) {
      this.deps.logger.error(
        { err: error, connection: connection.id, messages: messages.length },
        'bug while sending a frame; closing the socket',
      );
      connection.ws.end(1011, 'internal error');
      return;
    }
    this.deps.metrics.outboundBytes.inc(bytes.length);
    if (status === 2) this.slowConsumers.close(connection);
  }
}
