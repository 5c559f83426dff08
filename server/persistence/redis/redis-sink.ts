// The Redis sink: hot state for frontends (top of book, depth with its seq, last trades, each
// account's open orders and balances), the applied journal seq, and a stream of execs, trades and
// transfers for consumer groups. Key layout: db/redis-keys.ts and docs/PERSISTENCE.md "## Redis".
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
import { openOrderField, redisKeys, type RedisKeys } from '../../../db/redis-keys.js';
import type { BalanceEvent, ExecEvent, TradeEvent } from '../../engine/types.js';
import { SinkBehind, type BookTop, type EventBatch, type RedriveState, type Sink } from '../event-batch.js';
import { StreamEntryWriter } from './stream-entry-writer.js';

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

// Most members one ZADD takes from the script: Lua's unpack() has a bounded stack (8,000 slots).
const ZADD_CHUNK = 500;
// Most fields one HSET/HDEL takes, for the same reason (the op is unpacked into redis.call).
const FIELDS_PER_OP = 500;
// Redrive calls made while the pipeline keeps moving the applied seq on, before giving up.
const REDRIVE_ATTEMPTS = 20;

// KEYS: applied seq, event stream. ARGV[1]: the batch's last seq; ARGV[2]: the batch's stream
// entries, one JSON text a line, each ending in a newline; ARGV[3]: '1' to redrive a dead-lettered
// batch: everything is written and the applied seq is left, but only if it still is ARGV[1] (the
// seq the end state was computed for; else SPOTWIRE_MOVED); ARGV[4]: the batch's first seq; ARGV[5]:
// msgpack (cmsgpack is built into Redis) of the entries' (journal seq, event index) pairs, flat;
// ARGV[6]: msgpack of the state as of the batch's end, as plain commands, always written.
// Batches follow each other without gaps, so an applied seq below the one just before the batch
// means Redis lost data: nothing is written, the pipeline rebuilds it. A batch at or below the
// applied seq writes nothing; of one that overlaps it, entries of commands at or below the applied
// seq are skipped; a stream entry whose id is at or below the stream's top is a replay and is
// skipped too. Ids are formatted with %d: Lua 5.1 would print a number of 15+ digits as 1e+14.
// Node writes the entries' text whole (stream-entry-writer.ts): the script only cuts lines and
// calls XADD, the one Redis call per event.
const APPLY_SCRIPT = `
local applied = tonumber(redis.call('GET', KEYS[1]) or '0')
local redrive = ARGV[3] == '1'
if redrive then
  if applied ~= tonumber(ARGV[1]) then return redis.error_reply('SPOTWIRE_MOVED ' .. applied) end
  applied = -1
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
local text, ids = ARGV[2], cmsgpack.unpack(ARGV[5])
local call, format, find, sub = redis.call, string.format, string.find, string.sub
local at = 1
for i = 1, #ids, 2 do
  local stop = find(text, '\\n', at, true)
  local seq = ids[i]
  if seq > applied then
    if redrive then
      -- Right after the stream's top, so that later entries (ids from journal seqs) still fit;
      -- the second field tells consumers that this id is not the event's journal position.
      topSeq = math.max(topSeq, 0) + 1
      call('XADD', KEYS[2], topMsText .. '-' .. topSeq, 'e', sub(text, at, stop - 1), 'redriven', '1')
    else
      local index = ids[i + 1]
      if seq > topMs or (seq == topMs and index > topSeq) then
        call('XADD', KEYS[2], format('%d-%d', seq, index), 'e', sub(text, at, stop - 1))
        topMs, topSeq = seq, index
      end
    end
  end
  at = stop + 1
end
for _, op in ipairs(cmsgpack.unpack(ARGV[6])) do call(unpack(op)) end
if not redrive then call('SET', KEYS[1], ARGV[1]) end
return applied
`;

