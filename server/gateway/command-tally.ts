// Requests counted per batch and added to the Prometheus counter once per (op, result) when the
// batch is sealed: prom-client hashes and validates the labels on every `inc`, which cost about as
// much per order as matching it.
import type { Counter } from 'prom-client';

export class CommandTally {
  /** op → result → requests. */
  private readonly counts = new Map<string, Map<string, number>>();

  count(op: string, result: string): void {
    let byResult = this.counts.get(op);
    if (!byResult) this.counts.set(op, (byResult = new Map()));
    byResult.set(result, (byResult.get(result) ?? 0) + 1);
  }

  /** Adds the tally to `counter` and starts again from zero. */
  flushTo(counter: Counter<'op' | 'result'>): void {
    for (const [op, byResult] of this.counts) {
      for (const [result, requests] of byResult) counter.inc({ op, result }, requests);
    }
    this.counts.clear();
  }
}
