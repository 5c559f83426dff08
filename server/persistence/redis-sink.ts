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
import type { Exec } from '../../protocol/messages.js';
import { SinkBehind, type BookTop, type EventBatch, type PersistedCommand, type Sink } from './event-batch.js';

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

type Op = readonly string[];
/** [journal seq, the writes that command causes]. */
type Group = readonly [string, readonly Op[]];

// KEYS: applied seq, event stream. ARGV[1]: the batch's last seq; ARGV[2]: msgpack array of groups
// (cmsgpack is built into Redis); ARGV[3]: '1' to redrive a dead-lettered batch: every group is
// written, the applied seq is left; ARGV[4]: the batch's first seq. Batches follow each other
// without gaps, so an applied seq below the one just before the batch means Redis lost data:
// nothing is written, the pipeline rebuilds it. Ops are compact: ['x', id, json] adds a stream
// entry unless its id is at or below the stream's top (a replay); ['z', key, score, member] is a
// ZADD; anything else is a plain command.
const APPLY_SCRIPT = `
local applied = tonumber(redis.call('GET', KEYS[1]) or '0')
local redrive = ARGV[3] == '1'
if redrive then applied = -1
elseif tonumber(ARGV[4]) > applied + 1 then return redis.error_reply('SPOTWIRE_BEHIND ' .. applied) end
local topMs, topSeq, topMsText = -1, -1, '0'
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #top > 0 then
  local id = top[1][1]
  local dash = string.find(id, '-', 1, true)
  topMsText = string.sub(id, 1, dash - 1)
  topMs, topSeq = tonumber(topMsText), tonumber(string.sub(id, dash + 1))
end
local groups = cmsgpack.unpack(ARGV[2])
for _, group in ipairs(groups) do
  if tonumber(group[1]) > applied then
    for _, op in ipairs(group[2]) do
      local tag = op[1]
      if tag == 'x' then
        if redrive then
          -- Right after the stream's top, so that later entries (ids from journal seqs) still fit.
          topSeq = math.max(topSeq, 0) + 1
          redis.call('XADD', KEYS[2], topMsText .. '-' .. topSeq, 'e', op[3])
        else
          local id = op[2]
          local dash = string.find(id, '-', 1, true)
          local ms, seq = tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
          if ms > topMs or (ms == topMs and seq > topSeq) then
            redis.call('XADD', KEYS[2], id, 'e', op[3])
            topMs, topSeq, topMsText = ms, seq, string.sub(id, 1, dash - 1)
          end
        end
      elseif tag == 'z' then
        redis.call('ZADD', op[2], op[3], op[4])
      else
        redis.call(unpack(op))
      end
    end
  end
end
if not redrive and tonumber(ARGV[1]) > applied then redis.call('SET', KEYS[1], ARGV[1]) end
return applied
`;

const MARK_SCRIPT = `
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

/** Errors Redis answers when it is busy or degraded, not because the batch is bad. */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'MISCONF', 'READONLY', 'OOM', 'NOSCRIPT'];

interface ScriptedRedis extends Redis {
  spotwireApply(appliedKey: string, streamKey: string, toSeq: string, groups: Buffer, redrive: '0' | '1', fromSeq: string): Promise<unknown>;
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
    const groups: Group[] = batch.commands.map((command) => [String(command.seq), this.commandOps(command, redrive)]);
    groups.push([String(batch.toSeq), this.bookOps(batch)]);
    // One script call: its single reply (or error) is the batch's outcome, checked by the await.
    try {
      await this.redis.spotwireApply(this.keys.appliedSeq, this.keys.events, String(batch.toSeq), this.packr.pack(groups), redrive ? '1' : '0', String(batch.fromSeq));
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

  /** The stream entries and trades of one command (its own group: skipped when at or below the applied seq). */
  private commandOps(command: PersistedCommand, redrive: boolean): Op[] {
    const ops: Op[] = [];
    const stream = (index: number, json: string): void => {
      ops.push(['x', redrive ? '*' : `${command.seq}-${index}`, json]);
    };
    command.events.forEach((event, index) => {
      if (event.kind === 'exec') {
        stream(index, `{"seq":${command.seq},"kind":"exec","account":${JSON.stringify(event.account)},"exec":${JSON.stringify(event.exec)}}`);
      } else if (event.kind === 'trade') {
        const { kind: _kind, ...trade } = event;
        const json = JSON.stringify(trade);
        ops.push(['z', this.keys.trades(event.sym), String(event.tradeId), json]);
        stream(index, `{"seq":${command.seq},"kind":"trade",${json.slice(1)}`);
      }
      // Level changes are summed up by the depth snapshot written at the end of the batch.
    });
    return ops;
  }

  /**
   * State as of the batch's end, written in its last group: each touched order's latest exec (an
   * order opened and filled inside the batch costs one HDEL, not HSET + HDEL), trade trimming and
   * the books. Final state is right whatever part of the batch was applied before.
   */
  private bookOps(batch: EventBatch): Op[] {
    const ops: Op[] = [];
    const latest = new Map<string, { key: string; field: string; exec: Exec }>();
    const tradedSyms = new Set<string>();
    for (const command of batch.commands) {
      for (const event of command.events) {
        if (event.kind === 'trade') tradedSyms.add(event.sym);
        else if (event.kind === 'exec') {
          const key = this.keys.openOrders(event.account);
          const field = openOrderField(event.exec.sym, event.exec.id);
          latest.set(`${key}\n${field}`, { key, field, exec: event.exec });
        }
      }
    }
    for (const { key, field, exec } of latest.values()) {
      if (exec.status === 'new' || exec.status === 'partial') ops.push(['HSET', key, field, JSON.stringify(exec)]);
      else ops.push(['HDEL', key, field]);
    }
    for (const sym of tradedSyms) ops.push(['ZREMRANGEBYRANK', this.keys.trades(sym), '0', String(-this.tradesKept - 1)]);
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
