// The writer without fsync writes each record synchronously when nothing is queued, so a batch's
// acks need not wait an event-loop turn for the threadpool; with a file that cannot write at once,
// or a queue in flight, it keeps the group-committed path. Either way: same records, same order.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MatchingEngine } from '../../server/engine/engine.js';
import { createCommandCodec, type JournalEntry } from '../../server/journal/command-codec.js';
import { readJournal } from '../../server/journal/journal-reader.js';
import { JournalWriter, nodeFileSystem, type JournalFile, type JournalFileSystem } from '../../server/journal/journal-writer.js';
import { mulberry32, randomInt } from '../../bench/lib/prng.js';
import { JOURNAL_MARKETS, acceptedBatch, fundingBatch, makeTempDir } from './journal-support.js';
import { listSegments } from '../../server/journal/file-names.js';

const codec = createCommandCodec();
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempJournalDir(): string {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  return join(dir.path, 'journal');
}

function randomBatches(seed: number, count: number): JournalEntry[][] {
  const random = mulberry32(seed);
  const engine = new MatchingEngine(JOURNAL_MARKETS);
  const funding = fundingBatch(engine);
  return [
    funding,
    ...Array.from({ length: count - 1 }, (_, i) => acceptedBatch(random, engine, randomInt(random, 1, 8), 1_700_000_000_000 + i)),
  ];
}

/** The node file system, counting each kind of write, and failing synchronous writes once armed. */
class SyncCountingFileSystem implements JournalFileSystem {
  asyncWrites = 0;
  syncWrites = 0;
  failSyncWrites = false;
  truncatedTo: number[] = [];

  async openAppend(path: string): Promise<JournalFile> {
    const file = await nodeFileSystem.openAppend(path);
    return {
      write: (buffer) => {
        this.asyncWrites++;
        return file.write(buffer);
      },
      writeNow: (buffer) => {
        this.syncWrites++;
        if (this.failSyncWrites) {
          file.writeNow!(buffer.subarray(0, Math.floor(buffer.length / 2)));
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        file.writeNow!(buffer);
      },
      datasync: () => file.datasync(),
      truncate: (size) => {
        this.truncatedTo.push(size);
        return file.truncate(size);
      },
      close: () => file.close(),
    };
  }

  syncDirectory(path: string): Promise<void> {
    return nodeFileSystem.syncDirectory(path);
  }
}

function commandsOf(dir: string): JournalEntry[] {
  return [...readJournal(dir, { fromSeq: 1, chainBefore: 0, codec })].flatMap((record) => record.entries);
}

describe('journal writer without fsync', () => {
  it('writes records synchronously once the segment is open, resolving before the next turn, in order over several segments', async () => {
    const dir = tempJournalDir();
    const fileSystem = new SyncCountingFileSystem();
    const writer = new JournalWriter({ dir, nextSeq: 1, chain: 0, segmentBytes: 2_048, fsync: false, codec, fileSystem });
    const batches = randomBatches(5, 200);
    await writer.append(batches[0]!);
    let resolvedInTurn = 0;
    for (const batch of batches.slice(1)) {
      let resolved = false;
      const durable = writer.append(batch).then(() => {
        resolved = true;
      });
      // Microtasks run before setImmediate: a record written at once resolves within this turn.
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      await Promise.resolve();
      if (resolved) resolvedInTurn++;
      await durable;
    }
    await writer.close();
    expect(fileSystem.syncWrites).toBeGreaterThan(150);
    // Each new segment is opened (and its first record written) through the async path.
    expect(fileSystem.asyncWrites).toBe(listSegments(dir).length);
    expect(listSegments(dir).length).toBeGreaterThan(3);
    expect(resolvedInTurn).toBe(fileSystem.syncWrites);
    expect(commandsOf(dir)).toEqual(batches.flat());
  });

  it('queues behind a group in flight and keeps the order when appends come faster than the disk', async () => {
    const dir = tempJournalDir();
    const fileSystem = new SyncCountingFileSystem();
    const writer = new JournalWriter({ dir, nextSeq: 1, chain: 0, segmentBytes: 64 * 1024, fsync: false, codec, fileSystem });
    const batches = randomBatches(9, 300);
    // No awaits between appends: the first opens the segment, the rest queue behind it or go at once.
    await Promise.all(batches.map((batch) => writer.append(batch)));
    await writer.close();
    expect(fileSystem.asyncWrites).toBeGreaterThan(0);
    expect(commandsOf(dir)).toEqual(batches.flat());
  });

  it('a failed synchronous write rejects its batch and every later one, and takes the partial record back', async () => {
    const dir = tempJournalDir();
    const fileSystem = new SyncCountingFileSystem();
    const writer = new JournalWriter({ dir, nextSeq: 1, chain: 0, segmentBytes: 64 * 1024 * 1024, fsync: false, codec, fileSystem });
    const batches = randomBatches(13, 20);
    for (const batch of batches.slice(0, 10)) await writer.append(batch);
    const segment = join(dir, listSegments(dir)[0]!);
    const sizeBefore = statSync(segment).size;
    fileSystem.failSyncWrites = true;
    await expect(writer.append(batches[10]!)).rejects.toThrow(/journal write failed: ENOSPC/);
    await expect(writer.append(batches[11]!)).rejects.toThrow(/journal write failed/);
    expect(writer.failed).not.toBeNull();
    await writer.close();
    expect(fileSystem.truncatedTo).toEqual([sizeBefore]);
    expect(statSync(segment).size).toBe(sizeBefore);
    expect(commandsOf(dir)).toEqual(batches.slice(0, 10).flat());
  });
});
