// Reading one field of an untrusted request map, for validate.ts: own properties only (so
// prototype keys are inert), nil as absent, and the first problem thrown as a coded Invalid,
// which validateRequest catches and returns as a reject. Prices and quantities are read in the
// market's units, so a decimal is answered with what the integer means on that market.
import { FloatValue } from './msgpack-floats.js';
import { isOneOf, type RejectCode } from './constants.js';
import type { MarketInfo } from './messages.js';

export type Fields = Readonly<Record<string, unknown>>;

/** A reject thrown inside validation only; caught in `validateRequest` and returned as a value. */
export class Invalid {
  constructor(
    readonly code: RejectCode,
    readonly msg: string,
  ) {}
}

export function isSafePositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/** An own property, with nil treated as absent (msgpack has no `undefined`). */
export function field(fields: Fields, key: string): unknown {
  if (!Object.hasOwn(fields, key)) return undefined;
  const value = fields[key];
  return value === null ? undefined : value;
}

export function requiredString(fields: Fields, key: string, maxLength: number): string {
  const value = field(fields, key);
  if (value === undefined) throw new Invalid('bad_request', `${key} is required`);
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new Invalid('bad_request', `${key} must be a string of 1 to ${maxLength} chars`);
  }
  return value;
}

export function optionalString(fields: Fields, key: string, maxLength: number): string | null {
  return field(fields, key) === undefined ? null : requiredString(fields, key, maxLength);
}

export function requiredNumber(fields: Fields, key: string): number {
  const value = field(fields, key);
  if (value === undefined) throw new Invalid('bad_request', `${key} is required`);
  if (value instanceof FloatValue)
    throw new Invalid('bad_number', `${key} must be a MessagePack integer, not a float (${value.value} was sent as one)`);
  if (!isSafePositiveInteger(value)) throw new Invalid('bad_number', `${key} must be a safe positive integer`);
  return value;
}

export function optionalNumber(fields: Fields, key: string): number | null {
  return field(fields, key) === undefined ? null : requiredNumber(fields, key);
}

/** `amount` as a decimal with `decimals` places, and that amount in integer units; null when not representable. */
function exampleIn(amount: number, decimals: number): { text: string; units: number } | null {
  const units = Math.round(amount * 10 ** decimals);
  if (!(amount > 0) || !Number.isSafeInteger(units) || units < 1) return null;
  return { text: amount.toFixed(decimals), units };
}

/**
 * A px or qty that is a number but not an integer: almost always a client sending a decimal price.
 * The message says what the integer means on this market, with the client's own value converted
 * (or 100.50 / 0.5 when it cannot be), e.g. "BTC-USD has pxDecimals 2: 100.50 USD is px 10050".
 */
/** A field in the market's units: a price (px, trigger) in ticks, or a quantity (qty, display) in lots. */
export type MarketField = 'px' | 'qty' | 'trigger' | 'display';

function unitsMessage(key: MarketField, value: number, market: MarketInfo | undefined): string {
  const unit = key === 'qty' || key === 'display' ? 'qty' : 'px';
  const what = unit === 'px' ? 'ticks' : 'lots';
  if (market === undefined) return `${key} must be an integer number of ${what} (see pxDecimals and qtyDecimals in markets)`;
  const decimals = unit === 'px' ? market.pxDecimals : market.qtyDecimals;
  const asset = unit === 'px' ? market.quote : market.base;
  const example = exampleIn(value, decimals) ?? exampleIn(unit === 'px' ? 100.5 : 0.5, decimals)!;
  return `${key} must be an integer number of ${what} (${market.sym} has ${unit}Decimals ${decimals}: ${example.text} ${asset} is ${key} ${example.units})`;
}

/** As requiredNumber, with a message in the market's units for a non-integer number. */
export function marketNumber(fields: Fields, key: MarketField, market: MarketInfo | undefined): number {
  const raw = field(fields, key);
  // A float the gateway marked (msgpack-floats.ts) is judged by its number.
  const value = raw instanceof FloatValue ? raw.value : raw;
  if (typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)) {
    throw new Invalid('bad_number', unitsMessage(key, value, market));
  }
  return requiredNumber(fields, key);
}

export function optionalMarketNumber(fields: Fields, key: MarketField, market: MarketInfo | undefined): number | null {
  return field(fields, key) === undefined ? null : marketNumber(fields, key, market);
}

export function optionalBoolean(fields: Fields, key: string): boolean {
  const value = field(fields, key);
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new Invalid('bad_request', `${key} must be a boolean`);
  return value;
}

export function oneOf<T extends string>(fields: Fields, key: string, table: readonly T[], fallback?: T): T {
  const value = field(fields, key);
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Invalid('bad_request', `${key} is required`);
  }
  if (!isOneOf(table, value)) throw new Invalid('bad_request', `${key} must be one of ${table.join(', ')}`);
  return value;
}
