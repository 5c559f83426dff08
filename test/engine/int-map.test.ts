// The engine's integer-keyed hash map against a Map, on seeded operation sequences that grow,
// shrink and collide (keys from a small range and from across the safe integers).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntMap } from '../../server/engine/int-map.js';

type Op = { op: 'set' | 'delete' | 'get'; key: number };

const smallKeys = fc.integer({ min: 0, max: 300 });
const wideKeys = fc.oneof(smallKeys, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 52));
const ops = (keys: fc.Arbitrary<number>): fc.Arbitrary<Op[]> =>
  fc.array(fc.record({ op: fc.constantFrom<Op['op']>('set', 'set', 'delete', 'get'), key: keys }), { maxLength: 2_000 });

function checkAgainstMap(sequence: Op[]): void {
  const map = new Map<number, { key: number; n: number }>();
  const intMap = new IntMap<{ key: number; n: number }>();
  sequence.forEach(({ op, key }, n) => {
    if (op === 'set') {
      const value = { key, n };
      map.set(key, value);
      intMap.set(key, value);
    } else if (op === 'delete') {
      expect(intMap.delete(key)).toBe(map.delete(key));
    } else {
      expect(intMap.get(key)).toBe(map.get(key));
    }
    expect(intMap.size).toBe(map.size);
  });
  for (const [key, value] of map) expect(intMap.get(key)).toBe(value);
}

describe('IntMap', () => {
  it('answers as a Map does over dense, colliding keys', () => {
    fc.assert(fc.property(ops(smallKeys), checkAgainstMap), { seed: 7, numRuns: 300 });
  });

  it('answers as a Map does over keys across the safe integers', () => {
    fc.assert(fc.property(ops(wideKeys), checkAgainstMap), { seed: 11, numRuns: 300 });
  });

  it('grows past many entries and gives the room back as they go', () => {
    const intMap = new IntMap<number[]>();
    for (let key = 1; key <= 20_000; key++) intMap.set(key, [key]);
    expect(intMap.size).toBe(20_000);
    expect(intMap.capacity).toBeGreaterThanOrEqual(40_000);
    for (let key = 1; key <= 20_000; key += 2) expect(intMap.delete(key)).toBe(true);
    for (let key = 1; key <= 20_000; key++) expect(intMap.get(key)?.[0]).toBe(key % 2 === 0 ? key : undefined);
    for (let key = 2; key <= 20_000; key += 2) intMap.delete(key);
    expect(intMap.size).toBe(0);
    expect(intMap.capacity).toBe(16);
    expect(intMap.get(2)).toBeUndefined();
  });
});
