// The one gate between untrusted decoded MessagePack and typed code: `validateRequest` turns an
// `unknown` into a typed Request or a coded Reject. Nothing past it sees `any`. Fields are read only
// as own properties, so prototype keys in a frame (`__proto__`, `constructor`, …) are inert.
import {
  CHANNELS,
  DEFAULT_BOOK_DEPTH,
  MAX_ACCOUNT_LENGTH,
  MAX_ASSET_LENGTH,
  MAX_BOOK_DEPTH,
  MAX_CID_LENGTH,
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
  type Op,
  type RejectCode,
} from './constants.js';
import type { OrderRef, Reject, Request, Rid } from './messages.js';

export type Validated = { ok: true; request: Request } | { ok: false; reject: Reject };

type Fields = Readonly<Record<string, unknown>>;

/** A reject thrown inside validation only; caught in `validateRequest` and returned as a value. */
class Invalid {
  constructor(
    readonly code: RejectCode,
    readonly msg: string,
  ) {}
}

export function isSafePositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

export function makeReject(
  op: string | null,
  code: RejectCode,
  msg: string = REJECT_CODES[code],
  rid?: Rid,
): Reject {
  const reject: Reject = { type: 'reject', op, code, msg };
  if (rid !== undefined) reject.rid = rid;
  return reject;
}

function isPlainMap(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** An own property, with nil treated as absent (msgpack has no `undefined`). */
function field(fields: Fields, key: string): unknown {
  if (!Object.hasOwn(fields, key)) return undefined;
  const value = fields[key];
  return value === null ? undefined : value;
}

function readRid(fields: Fields): Rid | undefined {
  const rid = field(fields, 'rid');
  if (rid === undefined) return undefined;
  if (typeof rid === 'number' && Number.isSafeInteger(rid)) return rid;
  if (typeof rid === 'string' && rid.length <= MAX_RID_STRING_LENGTH) return rid;
  throw new Invalid('bad_request', `rid must be an integer or a string of at most ${MAX_RID_STRING_LENGTH} chars`);
}

function requiredString(fields: Fields, key: string, maxLength: number): string {
  const value = field(fields, key);
  if (value === undefined) throw new Invalid('bad_request', `${key} is required`);
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new Invalid('bad_request', `${key} must be a string of 1 to ${maxLength} chars`);
  }
  return value;
}

function optionalString(fields: Fields, key: string, maxLength: number): string | null {
  return field(fields, key) === undefined ? null : requiredString(fields, key, maxLength);
}

function requiredNumber(fields: Fields, key: string): number {
  const value = field(fields, key);
  if (value === undefined) throw new Invalid('bad_request', `${key} is required`);
  if (!isSafePositiveInteger(value)) throw new Invalid('bad_number', `${key} must be a safe positive integer`);
  return value;
}

function optionalNumber(fields: Fields, key: string): number | null {
  return field(fields, key) === undefined ? null : requiredNumber(fields, key);
}

function optionalBoolean(fields: Fields, key: string): boolean {
  const value = field(fields, key);
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new Invalid('bad_request', `${key} must be a boolean`);
  return value;
}

function oneOf<T extends string>(fields: Fields, key: string, table: readonly T[], fallback?: T): T {
  const value = field(fields, key);
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Invalid('bad_request', `${key} is required`);
  }
  if (!isOneOf(table, value)) throw new Invalid('bad_request', `${key} must be one of ${table.join(', ')}`);
  return value;
}

function orderRef(fields: Fields): OrderRef {
  const id = optionalNumber(fields, 'id');
  if (id !== null) return { id };
  const cid = optionalString(fields, 'cid', MAX_CID_LENGTH);
  if (cid !== null) return { cid };
  throw new Invalid('bad_request', 'id or cid is required');
}

function parse(op: Op, fields: Fields, rid: Rid | undefined): Request {
  const base = rid === undefined ? {} : { rid };
  switch (op) {
    case 'login':
      return {
        op,
        ...base,
        token: requiredString(fields, 'token', MAX_TOKEN_LENGTH),
        cancelOnDisconnect: optionalBoolean(fields, 'cancelOnDisconnect'),
      };
    case 'markets':
    case 'ping':
      return { op, ...base };
    case 'sub': {
      const ch = oneOf(fields, 'ch', CHANNELS);
      const sym = requiredString(fields, 'sym', MAX_SYM_LENGTH);
      const depth = optionalNumber(fields, 'depth') ?? DEFAULT_BOOK_DEPTH;
      if (depth > MAX_BOOK_DEPTH) throw new Invalid('bad_request', `depth must be at most ${MAX_BOOK_DEPTH}`);
      return { op, ...base, ch, sym, depth };
    }
    case 'unsub':
      return { op, ...base, ch: oneOf(fields, 'ch', CHANNELS), sym: requiredString(fields, 'sym', MAX_SYM_LENGTH) };
    case 'place': {
      const sym = requiredString(fields, 'sym', MAX_SYM_LENGTH);
      const side = oneOf(fields, 'side', SIDES);
      const kind = oneOf(fields, 'kind', ORDER_KINDS);
      const qty = requiredNumber(fields, 'qty');
      const tif = oneOf(fields, 'tif', TIFS, 'gtc');
      const post = optionalBoolean(fields, 'post');
      const stp = oneOf(fields, 'stp', STP_MODES, 'none');
      const cid = optionalString(fields, 'cid', MAX_CID_LENGTH);
      let px: number | null = null;
      if (kind === 'limit') {
        px = requiredNumber(fields, 'px');
      } else if (field(fields, 'px') !== undefined) {
        throw new Invalid('bad_request', 'market orders take no px');
      }
      if (post && (kind !== 'limit' || tif !== 'gtc')) {
        throw new Invalid('bad_request', 'post is only for limit gtc orders');
      }
      return { op, ...base, sym, side, kind, px, qty, tif, post, stp, cid };
    }
    case 'cancel':
      return { op, ...base, sym: requiredString(fields, 'sym', MAX_SYM_LENGTH), ref: orderRef(fields) };
    case 'cancel_all':
    case 'orders':
      return { op, ...base, sym: optionalString(fields, 'sym', MAX_SYM_LENGTH) };
    case 'amend': {
      const sym = requiredString(fields, 'sym', MAX_SYM_LENGTH);
      const ref = orderRef(fields);
      const qty = optionalNumber(fields, 'qty');
      const px = optionalNumber(fields, 'px');
      if (qty === null && px === null) throw new Invalid('bad_request', 'amend needs qty and/or px');
      return { op, ...base, sym, ref, qty, px };
    }
    case 'balances':
      return { op, ...base, account: optionalString(fields, 'account', MAX_ACCOUNT_LENGTH) };
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

/** Turns one decoded message of a frame into a typed request, or a reject that names why. */
export function validateRequest(value: unknown): Validated {
  if (!isPlainMap(value)) {
    return { ok: false, reject: makeReject(null, 'bad_request', 'each message must be a map') };
  }
  const rawOp = field(value, 'op');
  const op = typeof rawOp === 'string' && rawOp.length <= 32 ? rawOp : null;
  let rid: Rid | undefined;
  try {
    rid = readRid(value);
    if (!isOneOf(OPS, rawOp)) {
      throw new Invalid('bad_request', rawOp === undefined ? 'op is required' : 'unknown op');
    }
    return { ok: true, request: parse(rawOp, value, rid) };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, reject: makeReject(op, error.code, error.msg, rid) };
    throw error;
  }
}
