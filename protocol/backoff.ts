// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
// attempt n waits uniformly between 0 and min(max, initial × 2^(n−1)). Spreading the whole range,
// not just a margin around the exponential, is what keeps many clients dropped at the same moment
// from reconnecting in waves.
export interface Backoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
}

/** The delay before attempt `attempt` (1-based), in whole ms. */
export function backoffDelay(backoff: Backoff, attempt: number): number {
  // 2^30 × any sane initial delay is past every ceiling; capping the exponent keeps it finite.
  const ceiling = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(backoff.random() * ceiling);
}
