// The engine benchmark compares equal work only if its streams are what they claim and both books
// really reproduce them; these checks keep that true as the engine evolves.
import { describe, expect, it } from 'vitest';
import { NodejsOrderBookAdapter, SpotwireBook, type BenchBook } from '../../bench/lib/book-adapters.js';
import { buildStream, STREAM_NAMES, type Stream } from '../../bench/lib/streams.js';

function replay(book: BenchBook, stream: Stream): number[] {
  book.reset();
  return stream.commands.map((_, i) => book.run(i));
}

function sortedDepth(book: BenchBook): string {
  const { bids, asks } = book.depth();
  const sort = (levels: [number, number][]): [number, number][] => [...levels].sort((a, b) => a[0] - b[0]);
  return JSON.stringify({ bids: sort(bids), asks: sort(asks) });
}

describe('bench streams', () => {
  it('are deterministic for a seed and differ between seeds', () => {
    const a = buildStream('steady', 5_000, 1);
    const b = buildStream('steady', 5_000, 1);
    const c = buildStream('steady', 5_000, 2);
    expect(a.commands).toEqual(b.commands);
    expect(c.commands).not.toEqual(a.commands);
  });

  it('mix limit, market and cancel about 60/10/30 and cancel only resting orders', () => {
    const stream = buildStream('deep', 20_000);
    const counts = { limit: 0, market: 0, cancel: 0 };
    for (const command of stream.commands) counts[command.op]++;
    expect(counts.limit / stream.commands.length).toBeCloseTo(0.6, 1);
    expect(counts.market / stream.commands.length).toBeCloseTo(0.1, 1);
    expect(counts.cancel / stream.commands.length).toBeCloseTo(0.3, 1);
    // The generator throws when a cancel names an order that does not rest; the deep book grows.
    expect(stream.restingAtEnd).toBeGreaterThan(500);
    expect(buildStream('steady', 20_000).maxResting).toBeLessThan(stream.restingAtEnd);
  });

  it('mm keeps 20 makers × 10 levels × 2 sides quoted', () => {
    const stream = buildStream('mm', 10_000);
    expect(stream.restingAtEnd).toBe(400);
    expect(stream.trades).toBeGreaterThan(0);
  });

  it.each(STREAM_NAMES)('%s: both books fill every command as the generator did and end with the same depth', (name) => {
    const stream = buildStream(name, 20_000);
    const spotwire = new SpotwireBook(stream);
    const nob = new NodejsOrderBookAdapter(stream);
    const expected = Array.from(stream.filledPerCommand);
    expect(replay(spotwire, stream)).toEqual(expected);
    expect(replay(nob, stream)).toEqual(expected);
    expect(expected.some((filled) => filled > 0)).toBe(true);
    expect(sortedDepth(nob)).toEqual(sortedDepth(spotwire));
  });
});
