// The book checksum `cs`: CRC-32 (IEEE 802.3, zlib's crc32) of "px:qty,..." over the best
// CHECKSUM_LEVELS asks ascending, then the best bids descending. Hand-written rather than
// node:zlib so the browser client computes it too.
import { CHECKSUM_LEVELS } from './constants.js';
import type { Level } from './messages.js';

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** The string the checksum covers; levels must already be best first. */
export function checksumText(asks: readonly Level[], bids: readonly Level[]): string {
  const parts: string[] = [];
  const askCount = Math.min(asks.length, CHECKSUM_LEVELS);
  for (let i = 0; i < askCount; i++) parts.push(`${asks[i]![0]}:${asks[i]![1]}`);
  const bidCount = Math.min(bids.length, CHECKSUM_LEVELS);
  for (let i = 0; i < bidCount; i++) parts.push(`${bids[i]![0]}:${bids[i]![1]}`);
  return parts.join(',');
}

const utf8 = new TextEncoder();

export function bookChecksum(asks: readonly Level[], bids: readonly Level[]): number {
  return crc32(utf8.encode(checksumText(asks, bids)));
}
