// One sink's loop: next batch (batch-feed.ts) → circuit breaker → deadline → apply, with
// retries (exponential backoff, full jitter) for as long as errors are transient. A permanent error
// (the batch itself is bad) sends the batch to the dead-letter store, marks its seq applied and goes
// on. While the breaker is open the loop only waits: the journal keeps everything, and the runner
// holds nothing but its one pending batch. Each runner reports its sink's health and metrics.
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CircuitBreaker, CircuitOpenError, type CircuitState } from './resilience/circuit-breaker.js';
import type { Clock } from './resilience/clock.js';
import { DeadlineExceeded, withDeadline } from './resilience/deadline.js';
import { SinkBehind, type EventBatch, type Sink } from './event-batch.js';
import { FeedReader, type BatchFeed, type DurableSource } from './batch-feed.js';
import { JournalGap } from './journal-follower.js';
import type { MatchingPressure } from './matching-pressure.js';
import { retry } from './resilience/retry.js';
import type { WriteBehindTuning } from './setup.js';

/** Where batches that can never be applied go (server/persistence/dead-letters/dead-letter-store.ts). */
export interface DeadLetters {
  add(sink: string, batch: EventBatch, error: unknown): Promise<unknown>;
  count(sink: string): Promise<number>;
}

export type { DurableSource } from './batch-feed.js';

