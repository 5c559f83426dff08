// Writes the Redis stream's entries (docs/PERSISTENCE.md "## Redis") as JSON bytes straight into
// one buffer, one entry a line, exactly the bytes JSON.stringify would give. Stringifying each
// value and wrapping it into its entry from string pieces costs twice (V8 flattens the result, and
// msgpack copies it once more); writing bytes with the constant stretches pre-encoded costs about
// one JSON.stringify for the whole entry (bench:redis-sink: CPU per trade), and the buffer goes to
// Redis as the script's argument as it is. The key order of each
// shape is the one the engine's builders create (server/engine/exec-events.ts, and the trade and
// transfer literals of the EventCollector in engine-listener.ts); the `satisfies` tables below break the
// build when a field is added to Exec, Fill, TradeEvent or TransferEvent, and test/persistence/redis-sink.test.ts compares entries with JSON.stringify.
import type { Exec, Fill } from '../../../protocol/messages.js';
import type { TradeEvent, TransferEvent } from '../../engine/types.js';

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

// Every field the writer knows, per shape: adding one to the type without writing it fails here.
// pseq is the gateway's (private streams), never on the engine's execs that are written here.
const EXEC_FIELDS = {
  type: 1,
  pseq: 1,
  sym: 1,
  id: 1,
  cid: 1,
  side: 1,
  status: 1,
  px: 1,
  qty: 1,
  leaves: 1,
  filled: 1,
  ts: 1,
  fill: 1,
  reason: 1,
  amended: 1,
  triggered: 1,
} satisfies Record<keyof Exec, 1>;
const FILL_FIELDS = { tradeId: 1, px: 1, qty: 1, liquidity: 1, fee: 1, feeAsset: 1 } satisfies Record<keyof Fill, 1>;
const TRADE_FIELDS = {
  kind: 1,
  sym: 1,
  tradeId: 1,
  px: 1,
  qty: 1,
  takerSide: 1,
  makerOrderId: 1,
  takerOrderId: 1,
  makerAccount: 1,
  takerAccount: 1,
  baseAmount: 1,
  quoteAmount: 1,
  makerFee: 1,
  takerFee: 1,
  ts: 1,
} satisfies Record<keyof TradeEvent, 1>;
const TRANSFER_FIELDS = { kind: 1, op: 1, account: 1, asset: 1, amount: 1, ref: 1, ts: 1 } satisfies Record<keyof TransferEvent, 1>;
void [EXEC_FIELDS, FILL_FIELDS, TRADE_FIELDS, TRANSFER_FIELDS];

const EMPTY = new Uint8Array(0);
const EXEC_ENTRY_HEAD = bytes('{"seq":');
const EXEC_ENTRY_ACCOUNT = bytes(',"kind":"exec","account":');
const EXEC_ENTRY_EXEC_SYM = bytes(',"exec":{"type":"exec","sym":');
const EXEC_ENTRY_END = bytes('}}\n');
const ENTRY_END = bytes('}\n');
const EXEC_ID = bytes(',"id":');
const EXEC_CID = bytes(',"cid":');
const EXEC_CID_NULL = bytes(',"cid":null');
const EXEC_PX = bytes(',"px":');
const EXEC_QTY = bytes(',"qty":');
const EXEC_LEAVES = bytes(',"leaves":');
const EXEC_FILLED = bytes(',"filled":');
const EXEC_TS = bytes(',"ts":');
const EXEC_FILL = bytes(',"fill":{"tradeId":');
const FILL_LIQUIDITY = bytes(',"liquidity":');
const FILL_FEE = bytes(',"fee":');
const FILL_FEE_ASSET = bytes(',"feeAsset":');
const TRADE_BASE_AMOUNT = bytes(',"baseAmount":');
const TRADE_QUOTE_AMOUNT = bytes(',"quoteAmount":');
const TRADE_MAKER_FEE = bytes(',"makerFee":');
const TRADE_TAKER_FEE = bytes(',"takerFee":');
const EXEC_REASON = bytes(',"reason":');
const EXEC_AMENDED = bytes(',"amended":true');
const EXEC_TRIGGERED = bytes(',"triggered":true');
const TRADE_ENTRY_SYM = bytes(',"kind":"trade","sym":');
const TRADE_ID = bytes(',"tradeId":');
const TRADE_TAKER_SIDE = bytes(',"takerSide":');
const TRADE_MAKER_ORDER = bytes(',"makerOrderId":');
const TRADE_TAKER_ORDER = bytes(',"takerOrderId":');
const TRADE_MAKER_ACCOUNT = bytes(',"makerAccount":');
const TRADE_TAKER_ACCOUNT = bytes(',"takerAccount":');
const TRANSFER_ENTRY_OP = bytes(',"kind":"transfer","op":');
const TRANSFER_ACCOUNT = bytes(',"account":');
const TRANSFER_ASSET = bytes(',"asset":');
const TRANSFER_AMOUNT = bytes(',"amount":');
const TRANSFER_REF = bytes(',"ref":');
const NULL = bytes('null');

