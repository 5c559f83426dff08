// The journal follower regenerates exactly what the engine produced live, from any applied seq,
// across segments and snapshots, never past the durable seq; and journal retirement keeps what a
// lagging sink still needs when asked to (retainFromSeq).
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineCommand } from '../../server/engine/types.js';
import type { EventBatch, PersistedCommand } from '../../server/persistence/event-batch.js';
import { JournalGap } from '../../server/persistence/journal-follower.js';
import { BTC, ETH, cancel, place } from '../support/engine-fixtures.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
import { JournalFixture } from './write-behind-fixture.js';

const ACCOUNTS = ['alice', 'bob', 'carol'];

function randomCommands(random: () => number, count: number): EngineCommand[] {
  const commands: EngineCommand[] = [];
  for (let i = 0; i < count; i++) {
    const account = pick(random, ACCOUNTS);
    const sym = pick(random, [BTC, ETH]);
    if (random() < 0.2) commands.push(cancel(account, { id: randomInt(random, 1, 200) }, sym));
    else
      commands.push(
        place(account, random() < 0.5 ? 'buy' : 'sell', randomInt(random, 95, 105), randomInt(random, 1, 10), {
          sym,
          tif: random() < 0.1 ? 'ioc' : 'gtc',
        }),
      );
  }
  return commands;
}

async function fill(fixture: JournalFixture, seed: number, records: number): Promise<void> {
  const random = mulberry32(seed);
  for (let i = 0; i < records; i++) await fixture.commit(randomCommands(random, randomInt(random, 1, 12)));
}

function commandsOf(batches: readonly EventBatch[]): PersistedCommand[] {
  return batches.flatMap((batch) => batch.commands);
}

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Pinned again for protocol 1.1: the fixture journal opens with its funding record, and fills,
// trades and balance events carry money.
const PINNED = {
  one: '56ba983ba950d689c47f2f004f0cc1749fd64c6836ec28a5581b96b6ed881662',
  fifty: '05bd53020d30cc3fdb46942d0683dc1f54a666b55f314bb0307b971cbc8523ee',
  all: '4a59000c5cb7d1516ca39a89fed2168bfdae39bcd9a77fac6a67f7e9e6d1bca0',
};

describe('JournalFollower', () => {
  const fixtures: JournalFixture[] = [];
  const newFixture = (options?: ConstructorParameters<typeof JournalFixture>[0]): JournalFixture => {
    const fixture = new JournalFixture(options);
    fixtures.push(fixture);
    return fixture;
  };
  afterEach(async () => {
    for (const fixture of fixtures.splice(0)) await fixture.close();
  });

  it('regenerates every command with exactly the live events, in bounded batches', async () => {
    const fixture = newFixture();
    await fill(fixture, 1, 300);
    const batches = await fixture.batches(0, 50);
    expect(commandsOf(batches)).toEqual(fixture.live);
    for (const batch of batches) {
      // Whole records only, so a batch may pass the bound by less than one record (≤ 12 here).
      expect(batch.commands.length).toBeLessThan(50 + 12);
      expect(batch.fromSeq).toBe(batch.commands[0]!.seq);
      expect(batch.toSeq).toBe(batch.commands[batch.commands.length - 1]!.seq);
    }
    expect(batches[batches.length - 1]!.toSeq).toBe(fixture.journal.lastSeq);
  });

  it('batches stay byte for byte what they were (contents, boundaries and book snapshots pinned)', async () => {
    const fixture = newFixture();
    await fill(fixture, 11, 400);
    const digest = async (maxBatchCommands: number): Promise<string> =>
      createHash('sha256')
        .update(JSON.stringify(await fixture.batches(0, maxBatchCommands)))
        .digest('hex');
    // Computed from the follower before the shared feed and its replay changes; a change here
    // changes what every sink is sent.
    expect({ one: await digest(1), fifty: await digest(50), all: await digest(5_000) }).toEqual(PINNED);
  });

  it('resumes after any applied seq, across segments and snapshots', async () => {
    const fixture = newFixture({ segmentBytes: 2_000, snapshotEveryCommands: 200, retainFromSeq: () => 1 });
    await fill(fixture, 2, 300);
    await waitFor(() => fixture.journal.snapshotsWritten >= 3, 'snapshots');
    expect(readdirSync(fixture.journalDir).length).toBeGreaterThan(3);
    const all = fixture.live;
    // Every record boundary is a place a sink can have stopped at.
    const boundaries = (await fixture.batches(0, 1)).map((batch) => batch.toSeq);
    const tried = [boundaries[0]!, ...boundaries.filter((_, i) => i % 37 === 0), boundaries[boundaries.length - 2]!];
    for (const applied of tried) {
      const resumed = commandsOf(await fixture.batches(applied));
      expect(resumed).toEqual(all.filter((command) => command.seq > applied));
    }
    // Book snapshots in a batch carry the live market-data seq.
    const last = (await fixture.batches(boundaries[boundaries.length - 2]!)).at(-1)!;
    for (const book of last.books) expect(book.seq).toBe(fixture.bookSeqs.get(book.sym));
  });

  it('reads new records as they become durable, never past the durable seq', async () => {
    const fixture = newFixture({ segmentBytes: 1_500 });
    await fill(fixture, 3, 10);
    const follower = await fixture.follower(fixture.journal.lastSeq);
    expect(await follower.next(fixture.journal.lastSeq)).toBeNull();
    const before = fixture.journal.lastSeq;
    await fill(fixture, 4, 60);
    const durable = before + Math.floor((fixture.journal.lastSeq - before) / 2);
    const seen: PersistedCommand[] = [];
    for (let batch = await follower.next(durable); batch; batch = await follower.next(durable)) seen.push(...batch.commands);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1]!.seq).toBeLessThanOrEqual(durable);
    for (let batch = await follower.next(fixture.journal.lastSeq); batch; batch = await follower.next(fixture.journal.lastSeq))
      seen.push(...batch.commands);
    expect(seen).toEqual(fixture.live.filter((command) => command.seq > before));
    await follower.close();
  });

  it('retirement keeps a snapshot and the segments a lagging sink needs (retainFromSeq)', async () => {
    let retainFrom = 1;
    const lagging = newFixture({ segmentBytes: 2_000, snapshotEveryCommands: 150, retainFromSeq: () => retainFrom });
    const plain = newFixture({ segmentBytes: 2_000, snapshotEveryCommands: 150 });
    await fill(lagging, 5, 100);
    retainFrom = lagging.journal.lastSeq + 1;
    const applied = lagging.journal.lastSeq;
    await fill(plain, 5, 100);
    await fill(lagging, 6, 300);
    await fill(plain, 6, 300);
    await waitFor(() => lagging.journal.snapshotsWritten >= 5 && plain.journal.snapshotsWritten >= 5, 'snapshots');
    // Without the hook the old segments are gone and the sink cannot resume...
    await expect(plain.batches(applied)).rejects.toBeInstanceOf(JournalGap);
    // ...with it, the sink resumes exactly where it was.
    expect(commandsOf(await lagging.batches(applied))).toEqual(lagging.live.filter((command) => command.seq > applied));
  });
});
