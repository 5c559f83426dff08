// A circuit breaker in front of a sink: after `failureThreshold` consecutive failures the sink is
// presumed down and calls fail at once (CircuitOpenError) for `openMs`, instead of each one waiting
// out its own timeout against a dead server. Then `halfOpenProbes` trial calls go through: if they
// all succeed the circuit closes; one failure opens it again for another `openMs`.
//
// Time is read lazily from the injected clock (no timers): the open → half-open transition happens
// when the breaker is next asked (`state` or `call`) after `openMs` has passed.
//
// Outcomes of calls that started before the latest transition are ignored: a slow call admitted
// while closed must not close a circuit that has opened since, nor count as a half-open probe.
import type { Clock } from './clock.js';

export const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

/** Thrown by `call` without calling anything while the circuit is open (or probes are all out). */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor(
    readonly breaker: string,
    /** Milliseconds until the breaker lets a probe through (0 when half-open with probes in flight). */
    readonly retryInMs: number,
  ) {
    super(`circuit '${breaker}' is open; next probe in ${retryInMs} ms`);
  }
}

export interface CircuitBreakerOptions {
  /** Used in errors and transition reasons, e.g. the sink name. */
  readonly name: string;
  /** Consecutive failures that open a closed circuit (≥ 1). */
  readonly failureThreshold: number;
  /** How long an open circuit rejects calls before letting probes through (ms, ≥ 0). */
  readonly openMs: number;
  /** Trial calls allowed while half-open; that many successes close the circuit (≥ 1, default 1). */
  readonly halfOpenProbes?: number;
  readonly clock: Clock;
  /**
   * Whether an error says the service is unhealthy (default: every error). An error that does not
   * (a constraint violation: the service answered, the batch was bad) counts as a success here,
   * and is still thrown to the caller.
   */
  readonly isFailure?: (error: unknown) => boolean;
  /** Called on every state change, after the change (for logs and a state metric). */
  readonly onTransition?: (from: CircuitState, to: CircuitState, reason: string) => void;
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probesAdmitted = 0;
  private probesSucceeded = 0;
  /** Bumped on every transition; a call's outcome counts only in the generation it started in. */
  private generation = 0;
  private readonly halfOpenProbes: number;

  constructor(private readonly options: CircuitBreakerOptions) {
    const probes = options.halfOpenProbes ?? 1;
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
      throw new RangeError(`failureThreshold must be an integer ≥ 1, got ${options.failureThreshold}`);
    }
    if (!Number.isFinite(options.openMs) || options.openMs < 0) {
      throw new RangeError(`openMs must be a finite number ≥ 0, got ${options.openMs}`);
    }
    if (!Number.isInteger(probes) || probes < 1) throw new RangeError(`halfOpenProbes must be an integer ≥ 1, got ${probes}`);
    this.halfOpenProbes = probes;
  }

  /** The state now (an open circuit whose `openMs` has passed reports, and becomes, half-open). */
  get state(): CircuitState {
    this.refresh();
    return this.current;
  }

  /** Failures counted toward the threshold since the last success (closed state). */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /** Runs `fn` if the circuit allows it; otherwise throws CircuitOpenError without calling it. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    this.admit();
    const generation = this.generation;
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      if (this.isFailure(error)) this.onFailure(generation, error);
      else this.onSuccess(generation);
      throw error;
    }
    this.onSuccess(generation);
    return result;
  }

  private admit(): void {
    this.refresh();
    if (this.current === 'closed') return;
    if (this.current === 'half-open' && this.probesAdmitted < this.halfOpenProbes) {
      this.probesAdmitted += 1;
      return;
    }
    const retryInMs = this.current === 'open' ? this.openedAt + this.options.openMs - this.options.clock.now() : 0;
    throw new CircuitOpenError(this.options.name, Math.max(0, retryInMs));
  }

  private refresh(): void {
    if (this.current === 'open' && this.options.clock.now() - this.openedAt >= this.options.openMs) {
      this.transition('half-open', `open for ${this.options.openMs} ms`);
    }
  }

  private isFailure(error: unknown): boolean {
    try {
      return this.options.isFailure?.(error) ?? true;
    } catch {
      return true;
    }
  }

  private onSuccess(generation: number): void {
    if (generation !== this.generation) return;
    if (this.current === 'closed') {
      this.consecutiveFailures = 0;
    } else if (this.current === 'half-open') {
      this.probesSucceeded += 1;
      if (this.probesSucceeded >= this.halfOpenProbes) {
        this.transition('closed', `${this.probesSucceeded} probe(s) succeeded`);
      }
    }
  }

  private onFailure(generation: number, error: unknown): void {
    if (generation !== this.generation) return;
    if (this.current === 'closed') {
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= this.options.failureThreshold) {
        this.open(`${this.consecutiveFailures} consecutive failure(s), last: ${describe(error)}`);
      }
    } else if (this.current === 'half-open') {
      this.open(`probe failed: ${describe(error)}`);
    }
  }

  private open(reason: string): void {
    this.openedAt = this.options.clock.now();
    this.transition('open', reason);
  }

  private transition(to: CircuitState, reason: string): void {
    const from = this.current;
    this.current = to;
    this.generation += 1;
    this.consecutiveFailures = 0;
    this.probesAdmitted = 0;
    this.probesSucceeded = 0;
    try {
      this.options.onTransition?.(from, to, reason);
    } catch {
      // A broken listener must not change what the breaker does.
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