const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;
// Names seen again and again (markets, accounts, enum values) keep their encoding; bounded.
const MAX_CACHED_STRINGS = 10_000;
const MIN_BUFFER_BYTES = 64 * 1024;

export class StreamEntryWriter {
  private buffer = new Uint8Array(MIN_BUFFER_BYTES);
  private position = 0;
  private readonly encoded = new Map<string, Uint8Array>();
  private readonly accountHeads = new Map<string, Uint8Array>();
  private readonly symIds = new Map<string, Uint8Array>();
  private readonly tradeHeads = new Map<string, Uint8Array>();
  private readonly takerSides = new Map<string, Uint8Array>();
  private readonly makerAccounts = new Map<string, Uint8Array>();
  private readonly takerAccounts = new Map<string, Uint8Array>();
  // Sides and statuses are a handful of enum values.
  private readonly sideStatuses = new Map<string, Map<string, Uint8Array>>();
  private readonly scratch = new Uint8Array(16);

  /**
   * The lines written since the last take, as a Buffer over this writer's memory. The writer moves
   * on to a new buffer sized for a batch like this one (one huge batch does not keep every later
   * buffer huge): ioredis may still hold these bytes, to resend them after a reconnect, when the
   * next batch is written.
   */
  take(): Buffer {
    const taken = Buffer.from(this.buffer.buffer, this.buffer.byteOffset, this.position);
    this.buffer = new Uint8Array(Math.max(MIN_BUFFER_BYTES, this.position + (this.position >> 2)));
    this.position = 0;
    return taken;
  }

  /** `{"seq":…,"kind":"exec","account":…,"exec":{…}}` and a newline. */
  execEntry(seq: number, account: string, exec: Exec): void {
    this.numberAfter(EXEC_ENTRY_HEAD, seq);
    // The constant stretches between numbers go in one piece each: every write has a fixed cost.
    this.raw(this.cached(this.accountHeads, account, EXEC_ENTRY_ACCOUNT, EXEC_ENTRY_EXEC_SYM));
    this.raw(this.cached(this.symIds, exec.sym, EMPTY, EXEC_ID));
    this.number(exec.id);
    if (exec.cid === null) this.raw(EXEC_CID_NULL);
    else {
      this.raw(EXEC_CID);
      this.string(exec.cid);
    }
    this.raw(this.sideStatus(exec.side, exec.status));
    if (exec.px === null) this.raw(NULL);
    else this.number(exec.px);
    this.numberAfter(EXEC_QTY, exec.qty);
    this.numberAfter(EXEC_LEAVES, exec.leaves);
    this.numberAfter(EXEC_FILLED, exec.filled);
    this.numberAfter(EXEC_TS, exec.ts);
    // The builders add at most one of these, after ts.
    const fill = exec.fill;
    if (fill !== undefined) {
      this.numberAfter(EXEC_FILL, fill.tradeId);
      this.numberAfter(EXEC_PX, fill.px);
      this.numberAfter(EXEC_QTY, fill.qty);
      this.raw(FILL_LIQUIDITY);
      this.cachedString(fill.liquidity);
      this.numberAfter(FILL_FEE, fill.fee);
      this.raw(FILL_FEE_ASSET);
      this.cachedString(fill.feeAsset);
      this.byte(CLOSE_BRACE);
    }
    if (exec.reason !== undefined) {
      this.raw(EXEC_REASON);
      this.cachedString(exec.reason);
    }
    if (exec.amended !== undefined) this.raw(EXEC_AMENDED);
    if (exec.triggered !== undefined) this.raw(EXEC_TRIGGERED);
    this.raw(EXEC_ENTRY_END);
  }

  /** `{"seq":…,"kind":"trade",…the trade's fields}` and a newline. */
  tradeEntry(seq: number, trade: TradeEvent): void {
    this.numberAfter(EXEC_ENTRY_HEAD, seq);
    this.raw(this.cached(this.tradeHeads, trade.sym, TRADE_ENTRY_SYM, TRADE_ID));
    this.number(trade.tradeId);
    this.numberAfter(EXEC_PX, trade.px);
    this.numberAfter(EXEC_QTY, trade.qty);
    this.raw(this.cached(this.takerSides, trade.takerSide, TRADE_TAKER_SIDE, TRADE_MAKER_ORDER));
    this.number(trade.makerOrderId);
    this.numberAfter(TRADE_TAKER_ORDER, trade.takerOrderId);
    this.raw(this.cached(this.makerAccounts, trade.makerAccount, TRADE_MAKER_ACCOUNT, TRADE_TAKER_ACCOUNT));
    this.raw(this.cached(this.takerAccounts, trade.takerAccount, EMPTY, TRADE_BASE_AMOUNT));
    this.number(trade.baseAmount);
    this.numberAfter(TRADE_QUOTE_AMOUNT, trade.quoteAmount);
    this.numberAfter(TRADE_MAKER_FEE, trade.makerFee);
    this.numberAfter(TRADE_TAKER_FEE, trade.takerFee);
    this.numberAfter(EXEC_TS, trade.ts);
    this.raw(ENTRY_END);
  }

