import { describe, expect, it } from 'vitest';
import { backoffDelay, retry, type RetryInfo, type RetryOptions } from '../../server/persistence/resilience/retry.js';
import { FakeClock } from '../support/fake-clock.js';
import { mulberry32 } from '../../bench/lib/prng.js';

function options(clock: FakeClock, overrides: Partial<RetryOptions> = {}): RetryOptions {
  return { attempts: 5, baseMs: 100, maxMs: 1_000, clock, random: mulberry32(42), ...overrides };
}

/** A function failing `failures` times, then returning 'done'; records the attempts it saw. */
function flaky(failures: number, error: (n: number) => unknown = (n) => new Error(`fail ${n}`)) {
  const seen: number[] = [];
  const fn = async (attempt: number): Promise<string> => {
    seen.push(attempt);
    if (seen.length <= failures) throw error(seen.length);
    return 'done';
  };
  return { fn, seen };
}

/** Runs retry, advancing the fake clock through every backoff until it settles. */
async function runToEnd<T>(clock: FakeClock, promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  let outcome: PromiseSettledResult<T> | undefined;
  void promise.then(
    (value) => (outcome = { status: 'fulfilled', value }),
    (reason: unknown) => (outcome = { status: 'rejected', reason }),
  );
  for (let step = 0; step < 1_000 && outcome === undefined; step += 1) await clock.advance(100);
  if (outcome === undefined) throw new Error('retry never settled');
  return outcome;
}

describe('backoffDelay', () => {
  it('is random() times min(maxMs, baseMs * 2^attempt): full jitter', () => {
    const fixed = (r: number) => ({ baseMs: 100, maxMs: 1_000, random: () => r });
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, fixed(0.999999)))).toEqual([99, 199, 399, 799, 999, 999]);
    expect([0, 1, 2, 10].map((a) => backoffDelay(a, fixed(0)))).toEqual([0, 0, 0, 0]);
    expect(backoffDelay(3, fixed(0.5))).toBe(400);
    expect(backoffDelay(2_000, fixed(0.5))).toBe(500);
  });

  it('stays within [0, cap) and covers the window, over 10,000 seeded draws', () => {
    const random = mulberry32(7);
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const cap = Math.min(1_000, 100 * 2 ** attempt);
      const delays = Array.from({ length: 10_000 }, () => backoffDelay(attempt, { baseMs: 100, maxMs: 1_000, random }));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(cap);
      // Full jitter, not "half" or "equal" jitter: the low and high tenths are both used.
      expect(delays.some((d) => d < cap * 0.1)).toBe(true);
      expect(delays.some((d) => d >= cap * 0.9)).toBe(true);
      const mean = delays.reduce((sum, d) => sum + d, 0) / delays.length;
      expect(mean).toBeGreaterThan(cap * 0.45);
      expect(mean).toBeLessThan(cap * 0.55);
    }
  });
});