/** The runners' Prometheus metrics, one series per sink, in the pipeline's registry. */
export interface SinkMetrics {
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

const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export function createSinkMetrics(registry: Registry): SinkMetrics {
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

export interface SinkRunnerDeps {
  readonly sink: Sink;
  readonly feed: BatchFeed;
  readonly durable: DurableSource;
  readonly deadLetters: DeadLetters;
  readonly metrics: SinkMetrics;
  readonly clock: Clock;
  readonly random: () => number;
  readonly log: Logger;
  readonly tuning: WriteBehindTuning;
  /** While matching is saturated, how long to rest after each batch; absent: never rest. */
  readonly pressure?: MatchingPressure;
}

export type RunnerStatus = 'starting' | 'running' | 'failed' | 'stopped';

export interface SinkHealth {
  readonly status: RunnerStatus;
  readonly breaker: CircuitState;
  readonly appliedSeq: number | null;
  readonly lagEvents: number | null;
  readonly heldCommands: number;
  readonly lastError?: string;
}

export class SinkRunner {
  private readonly breaker: CircuitBreaker;
  private readonly abort = new AbortController();
  private reader: FeedReader | null = null;
  private loop: Promise<void> | null = null;
  private status: RunnerStatus = 'starting';
  private lastError: string | null = null;
  private held = 0;
  /** Timestamp of the oldest command not yet applied (the held batch's first), for the lag in ms. */
  private pendingSinceTs: number | null = null;
  /** The last call sent to the sink while it has not settled, and when it was sent. */
  private pendingCall: { promise: Promise<unknown>; since: number } | null = null;
  /** Set by a failed call: the sink's stored applied seq is re-checked before trusting it again. */
  private recovering = false;
  private progressWaiters: (() => void)[] = [];
  /** Known once the sink has answered; null until then (nothing may be retired meanwhile). */
  appliedSeq: number | null = null;

  constructor(private readonly deps: SinkRunnerDeps) {
    const { sink, log, metrics, clock, tuning } = deps;
    metrics.breakerState.set({ sink: sink.name }, 0);
    this.breaker = new CircuitBreaker({
      name: sink.name,
      failureThreshold: tuning.breakerFailures,
      openMs: tuning.breakerOpenMs,
      clock,
      // A bad batch says nothing about the service's health.
      isFailure: (error) => !(error instanceof SinkBehind) && !sink.isPermanent(error),
      onTransition: (from, to, reason) => {
        metrics.breakerState.set({ sink: sink.name }, BREAKER_STATE_VALUE[to]);
        // Opening and closing are news; the probe cycle of a sink that stays down (half-open,
        // open again, every openMs) is not: debug, or a long outage is a warning every 2 s.
        const level = to === 'closed' ? 'info' : from === 'closed' ? 'warn' : 'debug';
        log[level]({ sink: sink.name, from, to, reason }, `write-behind ${sink.name}: circuit ${to}`);
      },
    });
  }

  get name(): string {
    return this.deps.sink.name;
  }

  start(): void {
    this.loop = this.run().catch((error: unknown) => {
      if (this.abort.signal.aborted) return;
      this.status = 'failed';
      this.lastError = describe(error);
      this.deps.log.error({ sink: this.name, err: error }, `write-behind ${this.name} stopped`);
    });
  }

  /** Refreshes the lag gauges (called periodically: a sink that is down has no events to do it). */
  refreshLag(): void {
    const { metrics, durable, clock } = this.deps;
    const labels = { sink: this.name };
    if (this.appliedSeq !== null) metrics.lagEvents.set(labels, Math.max(0, durable.seq - this.appliedSeq));
    if (this.pendingSinceTs !== null) metrics.lagMs.set(labels, Math.max(0, clock.now() - this.pendingSinceTs));
  }

  health(): SinkHealth {
    const breaker = this.breaker.state;
    return {
      status: this.status,
      breaker,
      appliedSeq: this.appliedSeq,
      lagEvents: this.appliedSeq === null ? null : Math.max(0, this.deps.durable.seq - this.appliedSeq),
      heldCommands: this.held,
      ...(this.lastError !== null ? { lastError: this.lastError } : {}),
    };
  }

  /** Resolves once the sink has applied `seq`, or false after `timeoutMs`. */
  async waitApplied(seq: number, timeoutMs: number): Promise<boolean> {
    const deadline = this.deps.clock.now() + timeoutMs;
    while ((this.appliedSeq ?? -1) < seq) {
      if (this.status === 'failed' || this.status === 'stopped') return false;
      const left = deadline - this.deps.clock.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.progressWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('write-behind stopping'));
    await this.loop;
    this.status = 'stopped';
    if (this.reader !== null) await this.deps.feed.release(this.reader);
    await this.deps.sink.close();
  }

  private async run(): Promise<void> {
    const { sink, feed, metrics } = this.deps;
    const labels = { sink: sink.name };
    const applied = await this.call(() => sink.appliedSeq());
    this.setApplied(applied);
    this.reader = new FeedReader(sink.name, applied);
    this.status = 'running';
    this.deps.log.info({ sink: sink.name, appliedSeq: applied }, `write-behind ${sink.name} resuming`);
    const signal = this.abort.signal;
    let shared = false;
    while (!signal.aborted) {
      let batch: EventBatch;
      try {
        batch = await feed.next(this.reader, signal);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof JournalGap) this.deps.log.error({ sink: sink.name }, error.message);
        throw error;
      }
      if (this.reader.shared !== shared) {
        shared = this.reader.shared;
        this.deps.log.info(
          { sink: sink.name, fromSeq: batch.fromSeq },
          `write-behind ${sink.name}: ${shared ? 'reading the shared replay' : 'out of step, replaying on its own'}`,
        );
      }
      this.held = batch.commands.length;
      this.pendingSinceTs = batch.commands[0]!.command.ts;
      metrics.heldCommands.set(labels, this.held);
      const lastTs = batch.commands[batch.commands.length - 1]!.command.ts;
      const began = this.deps.clock.now();
      try {
        await this.call(() => this.applyChecked(batch));
        metrics.batchCommands.observe(labels, batch.commands.length);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof SinkBehind) {
          await this.rebuildFrom(error.appliedSeq);
          continue;
        }
        if (!sink.isPermanent(error)) throw error;
        metrics.failures.inc({ ...labels, kind: 'permanent' });
        this.deps.log.error(
          { sink: sink.name, fromSeq: batch.fromSeq, toSeq: batch.toSeq, err: error },
          `write-behind ${sink.name}: batch dead-lettered`,
        );
        await this.call(() => this.deps.deadLetters.add(sink.name, batch, error));
        await this.call(() => sink.markApplied(batch.toSeq));
        metrics.deadLetters.set(labels, await this.deps.deadLetters.count(sink.name).catch(() => 0));
      }
      this.held = 0;
      this.pendingSinceTs = null;
      metrics.heldCommands.set(labels, 0);
      metrics.lagMs.set(labels, Math.max(0, this.deps.clock.now() - lastTs));
      this.setApplied(batch.toSeq);
      const rest = this.deps.pressure?.restAfter(this.deps.clock.now() - began) ?? 0;
      if (rest > 0) {
        try {
          await this.deps.clock.sleep(rest, signal);
        } catch {
          break; // stopping
        }
      }
    }
  }

