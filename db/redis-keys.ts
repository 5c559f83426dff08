// The Redis key layout of the write-behind (docs/PERSISTENCE.md "## Redis"). Every key starts with
// a configurable prefix so several servers — or test files — can share one Redis.
export const DEFAULT_REDIS_PREFIX = 'spotwire:';

export interface RedisKeys {
  readonly prefix: string;
  /** String: the last journal seq applied to Redis. */
  readonly appliedSeq: string;
  /** Stream: one entry per exec, trade and transfer, id `<journal seq>-<event index>`. */
  readonly events: string;
  /** Hash: best bid/ask of a market with the market-data seq of that state. */
  top(sym: string): string;
  /** String: JSON `{seq, bids, asks}` of a market's book to the configured depth. */
  depth(sym: string): string;
  /** Sorted set: a market's last N trades as JSON, scored by trade id. */
  trades(sym: string): string;
  /** Hash: an account's open orders, field `<sym>:<order id>`, value the latest exec as JSON. */
  openOrders(account: string): string;
  /** Hash: an account's balances, field the asset, value JSON `{"available":…,"hold":…}`. */
  balances(account: string): string;
}

export function redisKeys(prefix: string = DEFAULT_REDIS_PREFIX): RedisKeys {
  return {
    prefix,
    appliedSeq: `${prefix}applied-seq`,
    events: `${prefix}events`,
    top: (sym) => `${prefix}top:${sym}`,
    depth: (sym) => `${prefix}depth:${sym}`,
    trades: (sym) => `${prefix}trades:${sym}`,
    openOrders: (account) => `${prefix}orders:${account}`,
    balances: (account) => `${prefix}balances:${account}`,
  };
}

/** Field of an order in its account's open-orders hash (order ids are per market). */
export function openOrderField(sym: string, id: number): string {
  return `${sym}:${id}`;
}
