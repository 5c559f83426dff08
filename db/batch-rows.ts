// Turns an EventBatch into the rows Postgres should hold after it: each order's many execs within
// the batch collapse into its final state (an ON CONFLICT upsert may touch a row only once per
// statement, and writing intermediate states would be wasted work), trades become one row each.
import type { MarketInfo } from '../protocol/messages.js';
import type { EventBatch } from '../server/persistence/event-batch.js';
import type { OrderRow, TradeRow } from './schema.js';

export interface BatchRows {
  readonly orders: OrderRow[];
  readonly trades: TradeRow[];
  /** Every market and account the batch mentions, with the first seq that mentions it. */
  readonly markets: Map<string, number>;
  readonly accounts: Map<string, number>;
}

/**
 * An order first seen through an exec that is not its own place (its place went to the
 * dead-letter store, or came before the range replayed) can only be a resting order: a limit gtc.
 * Whether it was post-only is not in the exec, so it is recorded as not.
 */
const RESTING_DEFAULTS = { kind: 'limit', tif: 'gtc', post: false } as const;

/** A batch no retry can store; the sink reports it as permanent. */
export class InvalidBatchError extends Error {
  override readonly name = 'InvalidBatchError';
}

export function batchRows(batch: EventBatch): BatchRows {
  const ordersByMarket = new Map<string, Map<number, OrderRow>>();
  const orders: OrderRow[] = [];
  const trades: TradeRow[] = [];
  const markets = new Map<string, number>();
  const accounts = new Map<string, number>();

  for (const persisted of batch.commands) {
    const { seq, command } = persisted;
    if (!accounts.has(command.account)) accounts.set(command.account, seq);
    if (command.sym !== null && !markets.has(command.sym)) markets.set(command.sym, seq);

    for (const event of persisted.events) {
      if (event.kind === 'trade') {
        trades.push({
          market: event.sym,
          tradeId: event.tradeId,
          price: event.px,
          qty: event.qty,
          makerOrderId: event.makerOrderId,
          takerOrderId: event.takerOrderId,
          makerAccount: event.makerAccount,
          takerAccount: event.takerAccount,
          takerSide: event.takerSide,
          seq,
          ts: event.ts,
        });
        continue;
      }
      if (event.kind !== 'exec') continue;
      const exec = event.exec;
      // The engine never emits `rejected` for an order it accepted; such an exec has no row.
      if (exec.status === 'rejected') continue;
      // JSON turns NaN and ±Infinity into null, which the nullable price column would take as a
      // market order's; every other bad number is refused by Postgres itself.
      if (exec.px !== null && !Number.isFinite(exec.px)) {
        throw new InvalidBatchError(`seq ${seq}: ${exec.sym} order ${exec.id} has price ${exec.px}`);
      }
      if (!accounts.has(event.account)) accounts.set(event.account, seq);
      if (!markets.has(exec.sym)) markets.set(exec.sym, seq);

      let byId = ordersByMarket.get(exec.sym);
      if (!byId) {
        byId = new Map();
        ordersByMarket.set(exec.sym, byId);
      }
      const row = byId.get(exec.id);
      if (row) {
        row.price = exec.px;
        row.qty = exec.qty;
        row.filled = exec.filled;
        row.status = exec.status;
        row.reason = exec.reason ?? null;
        row.updatedSeq = seq;
        row.updatedTs = exec.ts;
        continue;
      }
      const placed = command.op === 'place' && persisted.id === exec.id && command.sym === exec.sym ? command : null;
      const created: OrderRow = {
        market: exec.sym,
        orderId: exec.id,
        account: event.account,
        cid: exec.cid,
        side: exec.side,
        kind: placed ? placed.kind : RESTING_DEFAULTS.kind,
        tif: placed ? placed.tif : RESTING_DEFAULTS.tif,
        post: placed ? placed.post : RESTING_DEFAULTS.post,
        price: exec.px,
        qty: exec.qty,
        filled: exec.filled,
        status: exec.status,
        reason: exec.reason ?? null,
        createdSeq: seq,
        updatedSeq: seq,
        createdTs: placed ? placed.ts : exec.ts,
        updatedTs: exec.ts,
      };
      byId.set(exec.id, created);
      orders.push(created);
    }
  }
  return { orders, trades, markets, accounts };
}

/** A market's descriptive columns, when the sink was told them. */
export function marketDetails(info: MarketInfo | undefined): {
  base: string | null;
  quote: string | null;
  pxDecimals: number | null;
  qtyDecimals: number | null;
} {
  return info
    ? { base: info.base, quote: info.quote, pxDecimals: info.pxDecimals, qtyDecimals: info.qtyDecimals }
    : { base: null, quote: null, pxDecimals: null, qtyDecimals: null };
}
