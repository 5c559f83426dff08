// Prometheus metrics of the write-behind, one series per sink, in the server's own registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WriteBehindMetrics {
  readonly appliedSeq: Gauge<'sink'>;
  readonly lagEvents: Gauge<'sink'>;
  readonly lagMs: Gauge<'sink'>;
  readonly batchCommands: Histogram<'sink'>;
  readonly failures: Counter<'sink' | 'kind'>;
  /** 0 closed, 1 half-open, 2 open. */
  readonly breakerState: Gauge<'sink'>;
  readonly deadLetters: Gauge<'sink'>;
  /** Commands the sink's runner holds in memory (its one pending batch): bounded by the batch size. */
  readonly heldCommands: Gauge<'sink'>;
}

export const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export function createWriteBehindMetrics(registry: Registry): WriteBehindMetrics {
  const gauge = (name: string, help: string): Gauge<'sink'> => new Gauge({ name, help, labelNames: ['sink'], registers: [registry] });
  return {
    appliedSeq: gauge('spotwire_sink_applied_seq', 'Last journal seq the sink has applied'),
    lagEvents: gauge('spotwire_sink_lag_events', 'Durable journal commands the sink has not applied yet'),
    lagMs: gauge('spotwire_sink_lag_ms', 'Age of the newest applied command when it was applied, or of the oldest unapplied one'),
    batchCommands: new Histogram({
      name: 'spotwire_sink_batch_commands',
      help: 'Commands per batch written to the sink',
      labelNames: ['sink'],
      buckets: [1, 5, 10, 50, 100, 500, 1000, 2000, 5000, 10000],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'spotwire_sink_failures_total',
      help: 'Failed sink calls by kind: transient (retried), permanent (dead-lettered), deadline, open (refused by the breaker)',
      labelNames: ['sink', 'kind'],
      registers: [registry],
    }),
    breakerState: gauge('spotwire_sink_breaker_state', 'Circuit breaker state: 0 closed, 1 half-open, 2 open'),
    deadLetters: gauge('spotwire_sink_dead_letters', 'Batches of this sink in the dead-letter store'),
    heldCommands: gauge('spotwire_sink_held_commands', 'Commands held in memory by the sink runner (bounded by the batch size)'),
  };
}
