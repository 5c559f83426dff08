// The Redis sink: hot state for frontends (top of book, depth with its seq, last trades, each
// account's open orders), the applied journal seq, and a stream of execs and trades for consumer
// groups. Key layout: db/redis-keys.ts and docs/PERSISTENCE.md "## Redis".
//
// A batch is one Lua script call, so it is atomic and idempotent by sequence inside Redis itself:
// the script reads the applied seq and skips every command at or below it, then records the batch's
// seq. A retry after a timeout whose first attempt did land (a paused Redis that wakes up) is
// therefore harmless. Every write is also idempotent on its own (hash fields, a sorted set scored by
// trade id, stream ids derived from journal seqs), so replaying a range after the applied seq was
// set back changes nothing either.
import { once } from 'node:events';
import { Redis, ReplyError } from 'ioredis';
import { Packr } from 'msgpackr';
import { openOrderField, redisKeys, type RedisKeys } from '../../db/redis-keys.js';
import { SinkBehind, type BookTop, type EventBatch, type Sink } from './event-batch.js';

export interface RedisSinkOptions {
  readonly url: string;
  readonly prefix?: string;
  /** Trades kept per market. */
  readonly tradesKept?: number;
  /** Entries the event stream is trimmed to after each batch. */
  readonly streamMaxLen?: number;
  readonly connectTimeoutMs?: number;
  readonly onConnectionError?: (error: Error) => void;
}

/** A plain Redis command (name, key, arguments), written as is. */
type Op = readonly string[];

/**
 * What one script call writes, as flat arrays (few tables for the script to unpack, few objects for
 * Node to build): `entries` are stream entries as (journal seq, event index, account JSON, event
 * JSON) quads, the account '' for a trade; `trades` are (position of the trade's entry, index into
 * `tradeKeys`, trade id) triples; `ops` is the state as
 * of the batch's end, always written.
 */
type Payload = readonly [entries: (number | string)[], trades: (number | string)[], tradeKeys: string[], ops: Op[]];

// Most members one ZADD takes from the script: Lua's unpack() has a bounded stack.
const ZADD_CHUNK = 500;
// Most fields one HSET/HDEL takes, for the same reason (the op is unpacked into redis.call).
const FIELDS_PER_OP = 500;

// KEYS: applied seq, event stream. ARGV[1]: the batch's last seq; ARGV[2]: the msgpack Payload
// (cmsgpack is built into Redis); ARGV[3]: '1' to redrive a dead-lettered batch: everything is
// written, the applied seq is left; ARGV[4]: the batch's first seq. Batches follow each other
// without gaps, so an applied seq below the one just before the batch means Redis lost data:
// nothing is written, the pipeline rebuilds it. A batch at or below the applied seq writes nothing;
// of one that overlaps it, entries and trades of commands at or below the
// applied seq are skipped; a stream entry whose id is at or below the stream's top is a replay and
// is skipped too. Ids are formatted with %d: Lua 5.1 would print a number of 15+ digits as 1e+14.
// The script, not Node, wraps each event into its stream entry: the write-behind worker thread,
// which also replays the journal for every sink, is the pipeline's narrowest stage, and Redis runs
// in its own process.
const APPLY_SCRIPT = `
local applied = tonumber(redis.call('GET', KEYS[1]) or '0')
local redrive = ARGV[3] == '1'
if redrive then applied = -1
elseif tonumber(ARGV[4]) > applied + 1 then return redis.error_reply('SPOTWIRE_BEHIND ' .. applied)
elseif tonumber(ARGV[1]) <= applied then return applied end
local topMs, topSeq, topMsText = -1, -1, '0'
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #top > 0 then
  local id = top[1][1]
  local dash = string.find(id, '-', 1, true)
  topMsText = string.sub(id, 1, dash - 1)
  topMs, topSeq = tonumber(topMsText), tonumber(string.sub(id, dash + 1))
end
local payload = cmsgpack.unpack(ARGV[2])
local entries, trades, tradeKeys, ops = payload[1], payload[2], payload[3], payload[4]
local call, format = redis.call, string.format
local function entry(i)
  local seq, account, json = entries[i], entries[i + 2], entries[i + 3]
  if account == '' then return format('{"seq":%d,"kind":"trade",%s', seq, string.sub(json, 2)) end
  return format('{"seq":%d,"kind":"exec","account":%s,"exec":%s}', seq, account, json)
end
for i = 1, #entries, 4 do
  local seq = entries[i]
  if seq > applied then
    if redrive then
      -- Right after the stream's top, so that later entries (ids from journal seqs) still fit.
      topSeq = math.max(topSeq, 0) + 1
      call('XADD', KEYS[2], topMsText .. '-' .. topSeq, 'e', entry(i))
    else
      local index = entries[i + 1]
      if seq > topMs or (seq == topMs and index > topSeq) then
        call('XADD', KEYS[2], format('%d-%d', seq, index), 'e', entry(i))
        topMs, topSeq = seq, index
      end
    end
  end
end
local members = {}
for i = 1, #trades, 3 do
  local at = trades[i]
  if entries[at] > applied then
    local list = members[trades[i + 1]]
    if not list then list = {}; members[trades[i + 1]] = list end
    list[#list + 1] = trades[i + 2]
    list[#list + 1] = entries[at + 3]
  end
end
for k, list in pairs(members) do
  for from = 1, #list, ${2 * ZADD_CHUNK} do
    call('ZADD', tradeKeys[k], unpack(list, from, math.min(#list, from + ${2 * ZADD_CHUNK - 1})))
  end
end
for _, op in ipairs(ops) do call(unpack(op)) end
if not redrive then call('SET', KEYS[1], ARGV[1]) end
return applied
`;

