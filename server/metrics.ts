// The server's Prometheus metrics, in a registry of its own (no global default registry, so two
// servers in one process — tests — do not collide).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { UnlabeledHistogram } from './unlabeled-histogram.js';

export interface ServerMetrics {
  readonly registry: Registry;
  readonly connections: Gauge;
  readonly commands: Counter<'op' | 'result'>;
  /** Observed once per command: prom-client's Histogram costs too much per call for that. */
  readonly matchSeconds: UnlabeledHistogram;
  readonly outboundBytes: Counter;
  readonly backpressureCloses: Counter;
  readonly bookResyncs: Counter;
  readonly conflatedDeltas: Counter;
  readonly batchSize: Histogram;
}

/** A gauge whose value is read from `value` when Prometheus scrapes (bus and cluster figures kept elsewhere). */
export function scrapedGauge(registry: Registry, name: string, help: string, value: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(value());
    },
  });
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'spotwire_' });
  return {
    registry,
    connections: new Gauge({ name: 'spotwire_connections', help: 'Open WebSocket connections', registers: [registry] }),
    commands: new Counter({
      name: 'spotwire_commands_total',
      help: 'Requests handled, by op and result (ok, or the reject code)',
      labelNames: ['op', 'result'],
      registers: [registry],
    }),
    matchSeconds: new UnlabeledHistogram(
      'spotwire_match_seconds',
      'Time the matching engine spends on one command',
      [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2],
      registry,
    ),
    outboundBytes: new Counter({
      name: 'spotwire_outbound_bytes_total',
      help: 'Bytes of WebSocket payload sent (publishes counted once per subscriber)',
      registers: [registry],
    }),
    backpressureCloses: new Counter({
      name: 'spotwire_backpressure_closes_total',
      help: 'Sockets closed because they did not read fast enough',
      registers: [registry],
    }),
    bookResyncs: new Counter({
      name: 'spotwire_book_resyncs_total',
      help: 'Book subscriptions of backed-up sockets moved to a fresh snapshot instead of their deltas',
      registers: [registry],
    }),
    conflatedDeltas: new Counter({
      name: 'spotwire_conflated_book_deltas_total',
      help: 'Merged book deltas published to subscriptions with an interval',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'spotwire_batch_commands',
      help: 'Requests processed per event-loop batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
      registers: [registry],
    }),
  };
}
