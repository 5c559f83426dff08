// The one gate between untrusted decoded MessagePack and typed code: `validateRequest` turns an
// `unknown` into a typed Request or a coded Reject. Nothing past it sees `any`. Fields are read only
// as own properties, so prototype keys in a frame (`__proto__`, `constructor`, …) are inert.
import {
  BOOK_INTERVALS,
  type BookInterval,
  CANDLE_INTERVALS,
  CHANNELS,
  DEFAULT_BOOK_DEPTH,
  DEFAULT_CANDLES_LIMIT,
  MAX_CANDLES,
  MAX_RECENT_TRADES,
  MAX_ACCOUNT_LENGTH,
  MAX_CANCEL_AFTER_MS,
  MAX_MY_TRADES_PAGE,
  MIN_CANCEL_AFTER_MS,
  MAX_ASSET_LENGTH,
  MAX_BOOK_DEPTH,
  MAX_CID_LENGTH,
  MAX_CURSOR_LENGTH,
  MAX_ICEBERG_PARTS,
  MAX_ORDERS_PAGE,
  MAX_REF_LENGTH,
  MAX_RID_STRING_LENGTH,
  MAX_SYM_LENGTH,
  MAX_TOKEN_LENGTH,
  OPS,
  ORDER_KINDS,
  REJECT_CODES,
  SIDES,
  STP_MODES,
  TIFS,
  isOneOf,
  type CandleInterval,
  type Channel,
  type Op,
  type OrderKind,
  type RejectCode,
  type Side,
  type Tif,
} from './constants.js';
import type { MarketInfo, OrderRef, Reject, Request, Rid } from './messages.js';
import {
  Invalid,
  field,
  isSafePositiveInteger,
  marketNumber,
  oneOf,
  optionalBoolean,
  optionalMarketNumber,
  optionalNumber,
  optionalString,
  requiredNumber,
  requiredString,
  type Fields,
} from './request-fields.js';

export { isSafePositiveInteger };

/** What the validator knows of markets: only to word a bad px or qty in the market's own units. */
export type MarketTable = ReadonlyMap<string, MarketInfo>;

export type Validated = { ok: true; request: Request } | { ok: false; reject: Reject };

export function makeReject(op: string | null, code: RejectCode, msg: string = REJECT_CODES[code], rid?: Rid): Reject {
  const reject: Reject = { type: 'reject', op, code, msg };
  if (rid !== undefined) reject.rid = rid;
  return reject;
}

function isPlainMap(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function readRid(fields: Fields): Rid | undefined {
  const rid = field(fields, 'rid');
  if (rid === undefined) return undefined;
  if (typeof rid === 'number' && Number.isSafeInteger(rid)) return rid;
  if (typeof rid === 'string' && rid.length <= MAX_RID_STRING_LENGTH) return rid;
  throw new Invalid('bad_request', `rid must be an integer or a string of at most ${MAX_RID_STRING_LENGTH} chars`);
}

/** login's resumeFrom (a pseq: 0 or more) and the epoch it counts in, which it needs. */
function resumeFields(fields: Fields): { resumeFrom: number | null; epoch: string | null } {
  const from = field(fields, 'resumeFrom');
  const epoch = optionalString(fields, 'epoch', MAX_RID_STRING_LENGTH);
  if (from === undefined) return { resumeFrom: null, epoch };
  if (from !== 0 && !isSafePositiveInteger(from)) throw new Invalid('bad_number', 'resumeFrom must be a pseq: an integer of 0 or more');
  if (epoch === null) throw new Invalid('bad_request', 'resumeFrom needs the epoch of the login reply it counts in');
  return { resumeFrom: from as number, epoch };
}

/** A time in ms since the epoch: 0 or more. */
function optionalTime(fields: Fields, key: string): number | null {
  const value = field(fields, key);
  if (value === undefined) return null;
  if (value === 0) return 0;
  return requiredNumber(fields, key);
}

/** `sub` book `interval`: absent is 0 (a delta per batch, the contract's behaviour). */
function bookInterval(fields: Fields): BookInterval {
  const value = field(fields, 'interval');
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(BOOK_INTERVALS as readonly number[]).includes(value)) {
    throw new Invalid('bad_request', `interval must be one of ${BOOK_INTERVALS.join(', ')} (ms)`);
  }
  return value as BookInterval;
}

