// The shared feed over a real journal: sinks in step share one replay and each gets every command
// with exactly the live events, in journal order; merged batches are what one follower batch over
// the same range holds, byte for byte; a reader that holds a full window is cut loose, reads on its
// own and rejoins; a reader restarted from an older seq catches up alone and rejoins.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineCommand } from '../../server/engine/types.js';
import { BatchFeed, FeedReader } from '../../server/persistence/batch-feed.js';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { mergeBatches, type EventBatch, type PersistedCommand } from '../../server/persistence/event-batch.js';
import type { JournalFollower } from '../../server/persistence/journal-follower.js';
import { DEFAULT_TUNING, type WriteBehindTuning } from '../../server/persistence/setup.js';
import { DurableSeq } from '../../server/persistence/pipeline.js';
import { BTC, ETH, cancel, place } from '../support/engine-fixtures.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
import { JournalFixture } from './write-behind-fixture.js';

function randomCommands(random: () => number, count: number): EngineCommand[] {
  const commands: EngineCommand[] = [];
  for (let i = 0; i < count; i++) {
    const account = pick(random, ['alice', 'bob', 'carol']);
    const sym = pick(random, [BTC, ETH]);
    if (random() < 0.2) commands.push(cancel(account, { id: randomInt(random, 1, 200) }, sym));
    else commands.push(place(account, random() < 0.5 ? 'buy' : 'sell', randomInt(random, 95, 105), randomInt(random, 1, 10), { sym }));
  }
  return commands;
}

async function fill(fixture: JournalFixture, seed: number, records: number): Promise<void> {
  const random = mulberry32(seed);
  for (let i = 0; i < records; i++) await fixture.commit(randomCommands(random, randomInt(random, 1, 12)));
}

/** A reader of the feed, as a sink's runner drives it. */
interface Source {
  next(signal: AbortSignal): Promise<EventBatch>;
  /** Starts again after `appliedSeq`, as a runner does for a sink that lost data. */
  restart(appliedSeq: number): Promise<void>;
  readonly shared: boolean;
}

interface Rig {
  fixture: JournalFixture;
  feed: BatchFeed;
  durable: DurableSeq;
  opened: number[];
  source: (appliedSeq: number) => Source;
}

