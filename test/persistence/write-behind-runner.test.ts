// The pipeline's control flow with an in-memory sink (our own Sink interface, not a stand-in for
// Redis or Postgres: those are tested for real elsewhere) over a real journal: exactly-once apply
// in journal order, retries through the breaker, the deadline on a hung call, dead-lettering of a
// bad batch, rebuilding a sink that lost its data, and draining on close.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { DeadLetterStore } from '../../server/persistence/dead-letters/dead-letter-store.js';
import { SinkBehind, type EventBatch, type Sink } from '../../server/persistence/event-batch.js';
import { Pipeline } from '../../server/persistence/pipeline.js';
import { place } from '../support/engine-fixtures.js';
import { JournalFixture, silentLog } from './write-behind-fixture.js';

class BadBatch extends Error {}

class MemorySink implements Sink {
  constructor(readonly name = 'memory') {}
  applied = 0;
  seqs: number[] = [];
  transientFailures = 0;
  hangs = 0;
  badSeqs = new Set<number>();
  calls = 0;

  async appliedSeq(): Promise<number> {
    return this.applied;
  }

  async apply(batch: EventBatch): Promise<void> {
    this.calls++;
    if (this.hangs > 0) {
      this.hangs--;
      return new Promise(() => undefined);
    }
    if (this.transientFailures > 0) {
      this.transientFailures--;
      throw new Error('connection refused');
    }
    if (batch.fromSeq > this.applied + 1) throw new SinkBehind(this.name, this.applied);
    if (batch.commands.some((command) => this.badSeqs.has(command.seq))) throw new BadBatch('constraint violated');
    for (const command of batch.commands) if (command.seq > this.applied) this.seqs.push(command.seq);
    this.applied = Math.max(this.applied, batch.toSeq);
  }

  async markApplied(seq: number): Promise<void> {
    this.applied = Math.max(this.applied, seq);
  }

  isPermanent(error: unknown): boolean {
    return error instanceof BadBatch;
  }

  /** A sink that restarted without its data (a Redis without persistence). */
  lose(): void {
    this.applied = 0;
    this.seqs = [];
  }

  async close(): Promise<void> {}
}