const MARK_SCRIPT = `
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

/** Per account, the open-order hash fields to set (field, value, …) and to delete. */
type OrderFields = Map<string, { set: string[]; del: string[] }>;

function fieldsOf(byAccount: OrderFields, account: string): { set: string[]; del: string[] } {
  let fields = byAccount.get(account);
  if (!fields) {
    fields = { set: [], del: [] };
    byAccount.set(account, fields);
  }
  return fields;
}

/** Per account, the balance hash fields to set (asset, JSON value, …); balances are never deleted. */
type BalanceFields = Map<string, string[]>;

function balanceFields(balances: Iterable<BalanceEvent>): BalanceFields {
  const byAccount: BalanceFields = new Map();
  for (const { account, asset, available, hold } of balances) {
    const value = JSON.stringify({ available, hold });
    const fields = byAccount.get(account);
    if (fields) fields.push(asset, value);
    else byAccount.set(account, [asset, value]);
  }
  return byAccount;
}

/** Errors Redis answers when it is busy or degraded, not because the batch is bad. */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'MISCONF', 'READONLY', 'OOM', 'NOSCRIPT'];

interface ScriptedRedis extends Redis {
  spotwireApply(
    appliedKey: string,
    streamKey: string,
    toSeq: string,
    entries: Buffer,
    redrive: '0' | '1',
    fromSeq: string,
    ids: Buffer,
    endState: Buffer,
  ): Promise<unknown>;
  spotwireMark(key: string, seq: string): Promise<unknown>;
}

export class RedisSink implements Sink {
  readonly name = 'redis';
  readonly keys: RedisKeys;
  private readonly redis: ScriptedRedis;
  private readonly packr = new Packr({ useRecords: false });
  private readonly entries = new StreamEntryWriter();
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
    await this.write(batch, null);
  }

  /**
   * Writes a dead-lettered batch after its cause was fixed. Its seqs are at or below the applied
   * seq by then, so the check is off. A stream id must exceed the stream's top, so its events go to
   * the end of the stream, with ids right after the top and a second field `redriven` = `1` (their
   * `seq` says where they belong in the journal). The orders, balances and books it touched are
   * written as they are at the applied seq (`current`), not as the batch left them: later batches may have
   * changed them, and Redis keeps no seq to tell. The script writes only if the applied seq is still
   * the one that state is for; while the pipeline moves it on, the state is brought forward and the
   * call made again.
   */
  async redrive(batch: EventBatch, current: (appliedSeq: number) => Promise<RedriveState>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const appliedSeq = await this.appliedSeq();
      if (appliedSeq < batch.toSeq) {
        throw new Error(
          `${this.name} has applied up to seq ${appliedSeq}, before this batch's end ${batch.toSeq}: the pipeline will write the batch itself`,
        );
      }
      const state = await current(appliedSeq);
      try {
        await this.write(batch, state);
        return;
      } catch (error) {
        const moved = /^SPOTWIRE_MOVED (\d+)/.exec((error as Error).message);
        if (moved === null || attempt === REDRIVE_ATTEMPTS) throw error;
      }
    }
  }

  private async write(batch: EventBatch, redriveAt: RedriveState | null): Promise<void> {
    const { ids, endState } = this.encode(batch, redriveAt);
    const entries = this.entries.take();
    const toSeq = String(redriveAt ? redriveAt.appliedSeq : batch.toSeq);
    // One script call: its single reply (or error) is the batch's outcome, checked by the await.
    try {
      await this.redis.spotwireApply(
        this.keys.appliedSeq,
        this.keys.events,
        toSeq,
        entries,
        redriveAt ? '1' : '0',
        String(batch.fromSeq),
        ids,
        endState,
      );
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
   * Writes the batch's stream entries into `this.entries` and returns their ids and the end state,
   * msgpack-encoded. The end state is coalesced: each touched order once, as of its latest exec (an
   * order opened and filled inside the batch costs an HDEL field, not HSET + HDEL), one HSET and one
   * HDEL per account, and per market only the newest `tradesKept` trades, which are all the trim
   * would leave of the batch's trades anyway; each touched balance once, as of its last balance event
   * (the engine emits one per command with the values the command ended at). A redrive writes the
   * orders, balances and books as of `redriveAt` instead of the batch's own.
   */
  private encode(batch: EventBatch, redriveAt: RedriveState | null): { ids: Buffer; endState: Buffer } {
    const writer = this.entries;
    const ids: number[] = [];
    // Per market, each touched order's latest exec event (order ids are per market).
    const latest = new Map<string, Map<number, ExecEvent>>();
    const trades = new Map<string, TradeEvent[]>();
    // Keyed by account and asset together: the last balance event of each pair wins.
    const balances = new Map<string, BalanceEvent>();
    let latestOfSym: Map<number, ExecEvent> | undefined;
    let latestSym = '';
    for (const command of batch.commands) {
      const seq = command.seq;
      const events = command.events;
      for (let index = 0; index < events.length; index++) {
        const event = events[index]!;
        if (event.kind === 'exec') {
          writer.execEntry(seq, event.account, event.exec);
          ids.push(seq, index);
          const sym = event.exec.sym;
          if (latestOfSym === undefined || sym !== latestSym) {
            latestOfSym = latest.get(sym);
            if (latestOfSym === undefined) {
              latestOfSym = new Map();
              latest.set(sym, latestOfSym);
            }
            latestSym = sym;
          }
          latestOfSym.set(event.exec.id, event);
        } else if (event.kind === 'trade') {
          writer.tradeEntry(seq, event);
          ids.push(seq, index);
          const list = trades.get(event.sym);
          if (list) list.push(event);
          else trades.set(event.sym, [event]);
        } else if (event.kind === 'balance') {
          balances.set(`${event.account}\u0000${event.asset}`, event);
        } else if (event.kind === 'transfer') {
          writer.transferEntry(seq, event);
          ids.push(seq, index);
        }
        // Level changes are summed up by the depth snapshot written at the end of the batch, balance
        // events by the balances hashes: both are state, not facts a consumer needs one by one.
      }
    }
    const orders = redriveAt ? this.redrivenOrderFields(redriveAt) : this.orderFields(latest);
    const books = redriveAt ? redriveAt.books : batch.books;
    const funds = balanceFields(redriveAt ? redriveAt.balances : balances.values());
    return { ids: this.packr.pack(ids), endState: this.packr.pack(this.endState(books, orders, funds, trades)) };
  }

  /** Per account, the open-order fields to set (field, value, …) and to delete. */
  private orderFields(latest: Map<string, Map<number, ExecEvent>>): OrderFields {
    const byAccount: OrderFields = new Map();
    for (const [sym, orders] of latest) {
      for (const [id, { account, exec }] of orders) {
        const field = openOrderField(sym, id);
        if (exec.status === 'new' || exec.status === 'partial') fieldsOf(byAccount, account).set.push(field, JSON.stringify(exec));
        else fieldsOf(byAccount, account).del.push(field);
      }
    }
    return byAccount;
  }

  private redrivenOrderFields(state: RedriveState): OrderFields {
    const byAccount: OrderFields = new Map();
    for (const { account, exec } of state.open)
      fieldsOf(byAccount, account).set.push(openOrderField(exec.sym, exec.id), JSON.stringify(exec));
    for (const { account, exec } of state.closed) fieldsOf(byAccount, account).del.push(openOrderField(exec.sym, exec.id));
    return byAccount;
  }

  private endState(books: readonly BookTop[], byAccount: OrderFields, funds: BalanceFields, trades: Map<string, TradeEvent[]>): Op[] {
    const ops: Op[] = [];
    for (const [account, { set, del }] of byAccount) {
      const key = this.keys.openOrders(account);
      for (let from = 0; from < set.length; from += 2 * FIELDS_PER_OP)
        ops.push(['HSET', key, ...set.slice(from, from + 2 * FIELDS_PER_OP)]);
      for (let from = 0; from < del.length; from += FIELDS_PER_OP) ops.push(['HDEL', key, ...del.slice(from, from + FIELDS_PER_OP)]);
    }
    for (const [account, set] of funds) {
      const key = this.keys.balances(account);
      for (let from = 0; from < set.length; from += 2 * FIELDS_PER_OP)
        ops.push(['HSET', key, ...set.slice(from, from + 2 * FIELDS_PER_OP)]);
    }
    // A member is the trade's JSON, scored by trade id: adding one again changes nothing, so these
    // need no seq check (a trade trimmed before is trimmed again by the same rule).
    for (const [sym, list] of trades) {
      const key = this.keys.trades(sym);
      const newest = list.slice(-this.tradesKept);
      for (let from = 0; from < newest.length; from += ZADD_CHUNK) {
        const members = ['ZADD', key];
        // Scores as strings: Lua would pass a number of 15+ digits to Redis as 1e+14.
        for (const { kind: _kind, ...trade } of newest.slice(from, from + ZADD_CHUNK))
          members.push(String(trade.tradeId), JSON.stringify(trade));
        ops.push(members);
      }
      ops.push(['ZREMRANGEBYRANK', key, '0', String(-this.tradesKept - 1)]);
    }
    for (const book of books)
      ops.push(...this.topOps(book), [
        'SET',
        this.keys.depth(book.sym),
        JSON.stringify({ seq: book.seq, bids: book.bids, asks: book.asks }),
      ]);
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
    return [
      ['DEL', key],
      ['HSET', key, ...fields],
    ];
  }
}
