// The write-behind pipeline: one runner per sink (Redis, Postgres), reading the journal behind the
// engine through one shared replay (batch-feed.ts) while they keep up, each on its own otherwise.
// It runs in the worker thread (worker.ts), or in a test's or bench's own thread. The matching path
// only ever calls `notifyDurable(seq)` after a group commit, which stores a number and wakes the idle
// runners; it never waits for a sink. The journal keeps what a lagging sink still needs
// (`retainFromSeq`), so nothing is buffered in memory.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createCommandCodec } from '../journal/command-codec.js';
import type { Clock } from './resilience/clock.js';
import type { Sink } from './event-batch.js';
import { BatchFeed } from './batch-feed.js';
import { JournalFollower } from './journal-follower.js';
import { MatchingPressure } from './matching-pressure.js';
import { DEFAULT_TUNING, type WriteBehindSetup } from './setup.js';
import { SinkRunner, createSinkMetrics, type DeadLetters, type DurableSource, type SinkHealth } from './sink-runner.js';

/** The durable journal seq, with waiters woken when it moves (at most one per runner). */
export class DurableSeq implements DurableSource {
  private waiters: { beyond: number; wake: () => void }[] = [];

  constructor(public seq: number) {}

  advance(seq: number): void {
    if (seq <= this.seq) return;
    this.seq = seq;
    const ready = this.waiters.filter((waiter) => waiter.beyond < seq);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.beyond >= seq);
    for (const waiter of ready) waiter.wake();
  }

  waitBeyond(seq: number, signal: AbortSignal): Promise<void> {
    if (this.seq > seq) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        beyond: seq,
        wake: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }
}

/** The live objects the pipeline works with: the worker builds them from its setup, a test brings its own. */
export interface PipelineServices {
  readonly sinks: readonly Sink[];
  readonly deadLetters: DeadLetters;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: Logger;
}

export interface WriteBehindHealth {
  /** "degraded" when a sink is behind a failure: trading goes on, the journal has everything. */
  readonly status: 'ok' | 'degraded';
  readonly sinks: Record<string, SinkHealth>;
  /** Why the pipeline itself is not running (its worker thread failed and is being restarted). */
  readonly error?: string;
  /** Present while matching is saturated and the sinks keep to their duty cycle (lag may grow). */
  readonly yieldingToMatching?: true;
}

export class Pipeline {
  readonly durable: DurableSeq;
  private readonly runners: SinkRunner[];
  private readonly feed: BatchFeed;
  private readonly lagTimer: NodeJS.Timeout;
  private readonly pressure: MatchingPressure;

  /** Starts every sink's runner; the pipeline reads the journal part of the setup and its tuning. */
  constructor(
    setup: Pick<WriteBehindSetup, 'journalDir' | 'snapshotDir' | 'markets' | 'limits' | 'durableSeq' | 'matchingBusy' | 'tuning'>,
    services: PipelineServices,
  ) {
    const tuning = { ...DEFAULT_TUNING, ...setup.tuning };
    this.durable = new DurableSeq(setup.durableSeq);
    this.pressure = new MatchingPressure(tuning.busyDutyCycle);
    this.pressure.setMatchingBusy(setup.matchingBusy === true);
    const metrics = createSinkMetrics(services.registry);
    const followerOptions = {
      journalDir: setup.journalDir,
      snapshotDir: setup.snapshotDir,
      markets: setup.markets,
      limits: setup.limits,
      codec: createCommandCodec(),
      depth: tuning.bookDepth,
      maxBatchCommands: tuning.maxBatchCommands,
      log: services.log,
    };
    this.feed = new BatchFeed({
      openFollower: (name, appliedSeq) => JournalFollower.open(name, appliedSeq, followerOptions),
      durable: this.durable,
      clock: services.clock,
      tuning,
    });
    this.runners = services.sinks.map(
      (sink) =>
        new SinkRunner({
          sink,
          feed: this.feed,
          durable: this.durable,
          deadLetters: services.deadLetters,
          metrics,
          clock: services.clock,
          random: services.random,
          log: services.log,
          tuning,
          pressure: this.pressure,
        }),
    );
    for (const runner of this.runners) runner.start();
    this.lagTimer = setInterval(() => {
      for (const runner of this.runners) runner.refreshLag();
    }, 1_000);
    this.lagTimer.unref();
  }

  /** Called after each group commit with the last seq it made durable. Cheap: no I/O, no await. */
  notifyDurable(seq: number): void {
    this.durable.advance(seq);
  }

  /** Told by the matching thread whether it is saturated (the sinks then rest between batches). */
  setMatchingBusy(busy: boolean): void {
    this.pressure.setMatchingBusy(busy);
  }

  /** The lowest journal seq some sink still needs (journal retirement keeps it). */
  retainFromSeq(): number {
    let lowest = Infinity;
    for (const runner of this.runners) lowest = Math.min(lowest, (runner.appliedSeq ?? 0) + 1);
    return lowest;
  }

  health(): WriteBehindHealth {
    const sinks: Record<string, SinkHealth> = {};
    let degraded = false;
    for (const runner of this.runners) {
      const health = runner.health();
      sinks[runner.name] = health;
      if (health.status !== 'running' || health.breaker !== 'closed' || health.lastError !== undefined) degraded = true;
    }
    return { status: degraded ? 'degraded' : 'ok', sinks, ...(this.pressure.matchingBusy ? { yieldingToMatching: true as const } : {}) };
  }

  /** Waits (at most `drainMs`) until every sink has applied what is durable now, then stops them. */
  async close(drainMs: number): Promise<{ drained: boolean }> {
    // Matching has stopped taking orders: the drain runs at full speed.
    this.pressure.setMatchingBusy(false);
    const target = this.durable.seq;
    const results = await Promise.all(this.runners.map((runner) => runner.waitApplied(target, drainMs)));
    clearInterval(this.lagTimer);
    await Promise.all(this.runners.map((runner) => runner.stop()));
    await this.feed.stop();
    return { drained: results.every(Boolean) };
  }
}
