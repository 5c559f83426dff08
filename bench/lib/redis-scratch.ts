// Benches write under a key prefix of their own and remove it afterwards.
import type { Redis } from 'ioredis';

/** Deletes every key under `prefix` (SCAN in pages, so a big prefix never blocks Redis for long). */
export async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