describe('BatchFeed', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function rig(tuning: Partial<WriteBehindTuning> = {}, maxBatchCommands = 40): Rig {
    const fixture = new JournalFixture();
    const durable = new DurableSeq(0);
    const opened: number[] = [];
    const openFollower = (_name: string, appliedSeq: number): Promise<JournalFollower> => {
      opened.push(appliedSeq);
      return fixture.follower(appliedSeq, maxBatchCommands);
    };
    const feed = new BatchFeed({
      openFollower,
      durable,
      clock: systemClock,
      tuning: { ...DEFAULT_TUNING, maxBatchCommands, ...tuning },
    });
    const readers: FeedReader[] = [];
    cleanups.push(async () => {
      for (const reader of readers) await feed.release(reader);
      await feed.stop();
      await fixture.close();
    });
    return {
      fixture,
      feed,
      durable,
      opened,
      source: (appliedSeq) => {
        let reader = new FeedReader('test', appliedSeq);
        readers.push(reader);
        return {
          next: (signal) => feed.next(reader, signal),
          restart: async (from) => {
            await feed.release(reader);
            reader = new FeedReader('test', from);
            readers.push(reader);
          },
          get shared() {
            return reader.shared;
          },
        };
      },
    };
  }

  /** Reads batches from `source` until it has handed out `lastSeq`. */
  async function readUpTo(source: Source, lastSeq: number, into: EventBatch[] = []): Promise<EventBatch[]> {
    const signal = AbortSignal.timeout(20_000);
    while ((into.at(-1)?.toSeq ?? 0) < lastSeq) into.push(await source.next(signal));
    return into;
  }

  const commandsOf = (batches: readonly EventBatch[]): PersistedCommand[] => batches.flatMap((batch) => batch.commands);

  it('sinks in step share one replay and each gets every command with the live events', async () => {
    const { fixture, durable, opened, source } = rig();
    await fill(fixture, 21, 200);
    durable.advance(fixture.journal.lastSeq);
    const [a, b] = [source(0), source(0)];
    const [batchesA, batchesB] = await Promise.all([readUpTo(a, fixture.journal.lastSeq), readUpTo(b, fixture.journal.lastSeq)]);
    expect(opened).toEqual([0]);
    expect(commandsOf(batchesA)).toEqual(fixture.live);
    expect(commandsOf(batchesB)).toEqual(fixture.live);
    for (const batch of [...batchesA, ...batchesB]) expect(batch.commands.length).toBeLessThan(40 + 12);
    // Books at the end are the live ones.
    for (const book of batchesA.at(-1)!.books) expect(book.seq).toBe(fixture.bookSeqs.get(book.sym));
  });

  it('a merged batch is byte for byte the one batch a follower makes over the same range', async () => {
    const { fixture } = rig();
    await fill(fixture, 22, 120);
    const small = await fixture.batches(0, 1);
    const whole = await fixture.batches(0, 1_000_000);
    expect(whole).toHaveLength(1);
    expect(JSON.stringify(mergeBatches(small))).toBe(JSON.stringify(whole[0]));
  });

  it('follows new durable records, reading ahead for a reader that is busy', async () => {
    const { fixture, durable, source } = rig();
    const reader = source(0);
    const seen: EventBatch[] = [];
    const reading = (async () => {
      for (let i = 0; i < 30; i++) {
        await fill(fixture, 100 + i, 5);
        durable.advance(fixture.journal.lastSeq);
      }
    })();
    await reading;
    await readUpTo(reader, fixture.journal.lastSeq, seen);
    expect(commandsOf(seen)).toEqual(fixture.live);
  });

  it('a reader holding a full window is cut loose, reads on its own, and rejoins once it catches up', async () => {
    const { fixture, durable, opened, source, feed } = rig({ windowCommands: 60, stallMs: 50 });
    await fill(fixture, 23, 100);
    durable.advance(fixture.journal.lastSeq);
    const slow = source(0);
    const fast = source(0);
    const first = await Promise.all([slow.next(AbortSignal.timeout(5_000)), fast.next(AbortSignal.timeout(5_000))]);
    const slowBatches = [first[0]];
    // The slow reader takes nothing for a while: the fast one waits stallMs, then goes on alone.
    const fastBatches = await readUpTo(fast, fixture.journal.lastSeq, [first[1]]);
    expect(commandsOf(fastBatches)).toEqual(fixture.live);
    expect(fast.shared).toBe(true);
    expect(opened).toEqual([0]);
    // The slow one reads on with a follower of its own...
    await readUpTo(slow, fixture.journal.lastSeq, slowBatches);
    expect(commandsOf(slowBatches)).toEqual(fixture.live);
    expect(opened.length).toBe(2);
    // ...and rejoins the feed once at its head.
    await fill(fixture, 24, 20);
    durable.advance(fixture.journal.lastSeq);
    await Promise.all([readUpTo(slow, fixture.journal.lastSeq, slowBatches), readUpTo(fast, fixture.journal.lastSeq, fastBatches)]);
    expect(slow.shared).toBe(true);
    expect(commandsOf(slowBatches)).toEqual(fixture.live);
    expect(commandsOf(fastBatches)).toEqual(fixture.live);
    expect(feed.readSeq).toBe(fixture.journal.lastSeq);
  });

  it('a reader restarted from an older seq catches up on its own and rejoins', async () => {
    const { fixture, durable, source } = rig();
    await fill(fixture, 25, 150);
    durable.advance(fixture.journal.lastSeq);
    const [a, b] = [source(0), source(0)];
    await Promise.all([readUpTo(a, fixture.journal.lastSeq), readUpTo(b, fixture.journal.lastSeq)]);
    const rewind = fixture.live[40]!.seq - 1;
    await b.restart(rewind);
    await fill(fixture, 26, 50);
    durable.advance(fixture.journal.lastSeq);
    const [, again] = await Promise.all([readUpTo(a, fixture.journal.lastSeq), readUpTo(b, fixture.journal.lastSeq)]);
    expect(commandsOf(again)).toEqual(fixture.live.filter((command) => command.seq > rewind));
    await fill(fixture, 29, 30);
    durable.advance(fixture.journal.lastSeq);
    await Promise.all([readUpTo(a, fixture.journal.lastSeq), readUpTo(b, fixture.journal.lastSeq, again)]);
    expect(b.shared).toBe(true);
    expect(commandsOf(again)).toEqual(fixture.live.filter((command) => command.seq > rewind));
  });

  it('sinks that start at different applied seqs meet in the feed', async () => {
    const { fixture, durable, source } = rig();
    await fill(fixture, 27, 150);
    durable.advance(fixture.journal.lastSeq);
    const ends = (await fixture.batches(0, 1)).map((batch) => batch.toSeq);
    const [ahead, behind] = [source(ends[60]!), source(ends[10]!)];
    const [batchesAhead, batchesBehind] = await Promise.all([
      readUpTo(ahead, fixture.journal.lastSeq),
      readUpTo(behind, fixture.journal.lastSeq),
    ]);
    expect(commandsOf(batchesAhead)).toEqual(fixture.live.filter((command) => command.seq > ends[60]!));
    expect(commandsOf(batchesBehind)).toEqual(fixture.live.filter((command) => command.seq > ends[10]!));
    await fill(fixture, 28, 30);
    durable.advance(fixture.journal.lastSeq);
    await Promise.all([readUpTo(ahead, fixture.journal.lastSeq, batchesAhead), readUpTo(behind, fixture.journal.lastSeq, batchesBehind)]);
    expect(ahead.shared && behind.shared).toBe(true);
    expect(commandsOf(batchesBehind)).toEqual(fixture.live.filter((command) => command.seq > ends[10]!));
  });
});