function orderRef(fields: Fields): OrderRef {
  const id = optionalNumber(fields, 'id');
  if (id !== null) return { id };
  const cid = optionalString(fields, 'cid', MAX_CID_LENGTH);
  if (cid !== null) return { cid };
  throw new Invalid('bad_request', 'id or cid is required');
}

/** `candles` needs its interval; on the other channels the field is ignored. */
function candlesInterval(fields: Fields, ch: Channel): CandleInterval | null {
  if (ch !== 'candles') return null;
  if (field(fields, 'interval') === undefined)
    throw new Invalid('bad_request', `interval is required for candles: one of ${CANDLE_INTERVALS.join(', ')}`);
  return oneOf(fields, 'interval', CANDLE_INTERVALS);
}

/** An optional count of 1 to `max`: 0 or less is bad_number, over `max` bad_request (as book depth). */
function boundedCount(fields: Fields, key: string, max: number): number | null {
  const value = optionalNumber(fields, key);
  if (value !== null && value > max) throw new Invalid('bad_request', `${key} must be at most ${max}`);
  return value;
}

/**
 * A place's px and, for a stop, its trigger: what each kind takes. A stop without px becomes a
 * market order when it triggers, with one a limit order at px (gtc rests what is left, ioc
 * cancels it); fok is refused, since a triggered order can no longer be rejected whole.
 */
function placePrices(
  fields: Fields,
  kind: OrderKind,
  side: Side,
  tif: Tif,
  market: MarketInfo | undefined,
): { px: number | null; trigger: number | null } {
  switch (kind) {
    case 'limit':
    case 'market': {
      let px: number | null = null;
      if (kind === 'limit') px = marketNumber(fields, 'px', market);
      else if (field(fields, 'px') !== undefined) throw new Invalid('bad_request', 'market orders take no px');
      if (field(fields, 'trigger') !== undefined) throw new Invalid('bad_request', 'trigger is only for stop orders');
      return { px, trigger: null };
    }
    case 'stop': {
      const px = optionalMarketNumber(fields, 'px', market);
      const trigger = marketNumber(fields, 'trigger', market);
      if (tif === 'fok')
        throw new Invalid('bad_request', 'stop orders take tif gtc or ioc: a stop that triggers can no longer be rejected whole');
      return { px, trigger };
    }
  }
}

/**
 * An iceberg's display, or null: only a gtc limit order rests, so only it has anything to hide. It
 * shows part of its qty (display < qty), in at most MAX_ICEBERG_PARTS slices.
 */
function icebergDisplay(fields: Fields, kind: OrderKind, tif: Tif, qty: number, market: MarketInfo | undefined): number | null {
  if (field(fields, 'display') === undefined) return null;
  if (kind !== 'limit' || tif !== 'gtc') {
    throw new Invalid('bad_request', 'display is only for limit gtc orders (icebergs): an order that does not rest has nothing to hide');
  }
  const display = marketNumber(fields, 'display', market);
  if (display >= qty) throw new Invalid('bad_request', 'display must be less than qty: an iceberg shows a part of its qty at a time');
  if (Math.ceil(qty / display) > MAX_ICEBERG_PARTS) {
    throw new Invalid(
      'bad_request',
      `display must be at least qty / ${MAX_ICEBERG_PARTS}: an iceberg shows at most ${MAX_ICEBERG_PARTS} slices`,
    );
  }
  return display;
}

