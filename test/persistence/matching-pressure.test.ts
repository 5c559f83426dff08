// The write-behind yields to matching: while the matching thread reports itself saturated, each
// sink rests after a batch for (1−d)/d of the time the batch took, and stops resting once matching
// is idle again. Over a real journal, with an in-memory sink (our own Sink interface) that takes a
// known minimum time per batch, and a clock that records every rest it is asked for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../server/persistence/resilience/clock.js';
import { DeadLetterStore } from '../../server/persistence/dead-letters/dead-letter-store.js';
import type { EventBatch, Sink } from '../../server/persistence/event-batch.js';
import { MAX_REST_MS, MatchingPressure, watchEventLoop } from '../../server/persistence/matching-pressure.js';
import { Pipeline } from '../../server/persistence/pipeline.js';
import { place } from '../support/engine-fixtures.js';
import { JournalFixture, silentLog } from './write-behind-fixture.js';

const APPLY_MS = 20;

class SlowSink implements Sink {
  readonly name = 'slow';
  applied = 0;
  seqs: number[] = [];
  async appliedSeq(): Promise<number> {
    return this.applied;
  }
  async apply(batch: EventBatch): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, APPLY_MS));
    for (const command of batch.commands) if (command.seq > this.applied) this.seqs.push(command.seq);
    this.applied = Math.max(this.applied, batch.toSeq);
  }
  async markApplied(seq: number): Promise<void> {
    this.applied = Math.max(this.applied, seq);
  }
  isPermanent(): boolean {
    return false;
  }
  async close(): Promise<void> {}
}

describe('matching pressure', () => {
  it('rests (1−d)/d of a batch while matching is busy, never when idle, at most MAX_REST_MS', () => {
    const pressure = new MatchingPressure(0.1);
    expect(pressure.restAfter(10)).toBe(0);
    pressure.setMatchingBusy(true);
    expect(pressure.restAfter(10)).toBeCloseTo(90);
    expect(pressure.restAfter(1_000_000)).toBe(MAX_REST_MS);
    expect(new MatchingPressure(1).restAfter(10)).toBe(0);
    expect(() => new MatchingPressure(0)).toThrow(RangeError);
    expect(() => new MatchingPressure(1.5)).toThrow(RangeError);
  });

  it('sees a saturated event loop, and sees it end', async () => {
    const changes: boolean[] = [];
    const stop = watchEventLoop(50, (busy) => changes.push(busy));
    try {
      // Saturate this thread in slices, letting the sampler's timer run between them.
      const until = Date.now() + 400;
      while (Date.now() < until) {
        const slice = Date.now() + 60;
        while (Date.now() < slice) {
          // busy
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(changes).toEqual([true]);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(changes).toEqual([true, false]);
    } finally {
      stop();
    }
  });

  describe('in the pipeline', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('a sink rests between batches while matching is busy and catches up at full speed after', async () => {
      const fixture = new JournalFixture();
      const dlqDir = mkdtempSync(join(tmpdir(), 'spotwire-dlq-'));
      const rests: number[] = [];
      const clock: Clock = {
        now: () => systemClock.now(),
        sleep: (ms, signal) => {
          // The runner's rests; polls and retries sleep less, deadlines and stall timers longer.
          if (ms >= 100 && ms <= MAX_REST_MS) rests.push(ms);
          return systemClock.sleep(ms, signal);
        },
      };
      const sink = new SlowSink();
      const writeBehind = new Pipeline(
        {
          ...fixture.journalSource,
          tuning: { maxBatchCommands: 10, busyDutyCycle: 0.1 },
        },
        {
          sinks: [sink],
          deadLetters: new DeadLetterStore({ dataDir: dlqDir, maxPerSink: 10, clock: systemClock, fsync: false }),
          registry: new Registry(),
          clock,
          random: () => 0.5,
          log: silentLog,
        },
      );
      cleanups.push(async () => {
        await writeBehind.close(5_000);
        await fixture.close();
        rmSync(dlqDir, { recursive: true, force: true });
      });
      writeBehind.setMatchingBusy(true);
      expect(writeBehind.health().yieldingToMatching).toBe(true);
      for (let i = 0; i < 30; i++) await fixture.commit([place('alice', 'sell', 100 + (i % 7), 2), place('bob', 'buy', 103 - (i % 5), 3)]);
      writeBehind.notifyDurable(fixture.journal.lastSeq);

      const deadline = Date.now() + 20_000;
      while (rests.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      // Each batch took at least APPLY_MS, so each rest is at least 9 × that (minus timer slack).
      expect(rests.length).toBeGreaterThanOrEqual(2);
      for (const rest of rests) expect(rest).toBeGreaterThanOrEqual(9 * (APPLY_MS - 2));
      expect(sink.applied).toBeLessThan(fixture.journal.lastSeq);

      writeBehind.setMatchingBusy(false);
      expect(writeBehind.health().yieldingToMatching).toBeUndefined();
      const restsWhileBusy = rests.length;
      while (sink.applied < fixture.journal.lastSeq && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(sink.seqs).toEqual(fixture.live.map((command) => command.seq));
      // At most the rest already under way when matching went idle; none after it.
      expect(rests.length).toBeLessThanOrEqual(restsWhileBusy + 1);
    });
  });
});
