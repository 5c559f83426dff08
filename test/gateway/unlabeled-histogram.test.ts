import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { UnlabeledHistogram } from '../../server/unlabeled-histogram.js';
import { mulberry32 } from '../../bench/lib/prng.js';

const BUCKETS = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2];

describe('UnlabeledHistogram', () => {
  it('is exposed exactly as a prom-client Histogram fed the same values (text and JSON)', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new UnlabeledHistogram('match_test_seconds', 'Time per command', BUCKETS, ours);
    const reference = new Histogram({ name: 'match_test_seconds', help: 'Time per command', buckets: BUCKETS, registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const random = mulberry32(3);
    for (let i = 0; i < 5000; i++) {
      // Values on the bucket bounds, between them, and beyond the last one.
      const value = i % 10 === 0 ? BUCKETS[i % BUCKETS.length]! : random() ** 4 * 0.02;
      fast.observe(value);
      reference.observe(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    fast.reset();
    reference.reset();
    fast.observe(3e-6);
    reference.observe(3e-6);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const fast = new UnlabeledHistogram('bad_test_seconds', 'h', BUCKETS, new Registry());
    expect(() => fast.observe(Number.NaN)).toThrow(TypeError);
    expect(() => fast.observe(Infinity)).toThrow(TypeError);
  });
});
