// Exponential backoff with full jitter: each delay is random() times a ceiling that doubles per
// attempt from initialDelayMs up to maxDelayMs, in whole ms, and stays finite for any attempt.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../protocol/backoff.js';

describe('backoffDelay', () => {
  it('spreads each attempt over [0, min(max, initial × 2^(n−1)))', () => {
    const at = (random: number, attempt: number): number =>
      backoffDelay({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => random }, attempt);
    expect([1, 2, 3, 4, 5, 6].map((n) => at(0.999, n))).toEqual([99, 199, 399, 799, 999, 999]);
    expect([1, 2, 3].map((n) => at(0.5, n))).toEqual([50, 100, 200]);
    expect(at(0, 7)).toBe(0);
  });

  it('stays at the cap for attempts far past it', () => {
    expect(backoffDelay({ initialDelayMs: 100, maxDelayMs: 10_000, random: () => 0.5 }, 10_000)).toBe(5_000);
  });
});
