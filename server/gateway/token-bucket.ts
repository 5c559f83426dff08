// A token bucket with a burst of one second's worth: the request limits per connection and per
// account. Time is the batch's clock, so a frame's requests all see the same refill.
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = ratePerSecond;
    this.refilledAt = now;
  }

  /** False when the request must be rate_limited. */
  take(now: number): boolean {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.refilledAt) * this.ratePerSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** After a refused take: ms until the bucket holds a whole token again (≥ 1). */
  retryAfterMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }
}
