// The journal's on-disk format through the real writer and reader: round trips over several
// segments, group commit counted at the file-system seam, and the CRC-32C and chain that make
// every record checkable on its own and in sequence.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { afterEach, describe, expect, it } from 'vitest';
import { MatchingEngine } from '../../server/engine/engine.js';
import { createCommandCodec, type JournalEntry } from '../../server/journal/command-codec.js';
import { JournalCorruption, readJournal, type JournalRecord } from '../../server/journal/journal-reader.js';
import { JournalWriter } from '../../server/journal/journal-writer.js';
import { RECORD_HEADER_BYTES, encodeRecord, readHeader } from '../../server/journal/record-format.js';
import { waitUntil } from '../support/e2e.js';
import { mulberry32, randomInt } from '../../bench/lib/prng.js';
import { CountingFileSystem, FailingFileSystem, JOURNAL_MARKETS, acceptedBatch, fundingBatch, makeTempDir } from './journal-support.js';
import { listSegments, segmentName } from '../../server/journal/file-names.js';

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

function writer(dir: string, extra: Partial<ConstructorParameters<typeof JournalWriter>[0]> = {}): JournalWriter {
  return new JournalWriter({ dir, nextSeq: 1, chain: 0, segmentBytes: 64 * 1024 * 1024, fsync: true, codec, ...extra });
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

function readAll(dir: string, fromSeq = 1, chainBefore = 0): JournalRecord[] {
  return [...readJournal(dir, { fromSeq, chainBefore, codec })];
}

/** Every record of one segment file, parsed straight from the bytes. */
function rawRecords(path: string): Array<{ offset: number; header: ReturnType<typeof readHeader>; bytes: Buffer }> {
  const file = readFileSync(path);
  const records = [];
  for (let offset = 0; offset < file.length;) {
    const header = readHeader(file, offset);
    const end = offset + RECORD_HEADER_BYTES + header.bodyLength;
    records.push({ offset, header, bytes: file.subarray(offset, end) });
    offset = end;
  }
  return records;
}

describe('journal writer → reader', () => {
  it('round-trips every batch over several segments, each named for its first sequence number', async () => {
    const dir = tempJournalDir();
    const batches = randomBatches(11, 120);
    const journal = writer(dir, { segmentBytes: 2_048 });
    // Some awaited one by one, some appended together: both must come back in commit order.
    for (let i = 0; i < batches.length; i++) {
      const durable = journal.append(batches[i]!);
      if (i % 3 === 0) await durable;
    }
    await journal.close();

    const segments = listSegments(dir);
    expect(segments.length).toBeGreaterThanOrEqual(4);
    const records = readAll(dir);
    expect(records.map((r) => r.entries)).toEqual(batches);
    let seq = 1;
    for (const record of records) {
      expect(record.seq).toBe(seq);
      expect(record.count).toBe(record.entries.length);
      seq += record.count;
    }
    expect(journal.nextSeq).toBe(seq);
    expect(records.at(-1)!.chain).toBe(journal.chain);
    // A segment starts with the record whose first command its name gives.
    for (const segment of segments) {
      const first = records.find((r) => r.segment === segment)!;
      expect(first.offset).toBe(0);
      expect(segment).toBe(segmentName(first.seq));
    }
  });

  it('resumes from a later sequence number: records wholly before it are skipped, the chain continues', async () => {
    const dir = tempJournalDir();
    const batches = randomBatches(12, 60);
    const first = writer(dir, { segmentBytes: 1_024 });
    for (const batch of batches.slice(0, 40)) await first.append(batch);
    await first.close();
    // A writer restarted where the first stopped (as after recovery) continues the same journal.
    const second = writer(dir, { segmentBytes: 1_024, nextSeq: first.nextSeq, chain: first.chain });
    await Promise.all(batches.slice(40).map((batch) => second.append(batch)));
    await second.close();

    const all = readAll(dir);
    expect(all.map((r) => r.entries)).toEqual(batches);
    const cut = all[25]!;
    const tail = readAll(dir, cut.seq, all[24]!.chain);
    expect(tail.map((r) => r.seq)).toEqual(all.slice(25).map((r) => r.seq));
    // The chain a snapshot recorded must match the journal, whether or not a segment starts there.
    expect(() => readAll(dir, cut.seq, (all[24]!.chain ^ 1) >>> 0)).toThrow(/chain does not match the snapshot/);
    const segmentStart = all.find((r, i) => i > 0 && r.offset === 0)!;
    const before = all[all.indexOf(segmentStart) - 1]!;
    expect(readAll(dir, segmentStart.seq, before.chain)[0]!.seq).toBe(segmentStart.seq);
    expect(() => readAll(dir, segmentStart.seq, (before.chain ^ 1) >>> 0)).toThrow(/broken checksum chain/);
  });
});

describe('group commit', () => {
  it('turns many appends of one turn into one write and one fdatasync after the first', async () => {
    const dir = tempJournalDir();
    const fs = new CountingFileSystem();
    const journal = writer(dir, { fileSystem: fs });
    const batches = randomBatches(13, 100);
    // The first append starts a flush at once; the 99 made while it is in flight form one group.
    await Promise.all(batches.map((batch) => journal.append(batch)));
    expect(fs.writes).toBe(2);
    expect(fs.datasyncs).toBe(2);
    expect(journal.groups).toBe(2);
    expect(journal.records).toBe(100);
    await journal.close();
    expect(readAll(dir).map((r) => r.entries)).toEqual(batches);
  });

  it('resolves no append before its fdatasync returns, and gathers appends of later turns behind a slow sync', async () => {
    const dir = tempJournalDir();
    const fs = new CountingFileSystem();
    const journal = writer(dir, { fileSystem: fs });
    const batches = randomBatches(14, 31);
    fs.hold();
    try {
      const resolved: number[] = [];
      const append = (i: number): Promise<number> => journal.append(batches[i]!).then(() => resolved.push(i));
      const durable = [append(0)];
      await waitUntil(() => fs.datasyncs === 1, 'the first fdatasync');
      // Thirty more appends, one per event-loop turn, while the first sync is held.
      for (let i = 1; i < batches.length; i++) {
        durable.push(append(i));
        await new Promise((resume) => setImmediate(resume));
      }
      expect(fs.writes).toBe(1);
      expect(resolved).toEqual([]);
      fs.release();
      await Promise.all(durable);
      expect(resolved).toEqual(batches.map((_, i) => i));
      expect(fs.writes).toBe(2);
      expect(fs.datasyncs).toBe(2);
      expect(journal.records).toBe(31);
    } finally {
      fs.release();
      await journal.close();
    }
  });

  it('fails for good after a failed sync: that group and every later append are refused', async () => {
    const dir = tempJournalDir();
    const fs = new FailingFileSystem('datasync');
    const journal = writer(dir, { fileSystem: fs });
    const [a, b, c] = randomBatches(15, 3);
    await journal.append(a!);
    fs.arm();
    await expect(journal.append(b!)).rejects.toThrow(/journal write failed: EIO/);
    expect(journal.failed).not.toBeNull();
    await expect(journal.append(c!)).rejects.toThrow(/journal write failed/);
    expect(fs.failures).toBe(1);
    await journal.close();
    // The failed group was written whole before its sync failed; it was taken back off the file.
    expect(readAll(dir).map((r) => r.entries)).toEqual([a]);
  });

  it('takes back the half of a group a failed write left on the file', async () => {
    const dir = tempJournalDir();
    const fs = new FailingFileSystem('write');
    const journal = writer(dir, { fileSystem: fs });
    const [a, b] = randomBatches(20, 2);
    await journal.append(a!);
    fs.arm();
    await expect(journal.append(b!)).rejects.toThrow(/journal write failed: ENOSPC/);
    await journal.close();
    const torn: unknown[] = [];
    const records = [...readJournal(dir, { fromSeq: 1, chainBefore: 0, codec, onTornTail: (tail) => torn.push(tail) })];
    expect(records.map((r) => r.entries)).toEqual([a]);
    expect(torn).toEqual([]);
  });
});

describe('record checks', () => {
  it('uses CRC-32C (Castagnoli)', () => {
    // The standard check value of CRC-32C over "123456789".
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('writes the documented header: length, CRC-32C of bytes 8.., chain over the body, count, first seq', async () => {
    const dir = tempJournalDir();
    const batches = randomBatches(16, 40);
    const journal = writer(dir, { segmentBytes: 1_500 });
    for (const batch of batches) await journal.append(batch);
    await journal.close();

    let chain = 0;
    let seq = 1;
    let index = 0;
    for (const segment of listSegments(dir)) {
      for (const { header, bytes } of rawRecords(join(dir, segment))) {
        const body = bytes.subarray(RECORD_HEADER_BYTES);
        expect(header.bodyLength).toBe(body.length);
        expect(header.crc).toBe(crc32c(bytes.subarray(8)));
        chain = crc32c(body, chain);
        expect(header.chain).toBe(chain);
        expect(header.seq).toBe(seq);
        expect(header.count).toBe(batches[index]!.length);
        expect(codec.decodeBatch(body)).toEqual(batches[index]);
        expect(encodeRecord(body, header.seq, header.count, header.chain).equals(bytes)).toBe(true);
        seq += header.count;
        index++;
      }
    }
    expect(index).toBe(batches.length);
  });

  /** Writes 30 batches into one segment and returns its path and records. */
  async function oneSegment(seed: number): Promise<{ dir: string; path: string; records: ReturnType<typeof rawRecords> }> {
    const dir = tempJournalDir();
    const journal = writer(dir);
    for (const batch of randomBatches(seed, 30)) await journal.append(batch);
    await journal.close();
    const path = join(dir, listSegments(dir)[0]!);
    return { dir, path, records: rawRecords(path) };
  }

  function expectCorruption(dir: string, segment: string, offset: number, reason: RegExp): void {
    let error: unknown;
    try {
      readAll(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(JournalCorruption);
    const corruption = error as JournalCorruption;
    expect(corruption.segment).toBe(segment);
    expect(corruption.offset).toBe(offset);
    expect(corruption.message).toContain(`segment ${segment} at offset ${offset}`);
    expect(corruption.message).toMatch(reason);
  }

  it('names segment and offset of a flipped bit in a record that has records after it', async () => {
    const { dir, path, records } = await oneSegment(17);
    const victim = records[12]!;
    const file = readFileSync(path);
    file[victim.offset + RECORD_HEADER_BYTES + 3]! ^= 0x10;
    writeFileSync(path, file);
    expectCorruption(dir, listSegments(dir)[0]!, victim.offset, /CRC-32C mismatch/);
  });

  it('catches a record whose own CRC is right but whose chain does not follow its predecessor', async () => {
    const { dir, path, records } = await oneSegment(18);
    const victim = records[7]!;
    const body = victim.bytes.subarray(RECORD_HEADER_BYTES);
    const forged = encodeRecord(body, victim.header.seq, victim.header.count, (victim.header.chain ^ 0xffff) >>> 0);
    const file = readFileSync(path);
    forged.copy(file, victim.offset);
    writeFileSync(path, file);
    expectCorruption(dir, listSegments(dir)[0]!, victim.offset, /broken checksum chain/);
  });

  it('catches a sequence gap', async () => {
    const { dir, path, records } = await oneSegment(19);
    const victim = records[9]!;
    const body = victim.bytes.subarray(RECORD_HEADER_BYTES);
    const forged = encodeRecord(body, victim.header.seq + 1, victim.header.count, victim.header.chain);
    const file = readFileSync(path);
    forged.copy(file, victim.offset);
    writeFileSync(path, file);
    expectCorruption(dir, listSegments(dir)[0]!, victim.offset, /sequence \d+ where \d+ was expected/);
  });
});
