// The rows PgSink copies into `trades`, `orders` and `ledger`, in binary COPY format (server/persistence/postgres/copy-binary.ts).
// Each layout names its columns in the order the encoder writes them; COPY and INSERT … SELECT
// statements name them too, and a test checks every layout against the drizzle table (names,
// order, types), so a schema change cannot misalign the values.
import type { TradeEvent } from '../../engine/types.js';
import { InvalidBatchError } from './batch-rows.js';
import { type BinaryCopyWriter, textBound } from './copy-binary.js';
import type { LedgerRow, OrderRow } from '../../../db/schema.js';

export type CopyColumnType = 'text' | 'bigint' | 'integer' | 'boolean';
export type CopyLayout = readonly (readonly [name: string, type: CopyColumnType])[];

export const TRADE_COPY_LAYOUT: CopyLayout = [
  ['market', 'text'],
  ['trade_id', 'bigint'],
  ['price', 'bigint'],
  ['qty', 'bigint'],
  ['maker_order_id', 'bigint'],
  ['taker_order_id', 'bigint'],
  ['maker_account', 'text'],
  ['taker_account', 'text'],
  ['taker_side', 'text'],
  ['seq', 'bigint'],
  ['ts', 'bigint'],
];

export const ORDER_COPY_LAYOUT: CopyLayout = [
  ['market', 'text'],
  ['order_id', 'bigint'],
  ['account', 'text'],
  ['cid', 'text'],
  ['side', 'text'],
  ['kind', 'text'],
  ['tif', 'text'],
  ['post', 'boolean'],
  ['price', 'bigint'],
  ['qty', 'bigint'],
  ['filled', 'bigint'],
  ['status', 'text'],
  ['reason', 'text'],
  ['created_seq', 'bigint'],
  ['updated_seq', 'bigint'],
  ['created_ts', 'bigint'],
  ['updated_ts', 'bigint'],
];

export const LEDGER_COPY_LAYOUT: CopyLayout = [
  ['seq', 'bigint'],
  ['event_index', 'integer'],
  ['leg', 'integer'],
  ['account', 'text'],
  ['asset', 'text'],
  ['kind', 'text'],
  ['amount', 'bigint'],
  ['market', 'text'],
  ['trade_id', 'bigint'],
  ['ref', 'text'],
  ['ts', 'bigint'],
];

/** `"a", "b", …`: the layout's columns for a COPY or INSERT column list. */
export function columnList(layout: CopyLayout): string {
  return layout.map(([name]) => `"${name}"`).join(', ');
}

// Field count word, then per field a length word plus the value (8 bytes for a bigint, 1 for a
// boolean); text fields add their own bound.
const TRADE_FIXED_BYTES = 2 + 11 * 4 + 7 * 8;
const ORDER_FIXED_BYTES = 2 + 17 * 4 + 8 * 8 + 1;
const LEDGER_FIXED_BYTES = 2 + 11 * 4 + 4 * 8 + 2 * 4;

/** One trade as a binary COPY row, with its command's seq. */
export function encodeTrade(writer: BinaryCopyWriter, t: TradeEvent, seq: number): void {
  writer.row(11, TRADE_FIXED_BYTES + textBound(t.sym) + textBound(t.makerAccount) + textBound(t.takerAccount) + textBound(t.takerSide));
  try {
    writer.text(t.sym);
    writer.int8(t.tradeId);
    writer.int8(t.px);
    writer.int8(t.qty);
    writer.int8(t.makerOrderId);
    writer.int8(t.takerOrderId);
    writer.text(t.makerAccount);
    writer.text(t.takerAccount);
    writer.text(t.takerSide);
    writer.int8(seq);
    writer.int8(t.ts);
  } catch (error) {
    throw withContext(error, `seq ${seq}: trade ${t.sym}/${t.tradeId}`);
  }
}

/** Binary COPY rows of `rows`. */
export function encodeOrders(writer: BinaryCopyWriter, rows: readonly OrderRow[]): void {
  for (const o of rows) {
    writer.row(
      17,
      ORDER_FIXED_BYTES +
        textBound(o.market) +
        textBound(o.account) +
        textBound(o.cid) +
        textBound(o.side) +
        textBound(o.kind) +
        textBound(o.tif) +
        textBound(o.status) +
        textBound(o.reason),
    );
    try {
      writer.text(o.market);
      writer.int8(o.orderId);
      writer.text(o.account);
      writer.text(o.cid);
      writer.text(o.side);
      writer.text(o.kind);
      writer.text(o.tif);
      writer.bool(o.post);
      writer.int8OrNull(o.price);
      writer.int8(o.qty);
      writer.int8(o.filled);
      writer.text(o.status);
      writer.text(o.reason);
      writer.int8(o.createdSeq);
      writer.int8(o.updatedSeq);
      writer.int8(o.createdTs);
      writer.int8(o.updatedTs);
    } catch (error) {
      throw withContext(error, `seq ${o.updatedSeq}: order ${o.market}/${o.orderId}`);
    }
  }
}

/** Binary COPY rows of ledger movements. */
export function encodeLedger(writer: BinaryCopyWriter, rows: readonly LedgerRow[]): void {
  for (const r of rows) {
    writer.row(
      11,
      LEDGER_FIXED_BYTES + textBound(r.account) + textBound(r.asset) + textBound(r.kind) + textBound(r.market) + textBound(r.ref),
    );
    try {
      writer.int8(r.seq);
      writer.int4(r.eventIndex);
      writer.int4(r.leg);
      writer.text(r.account);
      writer.text(r.asset);
      writer.text(r.kind);
      writer.int8(r.amount);
      writer.text(r.market);
      writer.int8OrNull(r.tradeId);
      writer.text(r.ref);
      writer.int8(r.ts);
    } catch (error) {
      throw withContext(error, `seq ${r.seq}: ledger ${r.account}/${r.asset} event ${r.eventIndex} leg ${r.leg}`);
    }
  }
}

function withContext(error: unknown, where: string): unknown {
  return error instanceof InvalidBatchError ? new InvalidBatchError(`${where}: ${error.message}`) : error;
}
