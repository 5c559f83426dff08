// Retries with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff
// and Jitter"): after failed attempt n (0-based) wait random() * min(maxMs, baseMs * 2^n). Full
// jitter spreads the retries of many writers over the whole window instead of synchronising them
// on the same instants after an outage.
//
// Errors come out unchanged (the last one when attempts run out; a permanent one at once), so a
// caller can still ask its sink whether the error is permanent.
import { abortReason, type Clock } from './clock.js';

export interface RetryInfo {
  /** The attempt that failed, 0-based. */
  readonly attempt: number;
  /** How long retry waits before the next attempt. */
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryOptions {
  /** Total attempts including the first (≥ 1; Infinity: until success, a permanent error or abort). */
  readonly attempts: number;
  /** The backoff cap for the first retry, doubled for each later one (ms, ≥ 0). */
  readonly baseMs: number;
  /** The largest backoff cap (ms, ≥ baseMs). */
  readonly maxMs: number;
  /** An error for which retrying cannot help: thrown at once. Default: none are. */
  readonly isPermanent?: (error: unknown) => boolean;
  readonly clock: Clock;
  /** A uniform random number in [0, 1), injected so tests are deterministic. */
  readonly random: () => number;
  /** Stops retrying: the wait or the next attempt rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called before each wait, e.g. to log the failure and count retries. */
  readonly onRetry?: (info: RetryInfo) => void;
}

/** The backoff before the retry that follows failed attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'baseMs' | 'maxMs' | 'random'>): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  return Math.floor(options.random() * cap);
}

/** Calls `fn(attempt, signal)` until it resolves, backing off between failures. */
export async function retry<T>(fn: (attempt: number, signal?: AbortSignal) => Promise<T>, options: RetryOptions): Promise<T> {
  validate(options);
  const { signal } = options;
  for (let attempt = 0; ; attempt += 1) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await fn(attempt, signal);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (options.isPermanent?.(error) === true) throw error;
      if (attempt + 1 >= options.attempts) throw error;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.({ attempt, delayMs, error });
      await options.clock.sleep(delayMs, signal);
    }
  }
}

function validate(options: RetryOptions): void {
  const { attempts, baseMs, maxMs } = options;
  if (!(attempts === Infinity || (Number.isInteger(attempts) && attempts >= 1))) {
    throw new RangeError(`attempts must be an integer ≥ 1 or Infinity, got ${attempts}`);
  }
  if (!Number.isFinite(baseMs) || baseMs < 0) throw new RangeError(`baseMs must be a finite number ≥ 0, got ${baseMs}`);
  if (!Number.isFinite(maxMs) || maxMs < baseMs) throw new RangeError(`maxMs must be finite and ≥ baseMs, got ${maxMs}`);
}
