import { describe, expect, it } from 'vitest';
import { bookChecksum } from '../../protocol/checksum.js';
import { LocalBook } from '../../protocol/local-book.js';
import type { BookMessage, Level } from '../../protocol/messages.js';

function cs(asks: Level[], bids: Level[]): number {
  return bookChecksum(asks, bids);
}

function snapshot(seq: number, bids: Level[], asks: Level[], checksum = cs(asks, bids)): BookMessage {
  return { type: 'book', sym: 'BTC-USD', seq, snapshot: true, bids, asks, cs: checksum };
}

function delta(seq: number, bids: Level[], asks: Level[], checksum: number): BookMessage {
  return { type: 'book', sym: 'BTC-USD', seq, bids, asks, cs: checksum };
}

/** The naive reference: a Map per side, sorted on read. */
class ReferenceBook {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();

  set(side: 'bids' | 'asks', px: number, qty: number): void {
    if (qty === 0) this[side].delete(px);
    else this[side].set(px, qty);
  }

  sortedBids(): Level[] {
    return [...this.bids].sort((a, b) => b[0] - a[0]);
  }

  sortedAsks(): Level[] {
    return [...this.asks].sort((a, b) => a[0] - b[0]);
  }

  cs(): number {
    return cs(this.sortedAsks(), this.sortedBids());
  }
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BIDS: Level[] = [
  [100, 3],
  [99, 7],
];
const ASKS: Level[] = [
  [101, 5],
  [102, 1],
];

describe('LocalBook', () => {
  it('is empty and unsynced before a snapshot', () => {
    const book = new LocalBook('BTC-USD');
    expect(book.sym).toBe('BTC-USD');
    expect(book.seq).toBe(0);
    expect(book.synced).toBe(false);
    expect(book.bestBid).toBeUndefined();
    expect(book.bestAsk).toBeUndefined();
    expect(book.bids(10)).toEqual([]);
    expect(book.asks(10)).toEqual([]);
  });

  it('applies a snapshot with the contract example checksum', () => {
    const book = new LocalBook('BTC-USD');
    expect(book.applySnapshot(snapshot(7, BIDS, ASKS, 3282063305))).toEqual({ ok: true });
    expect(book.seq).toBe(7);
    expect(book.synced).toBe(true);
    expect(book.bestBid).toEqual([100, 3]);
    expect(book.bestAsk).toEqual([101, 5]);
    expect(book.bids(10)).toEqual(BIDS);
    expect(book.asks(10)).toEqual(ASKS);
    expect(book.bids(1)).toEqual([[100, 3]]);
    expect(book.checksum()).toBe(3282063305);
  });

  it('sorts a snapshot whose levels come out of order', () => {
    const book = new LocalBook('BTC-USD');
    const bids: Level[] = [
      [99, 7],
      [100, 3],
      [98, 1],
    ];
    const asks: Level[] = [
      [103, 2],
      [101, 5],
    ];
    const sortedBids: Level[] = [
      [100, 3],
      [99, 7],
      [98, 1],
    ];
    const sortedAsks: Level[] = [
      [101, 5],
      [103, 2],
    ];
    expect(book.applySnapshot(snapshot(1, bids, asks, cs(sortedAsks, sortedBids))).ok).toBe(true);
    expect(book.bids()).toEqual(sortedBids);
    expect(book.asks()).toEqual(sortedAsks);
  });

  it('rejects a snapshot with a wrong checksum and then takes no delta', () => {
    const book = new LocalBook('BTC-USD');
    expect(book.applySnapshot(snapshot(1, BIDS, ASKS, 12345))).toEqual({ ok: false, reason: 'checksum' });
    expect(book.synced).toBe(false);
    expect(book.applyDelta(delta(2, [], [], cs(ASKS, BIDS)))).toEqual({ ok: false, reason: 'no_snapshot' });
  });

  it('refuses a delta before any snapshot', () => {
    const book = new LocalBook('BTC-USD');
    expect(book.applyDelta(delta(1, [[100, 1]], [], cs([], [[100, 1]])))).toEqual({
      ok: false,
      reason: 'no_snapshot',
    });
    expect(book.bids()).toEqual([]);
  });

  it('inserts, updates and removes levels on deltas', () => {
    const book = new LocalBook('BTC-USD');
    book.applySnapshot(snapshot(10, BIDS, ASKS));

    // an updated bid and an updated ask
    let bids: Level[] = [
      [100, 4],
      [99, 7],
    ];
    let asks: Level[] = [
      [101, 6],
      [102, 1],
    ];
    expect(book.applyDelta(delta(11, [[100, 4]], [[101, 6]], cs(asks, bids)))).toEqual({ ok: true });
    expect(book.bids()).toEqual(bids);
    expect(book.asks()).toEqual(asks);

    // new worst levels, then a level between two others, then new best levels
    bids = [
      [100, 4],
      [99, 7],
      [97, 2],
    ];
    asks = [
      [101, 6],
      [102, 1],
      [105, 9],
    ];
    expect(book.applyDelta(delta(12, [[97, 2]], [[105, 9]], cs(asks, bids))).ok).toBe(true);
    expect(book.bids()).toEqual(bids);
    expect(book.asks()).toEqual(asks);
    bids = [
      [100, 4],
      [99, 7],
      [98, 5],
      [97, 2],
    ];
    asks = [
      [101, 6],
      [102, 1],
      [103, 8],
      [105, 9],
    ];
    expect(book.applyDelta(delta(13, [[98, 5]], [[103, 8]], cs(asks, bids))).ok).toBe(true);
    expect(book.bids()).toEqual(bids);
    expect(book.asks()).toEqual(asks);

    // remove the best bid and the best ask: the next levels become best
    bids = [
      [99, 7],
      [98, 5],
      [97, 2],
    ];
    asks = [
      [102, 1],
      [103, 8],
      [105, 9],
    ];
    expect(book.applyDelta(delta(14, [[100, 0]], [[101, 0]], cs(asks, bids))).ok).toBe(true);
    expect(book.bestBid).toEqual([99, 7]);
    expect(book.bestAsk).toEqual([102, 1]);
    expect(book.bids()).toEqual(bids);
    expect(book.asks()).toEqual(asks);

    // a new best bid and a new best ask, and the worst bid removed, in one delta
    bids = [
      [100, 3],
      [99, 7],
      [98, 5],
    ];
    asks = [
      [101, 4],
      [102, 1],
      [103, 8],
      [105, 9],
    ];
    const changedBids: Level[] = [
      [100, 3],
      [97, 0],
    ];
    expect(book.applyDelta(delta(15, changedBids, [[101, 4]], cs(asks, bids))).ok).toBe(true);
    expect(book.bids()).toEqual(bids);
    expect(book.asks()).toEqual(asks);

    // removing a level that is not there changes nothing
    expect(book.applyDelta(delta(16, [[50, 0]], [[500, 0]], cs(asks, bids))).ok).toBe(true);
    expect(book.bids()).toEqual(bids);
    expect(book.asks()).toEqual(asks);
    expect(book.seq).toBe(16);
  });

  it('reports a gap and stays out of sync until the next snapshot', () => {
    const book = new LocalBook('BTC-USD');
    book.applySnapshot(snapshot(10, BIDS, ASKS));
    const sameCs = cs(ASKS, BIDS);
    expect(book.applyDelta(delta(12, [], [], sameCs))).toEqual({ ok: false, reason: 'gap' });
    expect(book.synced).toBe(false);
    expect(book.seq).toBe(10);
    // even the delta that would have been next is not taken now
    expect(book.applyDelta(delta(11, [], [], sameCs))).toEqual({ ok: false, reason: 'no_snapshot' });
    expect(book.applySnapshot(snapshot(20, BIDS, ASKS)).ok).toBe(true);
    expect(book.applyDelta(delta(21, [], [], sameCs))).toEqual({ ok: true });
    expect(book.seq).toBe(21);
  });

  it('reports a repeated or older seq as a gap without applying it', () => {
    const book = new LocalBook('BTC-USD');
    book.applySnapshot(snapshot(10, BIDS, ASKS));
    expect(book.applyDelta(delta(10, [[100, 0]], [], cs(ASKS, [[99, 7]])))).toEqual({ ok: false, reason: 'gap' });
    expect(book.bids()).toEqual(BIDS);
    book.applySnapshot(snapshot(10, BIDS, ASKS));
    expect(book.applyDelta(delta(9, [], [], cs(ASKS, BIDS))).ok).toBe(false);
  });

  it('reports a checksum mismatch after applying a delta', () => {
    const book = new LocalBook('BTC-USD');
    book.applySnapshot(snapshot(1, BIDS, ASKS));
    // the server says 100 is now 4, but its cs reflects 100:5 (e.g. a missed level update)
    const wrong = cs(ASKS, [
      [100, 5],
      [99, 7],
    ]);
    expect(book.applyDelta(delta(2, [[100, 4]], [], wrong))).toEqual({ ok: false, reason: 'checksum' });
    expect(book.synced).toBe(false);
    expect(book.applyDelta(delta(3, [], [], wrong))).toEqual({ ok: false, reason: 'no_snapshot' });
  });

  it('returns copies, so callers cannot corrupt the book', () => {
    const book = new LocalBook('BTC-USD');
    book.applySnapshot(snapshot(1, BIDS, ASKS));
    const top = book.bids(1);
    top[0]![1] = 999;
    book.bestAsk![1] = 999;
    expect(book.bids(1)).toEqual([[100, 3]]);
    expect(book.bestAsk).toEqual([101, 5]);
    expect(book.checksum()).toBe(3282063305);
  });

  it('treats n larger than the book, zero or negative sensibly', () => {
    const book = new LocalBook('BTC-USD');
    book.applySnapshot(snapshot(1, BIDS, ASKS));
    expect(book.bids(100)).toHaveLength(2);
    expect(book.asks(0)).toEqual([]);
    expect(book.asks(-3)).toEqual([]);
  });

  it('does not let the snapshot message alias its arrays', () => {
    const book = new LocalBook('BTC-USD');
    const bids: Level[] = [
      [100, 3],
      [99, 7],
    ];
    const msg = snapshot(1, bids, ASKS);
    book.applySnapshot(msg);
    bids[0]![1] = 42;
    bids.push([1, 1]);
    expect(book.bids()).toEqual(BIDS);
  });

  it('follows a reference book through 5000 random deltas, checksum verified on each', () => {
    const next = rng(2024);
    const ref = new ReferenceBook();
    for (let px = 990; px < 1000; px++) ref.set('bids', px, 1 + Math.floor(next() * 50));
    for (let px = 1001; px < 1011; px++) ref.set('asks', px, 1 + Math.floor(next() * 50));
    const book = new LocalBook('BTC-USD');
    expect(book.applySnapshot(snapshot(100, ref.sortedBids(), ref.sortedAsks())).ok).toBe(true);

    let seq = 100;
    for (let i = 0; i < 5000; i++) {
      const bids: Level[] = [];
      const asks: Level[] = [];
      const changes = 1 + Math.floor(next() * 4);
      for (let c = 0; c < changes; c++) {
        const side = next() < 0.5 ? 'bids' : 'asks';
        // bids live in 900..1000, asks in 1001..1100; a third of changes remove a level
        const px = side === 'bids' ? 900 + Math.floor(next() * 101) : 1001 + Math.floor(next() * 100);
        const qty = next() < 0.33 ? 0 : 1 + Math.floor(next() * 100);
        ref.set(side, px, qty);
        (side === 'bids' ? bids : asks).push([px, qty]);
      }
      seq++;
      const result = book.applyDelta(delta(seq, bids, asks, ref.cs()));
      expect(result, `delta #${i}`).toEqual({ ok: true });
      if (i % 250 === 0) {
        expect(book.bids()).toEqual(ref.sortedBids());
        expect(book.asks()).toEqual(ref.sortedAsks());
      }
    }
    expect(book.bids()).toEqual(ref.sortedBids());
    expect(book.asks()).toEqual(ref.sortedAsks());
    expect(book.bidCount).toBe(ref.bids.size);
    expect(book.askCount).toBe(ref.asks.size);
    expect(book.seq).toBe(5100);
  });

  it('apply() dispatches on the snapshot flag', () => {
    const book = new LocalBook('BTC-USD');
    expect(book.apply(delta(1, [], [], 0))).toEqual({ ok: false, reason: 'no_snapshot' });
    expect(book.apply(snapshot(5, BIDS, ASKS))).toEqual({ ok: true });
    expect(book.apply(delta(6, [[99, 0]], [], cs(ASKS, [[100, 3]])))).toEqual({ ok: true });
    expect(book.bids()).toEqual([[100, 3]]);
  });
});