const MARK_SCRIPT = `
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

/** Errors Redis answers when it is busy or degraded, not because the batch is bad. */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'MISCONF', 'READONLY', 'OOM', 'NOSCRIPT'];

interface ScriptedRedis extends Redis {
  spotwireApply(appliedKey: string, streamKey: string, toSeq: string, payload: Buffer, redrive: '0' | '1', fromSeq: string): Promise<unknown>;
  spotwireMark(key: string, seq: string): Promise<unknown>;
}

export class RedisSink implements Sink {
  readonly name = 'redis';
  readonly keys: RedisKeys;
  private readonly redis: ScriptedRedis;
  private readonly packr = new Packr({ useRecords: false });
  private readonly tradesKept: number;
  private readonly streamMaxLen: string;
  private readonly connectTimeoutMs: number;

  constructor(options: RedisSinkOptions) {
    this.keys = redisKeys(options.prefix);
    this.tradesKept = options.tradesKept ?? 100;
    this.streamMaxLen = String(options.streamMaxLen ?? 100_000);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    // No offline queue: while Redis is away a call fails at once; the journal is the buffer.
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.connectTimeoutMs,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    }) as ScriptedRedis;
    this.redis.on('error', (error: Error) => options.onConnectionError?.(error));
    this.redis.defineCommand('spotwireApply', { numberOfKeys: 2, lua: APPLY_SCRIPT });
    this.redis.defineCommand('spotwireMark', { numberOfKeys: 1, lua: MARK_SCRIPT });
  }

  async appliedSeq(): Promise<number> {
    // Asked first at start: give a connection under way the time to finish instead of failing.
    if (this.redis.status === 'connecting' || this.redis.status === 'wait') {
      await Promise.race([once(this.redis, 'ready'), new Promise((resolve) => setTimeout(resolve, this.connectTimeoutMs).unref())]);
    }
    const value = await this.redis.get(this.keys.appliedSeq);
    return value === null ? 0 : Number(value);
  }

  async apply(batch: EventBatch): Promise<void> {
    await this.write(batch, false);
  }

  /**
   * Writes a dead-lettered batch after its cause was fixed. Its seqs are at or below the applied
   * seq by then, so the check is off; its events go to the end of the stream with ids right after
   * its top (their `seq` field says where they belong). Book state in the batch is older than what later
   * batches wrote, so it is left out.
   */
  async redrive(batch: EventBatch): Promise<void> {
    await this.write({ ...batch, books: [] }, true);
  }

  private async write(batch: EventBatch, redrive: boolean): Promise<void> {
    const payload = this.payload(batch);
    // One script call: its single reply (or error) is the batch's outcome, checked by the await.
    try {
      await this.redis.spotwireApply(this.keys.appliedSeq, this.keys.events, String(batch.toSeq), this.packr.pack(payload), redrive ? '1' : '0', String(batch.fromSeq));
    } catch (error) {
      const behind = /^SPOTWIRE_BEHIND (\d+)/.exec((error as Error).message);
      throw behind ? new SinkBehind(this.name, Number(behind[1])) : error;
    }
  }

  async markApplied(seq: number): Promise<void> {
    await this.redis.spotwireMark(this.keys.appliedSeq, String(seq));
  }

  isPermanent(error: unknown): boolean {
    if (!(error instanceof ReplyError)) return false;
    const message = (error as Error).message;
    return !TRANSIENT_REPLIES.some((prefix) => message.startsWith(prefix) || message.includes(` ${prefix} `));
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.redis.quit(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    } catch {
      // Not connected: nothing to say goodbye to.
    }
    this.redis.disconnect();
  }

  /**
   * The batch as the script takes it. Each exec is serialized once: its JSON goes into its stream
   * entry and, when it is the order's latest, into the open-orders hash.
   */
  private payload(batch: EventBatch): Payload {
    const entries: (number | string)[] = [];
    const trades: (number | string)[] = [];
    const accountJson = new Map<string, string>();
    const tradeKeys: string[] = [];
    const tradeKeyIndex = new Map<string, number>();
    // Per account, each touched order's latest exec JSON, or null when it left the book.
    const latest = new Map<string, Map<string, string | null>>();
    for (const command of batch.commands) {
      const seq = command.seq;
      const events = command.events;
      for (let index = 0; index < events.length; index++) {
        const event = events[index]!;
        if (event.kind === 'exec') {
          const exec = event.exec;
          const json = JSON.stringify(exec);
          let account = accountJson.get(event.account);
          if (account === undefined) {
            account = JSON.stringify(event.account);
            accountJson.set(event.account, account);
          }
          entries.push(seq, index, account, json);
          let fields = latest.get(event.account);
          if (!fields) {
            fields = new Map();
            latest.set(event.account, fields);
          }
          fields.set(openOrderField(exec.sym, exec.id), exec.status === 'new' || exec.status === 'partial' ? json : null);
        } else if (event.kind === 'trade') {
          const { kind: _kind, ...trade } = event;
          const json = JSON.stringify(trade);
          let keyIndex = tradeKeyIndex.get(event.sym);
          if (keyIndex === undefined) {
            tradeKeys.push(this.keys.trades(event.sym));
            // Lua arrays count from 1.
            keyIndex = tradeKeys.length;
            tradeKeyIndex.set(event.sym, keyIndex);
          }
          // Lua arrays count from 1: the entry's seq is at entries.length + 1.
          trades.push(entries.length + 1, keyIndex, String(event.tradeId));
          entries.push(seq, index, '', json);
        }
        // Level changes are summed up by the depth snapshot written at the end of the batch.
      }
    }
    return [entries, trades, tradeKeys, this.finalOps(batch, latest, tradeKeys)];
  }

  /**
   * State as of the batch's end, written whatever part of the batch was applied before: each
   * touched order's latest exec (an order opened and filled inside the batch costs an HDEL field,
   * not HSET + HDEL), one HSET and one HDEL per account, trade trimming and the books.
   */
  private finalOps(batch: EventBatch, latest: Map<string, Map<string, string | null>>, tradeKeys: readonly string[]): Op[] {
    const ops: Op[] = [];
    for (const [account, fields] of latest) {
      const key = this.keys.openOrders(account);
      let set: string[] = [];
      let del: string[] = [];
      for (const [field, json] of fields) {
        if (json === null) {
          del.push(field);
          if (del.length === FIELDS_PER_OP) {
            ops.push(['HDEL', key, ...del]);
            del = [];
          }
        } else {
          set.push(field, json);
          if (set.length === 2 * FIELDS_PER_OP) {
            ops.push(['HSET', key, ...set]);
            set = [];
          }
        }
      }
      if (set.length > 0) ops.push(['HSET', key, ...set]);
      if (del.length > 0) ops.push(['HDEL', key, ...del]);
    }
    for (const key of tradeKeys) ops.push(['ZREMRANGEBYRANK', key, '0', String(-this.tradesKept - 1)]);
    for (const book of batch.books) ops.push(...this.topOps(book), ['SET', this.keys.depth(book.sym), JSON.stringify({ seq: book.seq, bids: book.bids, asks: book.asks })]);
    // Exact, once per batch: the stream then holds the same entries whatever the batch boundaries.
    ops.push(['XTRIM', this.keys.events, 'MAXLEN', this.streamMaxLen]);
    return ops;
  }

  private topOps(book: BookTop): Op[] {
    const key = this.keys.top(book.sym);
    const fields = ['seq', String(book.seq)];
    const bid = book.bids[0];
    const ask = book.asks[0];
    if (bid) fields.push('bidPx', String(bid[0]), 'bidQty', String(bid[1]));
    if (ask) fields.push('askPx', String(ask[0]), 'askQty', String(ask[1]));
    return [['DEL', key], ['HSET', key, ...fields]];
  }
}
