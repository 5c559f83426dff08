// A slow consumer is cut off, not allowed to grow memory: uWS's backpressure limit closes a socket
// at once, and a sweep every 250 ms closes one over half the limit. Over a quarter, its book views
// pause first (they resume with a snapshot once it has drained to a sixteenth).
import type { Logger } from 'pino';
import type { ServerMetrics } from '../metrics.js';
import type { Batch } from './batch.js';
import type { Connection } from './connection.js';
import type { RequestHandler } from './request-handler.js';

export const SLOW_CONSUMER_SWEEP_MS = 250;

export class SlowConsumers {
  constructor(
    private readonly maxBackpressureBytes: number,
    private readonly handler: RequestHandler,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
    private readonly currentBatch: () => Batch,
  ) {}

  close(connection: Connection): void {
    if (connection.closed) return;
    this.metrics.backpressureCloses.inc();
    this.logger.warn({ connection: connection.id }, 'closing a slow consumer');
    connection.ws.end(1008, 'slow consumer: backpressure limit');
  }

  sweep(connections: Iterable<Connection>): void {
    const limit = this.maxBackpressureBytes;
    for (const connection of connections) {
      if (connection.closed) continue;
      const buffered = connection.ws.getBufferedAmount();
      if (buffered > limit / 2) {
        this.close(connection);
      } else if (buffered > limit / 4 && connection.bookSubs.size > 0) {
        const suspended = this.handler.suspendBooks(connection);
        this.metrics.bookResyncs.inc(suspended);
        if (suspended > 0)
          this.logger.info(
            { connection: connection.id, buffered, books: suspended },
            'backed-up socket: book deltas paused until it drains',
          );
      } else if (connection.suspendedBooks.size > 0) {
        this.resumeBooksIfDrained(connection);
      }
    }
  }

  resumeBooksIfDrained(connection: Connection): void {
    if (connection.closed || connection.ws.getBufferedAmount() > this.maxBackpressureBytes / 16) return;
    this.handler.resumeBooks(this.currentBatch(), connection);
  }
}