describe('write-behind runner', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(
    sink: MemorySink | MemorySink[],
    abandonHungCallMs = 600,
  ): Promise<{ fixture: JournalFixture; writeBehind: Pipeline; deadLetters: DeadLetterStore; commit: (n: number) => Promise<void> }> {
    const fixture = new JournalFixture();
    const dlqDir = mkdtempSync(join(tmpdir(), 'spotwire-dlq-'));
    const deadLetters = new DeadLetterStore({ dataDir: dlqDir, maxPerSink: 100, clock: systemClock, fsync: false });
    const writeBehind = new Pipeline(
      {
        ...fixture.journalSource,
        tuning: {
          deadlineMs: 200,
          breakerFailures: 2,
          breakerOpenMs: 30,
          retryBaseMs: 1,
          retryMaxMs: 10,
          abandonHungCallMs,
          maxBatchCommands: 20,
          windowCommands: 60,
          stallMs: 100,
        },
      },
      {
        sinks: Array.isArray(sink) ? sink : [sink],
        deadLetters,
        registry: new Registry(),
        clock: systemClock,
        random: () => 0.5,
        log: silentLog,
      },
    );
    cleanups.push(async () => {
      await writeBehind.close(1_000);
      await fixture.close();
      rmSync(dlqDir, { recursive: true, force: true });
    });
    let n = 0;
    const commit = async (records: number): Promise<void> => {
      for (let i = 0; i < records; i++, n++) {
        await fixture.commit([place('alice', 'sell', 100 + (n % 7), 2), place('bob', 'buy', 103 - (n % 5), 3)]);
        writeBehind.notifyDurable(fixture.journal.lastSeq);
      }
    };
    return { fixture, writeBehind, deadLetters, commit };
  }

  async function applied(writeBehind: Pipeline, seq: number, sink = 'memory'): Promise<void> {
    const deadline = Date.now() + 20_000;
    while ((writeBehind.health().sinks[sink]?.appliedSeq ?? -1) < seq) {
      if (Date.now() > deadline) throw new Error(`not applied up to ${seq}: ${JSON.stringify(writeBehind.health())}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('applies every command once, in journal order, in bounded batches', async () => {
    const sink = new MemorySink();
    const { fixture, writeBehind, commit } = await setup(sink);
    await commit(100);
    await applied(writeBehind, fixture.journal.lastSeq);
    expect(sink.seqs).toEqual(fixture.live.map((command) => command.seq));
    expect(writeBehind.health()).toMatchObject({ status: 'ok', sinks: { memory: { breaker: 'closed', heldCommands: 0, lagEvents: 0 } } });
  });

  it('retries transient failures through the breaker, and a hung call is cut by the deadline', async () => {
    const sink = new MemorySink();
    const { fixture, writeBehind, commit } = await setup(sink);
    await commit(5);
    await applied(writeBehind, fixture.journal.lastSeq);
    sink.transientFailures = 6;
    sink.hangs = 1;
    await commit(20);
    await applied(writeBehind, fixture.journal.lastSeq);
    expect(sink.seqs).toEqual(fixture.live.map((command) => command.seq));
    expect(sink.calls).toBeGreaterThan(7);
    expect(writeBehind.retainFromSeq()).toBe(fixture.journal.lastSeq + 1);
  });

  it('sends nothing more to a sink while its last call hangs', async () => {
    const sink = new MemorySink();
    const { fixture, writeBehind, commit } = await setup(sink, 60_000);
    await commit(5);
    await applied(writeBehind, fixture.journal.lastSeq);
    const before = sink.calls;
    sink.hangs = 1;
    await commit(5);
    const deadline = Date.now() + 20_000;
    while (writeBehind.health().sinks.memory?.breaker !== 'open') {
      if (Date.now() > deadline) throw new Error('breaker did not open');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Retries and half-open probes keep coming; none reaches the sink while its call hangs.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.calls).toBe(before + 1);
    expect(writeBehind.health().sinks.memory?.lastError).toMatch(/has not returned yet|deadline/);
  });

  it('dead-letters a batch that fails permanently and goes on', async () => {
    const sink = new MemorySink();
    const { fixture, writeBehind, deadLetters, commit } = await setup(sink);
    sink.badSeqs.add(7);
    await commit(30);
    await applied(writeBehind, fixture.journal.lastSeq);
    const letters = await deadLetters.list('memory');
    expect(letters).toHaveLength(1);
    const letter = (await deadLetters.read(letters[0]!.id))!;
    expect(letter.batch.commands.map((command) => command.seq)).toContain(7);
    expect(letter.error).toContain('constraint violated');
    const lost = new Set(letter.batch.commands.map((command) => command.seq));
    expect(sink.seqs).toEqual(fixture.live.map((command) => command.seq).filter((seq) => !lost.has(seq)));
  });

  it('rebuilds a sink that came back without its data, from the journal', async () => {
    const sink = new MemorySink();
    const { fixture, writeBehind, commit } = await setup(sink);
    await commit(40);
    await applied(writeBehind, fixture.journal.lastSeq);
    sink.lose();
    sink.transientFailures = 1;
    await commit(3);
    await applied(writeBehind, fixture.journal.lastSeq);
    expect(sink.seqs).toEqual(fixture.live.map((command) => command.seq));
  });

  it('rebuilds a sink whose loss shows only at the next write (it reports being behind)', async () => {
    const sink = new MemorySink();
    const { fixture, writeBehind, commit } = await setup(sink);
    await commit(40);
    await applied(writeBehind, fixture.journal.lastSeq);
    sink.lose();
    await commit(3);
    await applied(writeBehind, fixture.journal.lastSeq);
    expect(sink.seqs).toEqual(fixture.live.map((command) => command.seq));
  });

  it('sinks share the replay; a hung one holds the others back for a moment only, then converges', async () => {
    const [fast, hung] = [new MemorySink('fast'), new MemorySink('hung')];
    const { fixture, writeBehind, commit } = await setup([fast, hung], 1_000);
    await commit(20);
    await applied(writeBehind, fixture.journal.lastSeq, 'fast');
    await applied(writeBehind, fixture.journal.lastSeq, 'hung');
    hung.hangs = 1;
    await commit(60);
    // The hung sink's call waits out its deadline and retries; the window fills, and after
    // stallMs the fast sink goes on without it.
    await applied(writeBehind, fixture.journal.lastSeq, 'fast');
    expect(writeBehind.health().sinks.hung!.appliedSeq).toBeLessThan(fixture.journal.lastSeq);
    await applied(writeBehind, fixture.journal.lastSeq, 'hung');
    const all = fixture.live.map((command) => command.seq);
    expect(fast.seqs).toEqual(all);
    expect(hung.seqs).toEqual(all);
  });

  it('close drains what is durable before stopping', async () => {
    const sink = new MemorySink();
    const { fixture, writeBehind, commit } = await setup(sink);
    await commit(50);
    expect(await writeBehind.close(10_000)).toEqual({ drained: true });
    expect(sink.applied).toBe(fixture.journal.lastSeq);
  });
});