function parse(op: Op, fields: Fields, rid: Rid | undefined, markets: MarketTable): Request {
  const base = rid === undefined ? {} : { rid };
  switch (op) {
    case 'login':
      return {
        op,
        ...base,
        token: requiredString(fields, 'token', MAX_TOKEN_LENGTH),
        cancelOnDisconnect: optionalBoolean(fields, 'cancelOnDisconnect'),
        ...resumeFields(fields),
      };
    case 'markets':
    case 'ping':
      return { op, ...base };
    case 'sub': {
      const ch = oneOf(fields, 'ch', CHANNELS);
      const sym = requiredString(fields, 'sym', MAX_SYM_LENGTH);
      const depth = optionalNumber(fields, 'depth') ?? DEFAULT_BOOK_DEPTH;
      if (depth > MAX_BOOK_DEPTH) throw new Invalid('bad_request', `depth must be at most ${MAX_BOOK_DEPTH}`);
      // `interval` means ms of merging on book, a series on candles; the other channels ignore it.
      const interval = ch === 'book' ? bookInterval(fields) : 0;
      const candleInterval = candlesInterval(fields, ch);
      const limit = (ch === 'candles' ? boundedCount(fields, 'limit', MAX_CANDLES) : null) ?? DEFAULT_CANDLES_LIMIT;
      const recent = ch === 'trades' ? boundedCount(fields, 'recent', MAX_RECENT_TRADES) : null;
      return { op, ...base, ch, sym, depth, interval, candleInterval, limit, recent };
    }
    case 'unsub': {
      const ch = oneOf(fields, 'ch', CHANNELS);
      return { op, ...base, ch, sym: requiredString(fields, 'sym', MAX_SYM_LENGTH), candleInterval: candlesInterval(fields, ch) };
    }
    case 'place': {
      const sym = requiredString(fields, 'sym', MAX_SYM_LENGTH);
      const side = oneOf(fields, 'side', SIDES);
      const kind = oneOf(fields, 'kind', ORDER_KINDS);
      const market = markets.get(sym);
      const qty = marketNumber(fields, 'qty', market);
      const tif = oneOf(fields, 'tif', TIFS, 'gtc');
      const post = optionalBoolean(fields, 'post');
      const stp = oneOf(fields, 'stp', STP_MODES, 'none');
      const cid = optionalString(fields, 'cid', MAX_CID_LENGTH);
      const { px, trigger } = placePrices(fields, kind, side, tif, market);
      if (post && (kind !== 'limit' || tif !== 'gtc')) {
        throw new Invalid('bad_request', 'post is only for limit gtc orders');
      }
      const display = icebergDisplay(fields, kind, tif, qty, market);
      const retry = optionalBoolean(fields, 'retry');
      if (retry && cid === null) throw new Invalid('bad_request', 'retry needs the cid of the place it repeats');
      return {
        op,
        ...base,
        sym,
        side,
        kind,
        px,
        qty,
        tif,
        post,
        stp,
        cid,
        ...(trigger !== null ? { trigger } : {}),
        ...(display !== null ? { display } : {}),
        ...(retry ? { retry } : {}),
      };
    }
    case 'cancel':
    case 'order':
      return { op, ...base, sym: requiredString(fields, 'sym', MAX_SYM_LENGTH), ref: orderRef(fields) };
    case 'cancel_all':
      return { op, ...base, sym: optionalString(fields, 'sym', MAX_SYM_LENGTH) };
    case 'orders': {
      const sym = optionalString(fields, 'sym', MAX_SYM_LENGTH);
      const limit = optionalNumber(fields, 'limit') ?? MAX_ORDERS_PAGE;
      if (limit > MAX_ORDERS_PAGE) throw new Invalid('bad_request', `limit must be at most ${MAX_ORDERS_PAGE}`);
      const after = optionalString(fields, 'after', MAX_CURSOR_LENGTH);
      return { op, ...base, sym, limit, after };
    }
    case 'amend': {
      const sym = requiredString(fields, 'sym', MAX_SYM_LENGTH);
      const ref = orderRef(fields);
      const market = markets.get(sym);
      const qty = optionalMarketNumber(fields, 'qty', market);
      const px = optionalMarketNumber(fields, 'px', market);
      const trigger = optionalMarketNumber(fields, 'trigger', market);
      if (qty === null && px === null && trigger === null) throw new Invalid('bad_request', 'amend needs qty, px and/or trigger');
      if (field(fields, 'display') !== undefined)
        throw new Invalid('bad_request', "an iceberg's display cannot be amended: cancel it and place it again");
      return { op, ...base, sym, ref, qty, px, ...(trigger !== null ? { trigger } : {}) };
    }
    case 'balances':
      return { op, ...base, account: optionalString(fields, 'account', MAX_ACCOUNT_LENGTH) };
    case 'my_trades': {
      const sym = optionalString(fields, 'sym', MAX_SYM_LENGTH);
      const limit = optionalNumber(fields, 'limit') ?? 100;
      if (limit > MAX_MY_TRADES_PAGE) throw new Invalid('bad_request', `limit must be at most ${MAX_MY_TRADES_PAGE}`);
      const from = optionalTime(fields, 'from');
      const to = optionalTime(fields, 'to');
      if (from !== null && to !== null && to <= from) throw new Invalid('bad_request', 'to must be after from');
      const after = optionalString(fields, 'after', MAX_CURSOR_LENGTH);
      const before = optionalNumber(fields, 'before');
      if (after !== null && before !== null) throw new Invalid('bad_request', 'give before or after, not both');
      return { op, ...base, sym, limit, before, after, from, to };
    }
    case 'cancel_after': {
      const raw = field(fields, 'timeout');
      if (raw === undefined) throw new Invalid('bad_request', 'timeout is required');
      const timeout = raw === 0 ? 0 : requiredNumber(fields, 'timeout');
      if (timeout !== 0 && (timeout < MIN_CANCEL_AFTER_MS || timeout > MAX_CANCEL_AFTER_MS)) {
        throw new Invalid('bad_number', `timeout must be 0 (off) or ${MIN_CANCEL_AFTER_MS} to ${MAX_CANCEL_AFTER_MS} ms`);
      }
      return { op, ...base, timeout };
    }
    case 'deposit':
    case 'withdraw':
      return {
        op,
        ...base,
        account: requiredString(fields, 'account', MAX_ACCOUNT_LENGTH),
        asset: requiredString(fields, 'asset', MAX_ASSET_LENGTH),
        amount: requiredNumber(fields, 'amount'),
        ref: requiredString(fields, 'ref', MAX_REF_LENGTH),
      };
  }
}

