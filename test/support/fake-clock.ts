// A Clock whose time moves only when a test says so. advance(ms) fires due sleeps one at a time
// in due order (ties in the order they were made) and lets promise chains run between them, so
// code that sleeps again after waking is fired within the same advance when it falls due.
import { abortReason, type Clock } from '../../server/persistence/resilience/clock.js';

interface PendingSleep {
  readonly dueAt: number;
  readonly order: number;
  readonly resolve: () => void;
}

/** Lets every settled promise's continuations run (several microtask and macrotask rounds). */
export async function flushPromises(): Promise<void> {
  for (let round = 0; round < 5; round += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private time: number;
  private made = 0;
  private pending: PendingSleep[] = [];

  constructor(startAt = 1_700_000_000_000) {
    this.time = startAt;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending = this.pending.filter((sleep) => sleep !== entry);
        reject(abortReason(signal!));
      };
      const entry: PendingSleep = {
        dueAt: this.time + Math.max(0, ms),
        order: this.made++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.pending.push(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** How many sleeps are waiting. */
  get pendingSleeps(): number {
    return this.pending.length;
  }

  /** The due times of waiting sleeps, relative to now, soonest first. */
  pendingDelays(): number[] {
    return this.sorted().map((sleep) => sleep.dueAt - this.time);
  }

  /** Moves time forward by `ms`, firing every sleep that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await flushPromises();
    for (;;) {
      const next = this.sorted()[0];
      if (next === undefined || next.dueAt > target) break;
      this.pending = this.pending.filter((sleep) => sleep !== next);
      this.time = next.dueAt;
      next.resolve();
      await flushPromises();
    }
    this.time = target;
  }

  /** Waits (in real time, by letting promises run) until at least `count` sleeps are pending. */
  async untilSleeping(count = 1, maxRounds = 1_000): Promise<void> {
    for (let round = 0; round < maxRounds; round += 1) {
      if (this.pending.length >= count) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    throw new Error(`expected ${count} pending sleep(s), have ${this.pending.length}`);
  }

  private sorted(): PendingSleep[] {
    return [...this.pending].sort((a, b) => a.dueAt - b.dueAt || a.order - b.order);
  }
}
