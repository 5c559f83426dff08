// Reads every key under a prefix into one plain object (type-aware), so tests can compare the whole
// Redis state of a sink before and after a replay, and delete it afterwards.
import type { Redis } from 'ioredis';

export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return [...new Set(keys)].sort();
}

export async function dumpRedis(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const dump: Record<string, unknown> = {};
  for (const key of await keysUnder(redis, prefix)) {
    const type = await redis.type(key);
    if (type === 'string') dump[key] = await redis.get(key);
    else if (type === 'hash') dump[key] = await redis.hgetall(key);
    else if (type === 'zset') dump[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'stream') dump[key] = await redis.xrange(key, '-', '+');
    else if (type === 'list') dump[key] = await redis.lrange(key, 0, -1);
    else dump[key] = `<${type}>`;
  }
  return dump;
}

export async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, prefix);
  if (keys.length > 0) await redis.del(...keys);
}
