import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bookChecksum, checksumText, crc32 } from '../../protocol/checksum.js';
import type { Level } from '../../protocol/messages.js';

const utf8 = new TextEncoder();

/** A deterministic PRNG (mulberry32) so a failure names a reproducible seed. */
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

function randomString(next: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = next();
    // Mostly ASCII, some 2-, 3- and 4-byte UTF-8 so multi-byte encoding is covered too.
    if (r < 0.7) s += String.fromCharCode(32 + Math.floor(next() * 95));
    else if (r < 0.85) s += String.fromCharCode(0x80 + Math.floor(next() * 0x700));
    else if (r < 0.95) s += String.fromCharCode(0x800 + Math.floor(next() * 0xd000));
    else s += String.fromCodePoint(0x10000 + Math.floor(next() * 0xfffff));
  }
  return s;
}

describe('crc32', () => {
  it('matches the contract example', () => {
    expect(zlibCrc32('101:5,102:1,100:3,99:7')).toBe(3282063305);
    expect(crc32(utf8.encode('101:5,102:1,100:3,99:7'))).toBe(3282063305);
  });

  it('matches known vectors', () => {
    expect(crc32(new Uint8Array())).toBe(0);
    expect(crc32(utf8.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(utf8.encode('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('matches node:zlib on 2000 random strings', () => {
    const next = rng(0xc0ffee);
    for (let i = 0; i < 2000; i++) {
      const bytes = utf8.encode(randomString(next, Math.floor(next() * 200)));
      expect(crc32(bytes), `string #${i}`).toBe(zlibCrc32(bytes));
    }
  });

  it('matches node:zlib on random bytes including every byte value', () => {
    const next = rng(7);
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(crc32(all)).toBe(zlibCrc32(all));
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(next() * 1000) }, () => Math.floor(next() * 256));
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    }
  });

  it('is always an unsigned 32-bit integer', () => {
    const next = rng(99);
    for (let i = 0; i < 500; i++) {
      const value = crc32(utf8.encode(randomString(next, 20)));
      expect(Number.isInteger(value) && value >= 0 && value <= 0xffffffff).toBe(true);
    }
  });
});

describe('bookChecksum', () => {
  it('writes asks ascending then bids descending as px:qty joined by commas', () => {
    const asks: Level[] = [
      [101, 5],
      [102, 1],
    ];
    const bids: Level[] = [
      [100, 3],
      [99, 7],
    ];
    expect(checksumText(asks, bids)).toBe('101:5,102:1,100:3,99:7');
    expect(bookChecksum(asks, bids)).toBe(3282063305);
  });

  it('covers only the best 10 levels of each side', () => {
    const asks: Level[] = Array.from({ length: 15 }, (_, i) => [200 + i, i + 1]);
    const bids: Level[] = Array.from({ length: 15 }, (_, i) => [199 - i, i + 1]);
    const text = checksumText(asks, bids);
    expect(text.split(',')).toHaveLength(20);
    expect(text.startsWith('200:1,')).toBe(true);
    expect(text).toContain('209:10,199:1');
    expect(text.endsWith('190:10')).toBe(true);
    expect(bookChecksum(asks, bids)).toBe(zlibCrc32(text));
    // Changing an 11th level leaves it alone; changing a 10th does not.
    const deeper = asks.map((l): Level => [l[0], l[1]]);
    deeper[10] = [210, 999];
    expect(bookChecksum(deeper, bids)).toBe(bookChecksum(asks, bids));
    deeper[9] = [209, 999];
    expect(bookChecksum(deeper, bids)).not.toBe(bookChecksum(asks, bids));
  });

  it('handles empty and one-sided books', () => {
    expect(checksumText([], [])).toBe('');
    expect(bookChecksum([], [])).toBe(0);
    expect(checksumText([[5, 1]], [])).toBe('5:1');
    expect(checksumText([], [[4, 2]])).toBe('4:2');
    expect(bookChecksum([], [[4, 2]])).toBe(zlibCrc32('4:2'));
  });

  it('writes large integers without exponent notation', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(checksumText([[max, max]], [])).toBe('9007199254740991:9007199254740991');
  });
});