const NO_MARKETS: MarketTable = new Map();

/**
 * A reject for a message refused before validation (rate limited): it echoes the message's op
 * and rid when they are readable, as validation's rejects do.
 */
export function rejectUnread(value: unknown, code: RejectCode): Reject {
  if (!isPlainMap(value)) return makeReject(null, code);
  const op = field(value, 'op');
  const rid = field(value, 'rid');
  const readableRid =
    (typeof rid === 'number' && Number.isSafeInteger(rid)) || (typeof rid === 'string' && rid.length <= MAX_RID_STRING_LENGTH);
  return makeReject(
    typeof op === 'string' && op.length <= 32 ? op : null,
    code,
    REJECT_CODES[code],
    readableRid ? (rid as Rid) : undefined,
  );
}

/** Turns one decoded message of a frame into a typed request, or a reject that names why. */
export function validateRequest(value: unknown, markets: MarketTable = NO_MARKETS): Validated {
  if (!isPlainMap(value)) {
    return { ok: false, reject: makeReject(null, 'bad_request', 'each message must be a map') };
  }
  const rawOp = field(value, 'op');
  const op = typeof rawOp === 'string' && rawOp.length <= 32 ? rawOp : null;
  let rid: Rid | undefined;
  try {
    rid = readRid(value);
    if (!isOneOf(OPS, rawOp)) {
      throw new Invalid('bad_request', rawOp === undefined ? 'op is required' : `unknown op; the ops are ${OPS.join(', ')}`);
    }
    return { ok: true, request: parse(rawOp, value, rid, markets) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, reject: makeReject(op, error.code, error.msg, rid) };
    throw error;
  }
}