  /** `{"seq":…,"kind":"transfer",…the transfer's fields}` and a newline. Rare: nothing cached but names. */
  transferEntry(seq: number, transfer: TransferEvent): void {
    this.numberAfter(EXEC_ENTRY_HEAD, seq);
    this.raw(TRANSFER_ENTRY_OP);
    this.cachedString(transfer.op);
    this.raw(TRANSFER_ACCOUNT);
    this.cachedString(transfer.account);
    this.raw(TRANSFER_ASSET);
    this.cachedString(transfer.asset);
    this.numberAfter(TRANSFER_AMOUNT, transfer.amount);
    this.raw(TRANSFER_REF);
    this.string(transfer.ref);
    this.numberAfter(EXEC_TS, transfer.ts);
    this.raw(ENTRY_END);
  }

  /** `before`, the JSON of `name`, `after`, kept per name. */
  private cached(cache: Map<string, Uint8Array>, name: string, before: Uint8Array, after: Uint8Array): Uint8Array {
    let chunk = cache.get(name);
    if (chunk === undefined) {
      if (cache.size >= MAX_CACHED_STRINGS) cache.clear();
      const json = bytes(JSON.stringify(name));
      chunk = new Uint8Array(before.length + json.length + after.length);
      chunk.set(before);
      chunk.set(json, before.length);
      chunk.set(after, before.length + json.length);
      cache.set(name, chunk);
    }
    return chunk;
  }

  /** `,"side":…,"status":…,"px":` */
  private sideStatus(side: string, status: string): Uint8Array {
    let bySide = this.sideStatuses.get(side);
    if (bySide === undefined) {
      bySide = new Map();
      this.sideStatuses.set(side, bySide);
    }
    let chunk = bySide.get(status);
    if (chunk === undefined) {
      chunk = bytes(`,"side":${JSON.stringify(side)},"status":${JSON.stringify(status)},"px":`);
      bySide.set(status, chunk);
    }
    return chunk;
  }

  private ensure(extra: number): void {
    if (this.position + extra <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.position + extra));
    grown.set(this.buffer.subarray(0, this.position));
    this.buffer = grown;
  }

  private byte(value: number): void {
    this.ensure(1);
    this.buffer[this.position++] = value;
  }

  private raw(chunk: Uint8Array): void {
    this.ensure(chunk.length);
    this.buffer.set(chunk, this.position);
    this.position += chunk.length;
  }

  private numberAfter(prefix: Uint8Array, value: number): void {
    this.raw(prefix);
    this.number(value);
  }

  /** A number as JSON.stringify writes it: safe integers digit by digit, in 32-bit arithmetic. */
  private number(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.raw(bytes(JSON.stringify(value)));
      return;
    }
    this.ensure(17);
    let rest = value;
    if (rest < 0) {
      this.buffer[this.position++] = MINUS;
      rest = -rest;
    }
    if (rest >= 1e8) {
      // Below 2^53, the part above the last 8 digits fits 32 bits.
      const high = Math.floor(rest / 1e8);
      this.digits(high, 0);
      this.digits(rest - high * 1e8, 8);
    } else {
      this.digits(rest, 0);
    }
  }

  /** `value` (< 2^31) in decimal, left-padded with zeros to `width`. */
  private digits(value: number, width: number): void {
    const scratch = this.scratch;
    let rest = value | 0;
    let count = 0;
    do {
      const next = (rest / 10) | 0;
      scratch[count++] = ZERO + rest - next * 10;
      rest = next;
    } while (rest > 0);
    while (count < width) scratch[count++] = ZERO;
    const buffer = this.buffer;
    let at = this.position;
    while (count > 0) buffer[at++] = scratch[--count]!;
    this.position = at;
  }

  private cachedString(value: string): void {
    let encoded = this.encoded.get(value);
    if (encoded === undefined) {
      if (this.encoded.size >= MAX_CACHED_STRINGS) this.encoded.clear();
      encoded = bytes(JSON.stringify(value));
      this.encoded.set(value, encoded);
    }
    this.raw(encoded);
  }

  private string(value: string): void {
    this.raw(bytes(JSON.stringify(value)));
  }
}
