// decodeBatch reads each tuple in place (no per-tuple slice); this checks it against the decode it
// replaced (slice, then tupleToCommand): every body a writer produces must decode to the same
// entries, and any other body (other types, non-ASCII strings, truncated or flipped bytes) must
// give the same result or the same error.
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MatchingEngine } from '../../server/engine/engine.js';
import { createCommandCodec, tupleToCommand, type JournalEntry } from '../../server/journal/command-codec.js';
import { mulberry32, randomInt } from '../../bench/lib/prng.js';
import { acceptedBatch, fundingBatch, JOURNAL_MARKETS } from './journal-support.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** The decode as it was: msgpackr, then a copy of each tuple after its id. */
function referenceDecode(body: Uint8Array): JournalEntry[] {
  const tuples = unpackr.unpack(body) as unknown;
  if (!Array.isArray(tuples)) throw new Error('journal: record body is not an array');
  return tuples.map((tuple: unknown) => {
    if (!Array.isArray(tuple) || tuple.length < 5) throw new Error('journal: bad command tuple');
    return { id: tuple[0] as number | null, command: tupleToCommand(tuple.slice(1)) };
  });
}

function outcome(decode: () => JournalEntry[]): { entries: JournalEntry[] } | { error: string } {
  try {
    return { entries: decode() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('command codec bus position', () => {
  it("keeps a cluster core's bus position beside the entries, and bodies without one read as before", () => {
    const codec = createCommandCodec();
    const funding = fundingBatch(new MatchingEngine(JOURNAL_MARKETS));
    const withCursor = codec.encodeBatch(funding, '1700000000000-7');
    expect(codec.decodeBody(withCursor)).toEqual({ entries: funding, busCursor: '1700000000000-7' });
    expect(codec.decodeBatch(withCursor)).toEqual(funding);
    expect(codec.decodeBody(codec.encodeBatch(funding))).toEqual({ entries: funding, busCursor: null });
    expect(Buffer.from(codec.encodeBatch(funding, null))).toEqual(Buffer.from(codec.encodeBatch(funding)));
  });
});

describe('command codec decodeBatch', () => {
  it('decodes written batches exactly as the slicing decode did, back to the entries written', () => {
    const codec = createCommandCodec();
    const engine = new MatchingEngine(JOURNAL_MARKETS);
    const funding = fundingBatch(engine);
    expect(codec.decodeBatch(codec.encodeBatch(funding))).toEqual(funding);
    const random = mulberry32(99);
    for (let i = 0; i < 300; i++) {
      // Real timestamps (above 2^32) and a few large quantities take the wider number formats.
      const entries = acceptedBatch(random, engine, randomInt(random, 1, 80), 1_764_000_000_000 + i);
      const body = codec.encodeBatch(entries);
      expect(codec.decodeBatch(body)).toEqual(referenceDecode(body));
      expect(codec.decodeBatch(body)).toEqual(entries);
    }
  });

  it('gives the same result or the same error on odd and damaged bodies', () => {
    const codec = createCommandCodec();
    const packr = new Packr({ useRecords: false });
    const odd = [
      [[1, 0, 1_764_000_000_000, 'zoë', 'BTC-USD', 0, 0, 100, 5, 0, false, 0, 'ç1']],
      [[1, 0, 1, 'a', 'BTC-USD', 0, 0, 2 ** 53 - 1, -5, 0, false, 0, null]],
      [[null, 1, 1, 'a', 'BTC-USD', 3, null]],
      [[null, 2, 1, 'a', null, 1]],
      [[null, 9, 1, 'a', 'BTC-USD', 1, null]],
      [[null, 1, 1]],
      [{ not: 'a tuple' }],
      { not: 'an array' },
      [],
      [[null, 1, 1, 'a', 'BTC-USD', 1.5, null]],
      [[null, 1, 1, 'a'.repeat(300), 'BTC-USD', 1, null]],
    ];
    for (const value of odd) {
      const body = packr.pack(value);
      expect(
        outcome(() => codec.decodeBatch(body)),
        JSON.stringify(value),
      ).toEqual(outcome(() => referenceDecode(body)));
    }
    const random = mulberry32(5);
    const engine = new MatchingEngine(JOURNAL_MARKETS);
    fundingBatch(engine);
    const body = codec.encodeBatch(acceptedBatch(random, engine, 40, 1_764_000_000_000));
    for (let i = 0; i < 2_000; i++) {
      const damaged = Uint8Array.from(body);
      damaged[randomInt(random, 0, damaged.length - 1)] = randomInt(random, 0, 255);
      const cut = random() < 0.3 ? damaged.subarray(0, randomInt(random, 0, damaged.length)) : damaged;
      expect(outcome(() => codec.decodeBatch(cut))).toEqual(outcome(() => referenceDecode(cut)));
    }
  });
});

describe('command codec: stop orders and icebergs', () => {
  const place: JournalEntry = {
    id: 7,
    command: {
      op: 'place',
      ts: 1_764_000_000_000,
      account: 'alice',
      sym: 'BTC-USD',
      side: 'sell',
      kind: 'limit',
      px: 100,
      qty: 5,
      tif: 'gtc',
      post: false,
      stp: 'none',
      cid: 'c1',
    },
  };
  const amendEntry: JournalEntry = {
    id: null,
    command: { op: 'amend', ts: 1_764_000_000_001, account: 'alice', sym: 'BTC-USD', ref: { id: 7 }, qty: 4, px: null },
  };

  it('writes a command without the new fields exactly as before, and reads records written before them', () => {
    const codec = createCommandCodec();
    const packr = new Packr({ useRecords: false });
    // The tuples as the first format wrote them: op 0 (place) and 3 (amend), no trailing fields.
    const old = packr.pack([
      [7, 0, 1_764_000_000_000, 'alice', 'BTC-USD', 1, 0, 100, 5, 0, false, 0, 'c1'],
      [null, 3, 1_764_000_000_001, 'alice', 'BTC-USD', 7, null, 4, null],
    ]);
    expect(codec.encodeBatch([place, amendEntry])).toEqual(old);
    expect(codec.decodeBatch(old)).toEqual([place, amendEntry]);
  });

  it('writes a stop under its own ops with the trigger trailing, and reads it back', () => {
    const codec = createCommandCodec();
    const stopPlace: JournalEntry = {
      id: 8,
      command: { ...place.command, kind: 'stop', px: null, trigger: 95 } as JournalEntry['command'],
    };
    const stopAmend: JournalEntry = { id: null, command: { ...amendEntry.command, trigger: 94 } as JournalEntry['command'] };
    const body = codec.encodeBatch([stopPlace, stopAmend]);
    const tuples = unpackr.unpack(body) as unknown[][];
    expect(tuples[0]).toEqual([8, 6, 1_764_000_000_000, 'alice', 'BTC-USD', 1, 2, null, 5, 0, false, 0, 'c1', 95]);
    expect(tuples[1]).toEqual([null, 7, 1_764_000_000_001, 'alice', 'BTC-USD', 7, null, 4, null, 94]);
    expect(codec.decodeBatch(body)).toEqual([stopPlace, stopAmend]);
    expect(codec.decodeBatch(body)).toEqual(referenceDecode(body));
  });

  it("writes an iceberg's display after a nil trigger, and reads it back", () => {
    const codec = createCommandCodec();
    const icebergPlace: JournalEntry = { id: 9, command: { ...place.command, display: 2 } as JournalEntry['command'] };
    const body = codec.encodeBatch([icebergPlace]);
    expect((unpackr.unpack(body) as unknown[][])[0]).toEqual([
      9,
      6,
      1_764_000_000_000,
      'alice',
      'BTC-USD',
      1,
      0,
      100,
      5,
      0,
      false,
      0,
      'c1',
      null,
      2,
    ]);
    expect(codec.decodeBatch(body)).toEqual([icebergPlace]);
  });
});