  /**
   * After an outage the sink may have lost data (a Redis restarted empty): its stored applied seq
   * is checked before the next write, and one lower than what it had confirmed is rebuilt from.
   */
  private async applyChecked(batch: EventBatch): Promise<void> {
    const { sink } = this.deps;
    if (this.recovering) {
      const stored = await sink.appliedSeq();
      if (stored < (this.appliedSeq ?? 0)) throw new SinkBehind(sink.name, stored);
      this.recovering = false;
    }
    await sink.apply(batch);
  }

  private async rebuildFrom(stored: number): Promise<void> {
    const { sink, log } = this.deps;
    log.warn(
      { sink: sink.name, stored, confirmed: this.appliedSeq },
      `write-behind ${sink.name}: sink lost state; rebuilding it from the journal`,
    );
    this.recovering = false;
    await this.deps.feed.release(this.reader!);
    this.reader = new FeedReader(sink.name, stored);
    this.setApplied(stored);
    this.held = 0;
    this.pendingSinceTs = null;
  }

  /** One sink call through breaker, deadline and retries; throws only permanent errors (or on stop). */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    const { sink, clock, tuning, metrics, random } = this.deps;
    const labels = { sink: sink.name };
    let loggedError: string | null = null;
    return retry(() => this.breaker.call(() => withDeadline(() => this.sendOne(fn), tuning.deadlineMs, clock, this.abort.signal)), {
      attempts: Infinity,
      baseMs: tuning.retryBaseMs,
      maxMs: tuning.retryMaxMs,
      isPermanent: (error) => error instanceof SinkBehind || sink.isPermanent(error),
      clock,
      random,
      signal: this.abort.signal,
      onRetry: ({ error, attempt }) => {
        const kind = error instanceof CircuitOpenError ? 'open' : error instanceof DeadlineExceeded ? 'deadline' : 'transient';
        metrics.failures.inc({ ...labels, kind });
        // While open, the breaker's own refusal would hide the cause: keep the last real error.
        if (kind !== 'open' || this.lastError === null) this.lastError = describe(error);
        this.recovering = true;
        if (this.reader !== null) this.deps.feed.setFailing(this.reader, true);
        // The first failure and each new cause are logged, the same cause again only now and then.
        if (kind !== 'open' && (attempt === 0 || this.lastError !== loggedError || attempt % 20 === 0)) {
          loggedError = this.lastError;
          this.deps.log.warn({ sink: sink.name, attempt, err: this.lastError }, `write-behind ${sink.name}: call failed, retrying`);
        }
      },
    });
  }

  /** Sends `fn` unless an earlier call is still pending (and not yet abandoned). */
  private sendOne<T>(fn: () => Promise<T>): Promise<T> {
    const { clock, tuning, sink } = this.deps;
    const pending = this.pendingCall;
    if (pending && clock.now() - pending.since < tuning.abandonHungCallMs) {
      return Promise.reject(new Error(`the previous call to ${sink.name} has not returned yet`));
    }
    const promise = fn();
    const entry = { promise, since: clock.now() };
    this.pendingCall = entry;
    const settle = (): void => {
      if (this.pendingCall === entry) this.pendingCall = null;
    };
    promise.then(settle, settle);
    return promise;
  }

  private setApplied(seq: number): void {
    const { metrics, sink, durable } = this.deps;
    this.appliedSeq = seq;
    this.lastError = null;
    if (this.reader !== null) this.deps.feed.setFailing(this.reader, false);
    metrics.appliedSeq.set({ sink: sink.name }, seq);
    metrics.lagEvents.set({ sink: sink.name }, Math.max(0, durable.seq - seq));
    const waiters = this.progressWaiters;
    this.progressWaiters = [];
    for (const wake of waiters) wake();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