describe('retry', () => {
  it('returns the first success without waiting', async () => {
    const clock = new FakeClock();
    const { fn, seen } = flaky(0);
    await expect(retry(fn, options(clock))).resolves.toBe('done');
    expect(seen).toEqual([0]);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('retries transient failures with the seeded full-jitter delays, then succeeds', async () => {
    const clock = new FakeClock();
    const retries: RetryInfo[] = [];
    const { fn, seen } = flaky(3);
    const result = await runToEnd(clock, retry(fn, options(clock, { onRetry: (info) => retries.push(info) })));
    expect(result).toEqual({ status: 'fulfilled', value: 'done' });
    expect(seen).toEqual([0, 1, 2, 3]);
    const expected = mulberry32(42);
    expect(retries.map((r) => r.attempt)).toEqual([0, 1, 2]);
    expect(retries.map((r) => r.delayMs)).toEqual([0, 1, 2].map((a) => Math.floor(expected() * Math.min(1_000, 100 * 2 ** a))));
    expect(retries.map((r) => (r.error as Error).message)).toEqual(['fail 1', 'fail 2', 'fail 3']);
  });

  it('waits exactly the drawn delay before the next attempt', async () => {
    const clock = new FakeClock();
    const { fn, seen } = flaky(1);
    const promise = retry(fn, options(clock, { random: () => 0.5 }));
    await clock.untilSleeping();
    expect(clock.pendingDelays()).toEqual([50]);
    await clock.advance(49);
    expect(seen).toEqual([0]);
    await clock.advance(1);
    await expect(promise).resolves.toBe('done');
    expect(seen).toEqual([0, 1]);
  });

  it('gives up after `attempts` attempts and throws the last error unchanged', async () => {
    const clock = new FakeClock();
    const last = new Error('fail 4');
    const { fn, seen } = flaky(10, (n) => (n === 4 ? last : new Error(`fail ${n}`)));
    const result = await runToEnd(clock, retry(fn, options(clock, { attempts: 4 })));
    expect(result).toEqual({ status: 'rejected', reason: last });
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('attempts: 1 means no retry', async () => {
    const clock = new FakeClock();
    const { fn, seen } = flaky(1);
    await expect(retry(fn, options(clock, { attempts: 1 }))).rejects.toThrow('fail 1');
    expect(seen).toEqual([0]);
  });

  it('does not retry a permanent error', async () => {
    const clock = new FakeClock();
    const permanent = new Error('violates check constraint');
    const { fn, seen } = flaky(5, (n) => (n === 2 ? permanent : new Error('transient')));
    const retries: RetryInfo[] = [];
    const result = await runToEnd(
      clock,
      retry(fn, options(clock, { isPermanent: (e) => e === permanent, onRetry: (info) => retries.push(info) })),
    );
    expect(result).toEqual({ status: 'rejected', reason: permanent });
    expect(seen).toEqual([0, 1]);
    expect(retries).toHaveLength(1);
  });

  it('with attempts: Infinity keeps going until success', async () => {
    const clock = new FakeClock();
    const { fn, seen } = flaky(30);
    const result = await runToEnd(clock, retry(fn, options(clock, { attempts: Infinity, maxMs: 300 })));
    expect(result).toEqual({ status: 'fulfilled', value: 'done' });
    expect(seen).toHaveLength(31);
  });

  it('stops while waiting when the signal aborts, with the abort reason', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const { fn, seen } = flaky(10);
    const promise = retry(fn, options(clock, { signal: controller.signal, random: () => 0.9 }));
    await clock.untilSleeping();
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(promise).rejects.toBe(reason);
    expect(clock.pendingSleeps).toBe(0);
    await clock.advance(10_000);
    expect(seen).toEqual([0]);
  });

  it('does not start when already aborted, and passes the signal to fn', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const seenSignals: Array<AbortSignal | undefined> = [];
    const fn = async (_attempt: number, signal?: AbortSignal): Promise<number> => {
      seenSignals.push(signal);
      controller.abort();
      throw new Error('failed while aborting');
    };
    const error = await retry(fn, options(clock, { signal: controller.signal })).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(seenSignals).toEqual([controller.signal]);
    await expect(retry(fn, options(clock, { signal: controller.signal }))).rejects.toHaveProperty('name', 'AbortError');
    expect(seenSignals).toHaveLength(1);
  });

  it('rejects nonsensical options', async () => {
    const clock = new FakeClock();
    const { fn } = flaky(0);
    await expect(retry(fn, options(clock, { attempts: 0 }))).rejects.toThrow(RangeError);
    await expect(retry(fn, options(clock, { attempts: 2.5 }))).rejects.toThrow(RangeError);
    await expect(retry(fn, options(clock, { baseMs: -1 }))).rejects.toThrow(RangeError);
    await expect(retry(fn, options(clock, { maxMs: 50 }))).rejects.toThrow(RangeError);
    await expect(retry(fn, options(clock, { maxMs: Infinity }))).rejects.toThrow(RangeError);
  });
});
