// How the write-behind yields to matching when both want the CPU. The sinks are behind the engine
// by design and the journal holds everything they still need, so while the matching thread is
// saturated the write-behind keeps itself to a duty cycle: after a batch that took t ms it rests
// t·(1−d)/d ms. Its CPU (the worker's and, roughly in proportion, the databases') then stays near
// d of what it would take; the lag grows during the burst and is worked off at full speed after.

import { performance } from 'node:perf_hooks';

/** Above this event-loop utilization the matching thread counts as saturated. */
export const BUSY_UTILIZATION = 0.8;
/** Longest single rest, so a sink moves at least once in this long even under endless load. */
export const MAX_REST_MS = 2_000;

export class MatchingPressure {
  private busy = false;

  /** `dutyCycle` in (0, 1]: the share of time the write-behind may work while matching is busy; 1 never rests. */
  constructor(readonly dutyCycle: number) {
    if (!(dutyCycle > 0 && dutyCycle <= 1)) throw new RangeError(`dutyCycle must be in (0, 1], got ${dutyCycle}`);
  }

  get matchingBusy(): boolean {
    return this.busy;
  }

  setMatchingBusy(busy: boolean): void {
    this.busy = busy;
  }

  /** How long to rest after a batch that kept the sink busy for `batchMs`. */
  restAfter(batchMs: number): number {
    if (!this.busy || this.dutyCycle >= 1 || batchMs <= 0) return 0;
    return Math.min(MAX_REST_MS, (batchMs * (1 - this.dutyCycle)) / this.dutyCycle);
  }
}

/**
 * Samples the calling thread's event-loop utilization every `intervalMs` and reports each change
 * of "saturated or not" (the server's main thread runs this; the worker gets the flag).
 */
export function watchEventLoop(intervalMs: number, onChange: (busy: boolean) => void): () => void {
  let last = performance.eventLoopUtilization();
  let busy = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    const saturated = window.utilization > BUSY_UTILIZATION;
    if (saturated !== busy) {
      busy = saturated;
      onChange(busy);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
