// Turns an EventBatch into what Postgres should hold after it: each order's many execs within the
// batch collapse into its final state (an ON CONFLICT upsert may touch a row only once per
// statement, and writing intermediate states would be wasted work); trades stay the engine's
// events, each with the seq of its command. Orders are split by where their place is: one placed
// in this batch is a new row unless the batch was applied before (the sink copies those straight
// into the table), one placed earlier is always an update.
import type { MarketInfo } from '../../../protocol/messages.js';
import type { TradeEvent } from '../../engine/types.js';
import type { EventBatch } from '../event-batch.js';
import type { OrderRow } from '../../../db/schema.js';

export interface BatchRows {
  /** Orders placed by a command of this batch, in their state at its end. */
  readonly placedOrders: OrderRow[];
  /** Orders placed before this batch (or in a dead-lettered one) that it changed. */
  readonly changedOrders: OrderRow[];
  /** Empty when batchRows was given `onTrade`. */
  readonly trades: TradeEvent[];
  /** The journal seq of each trade's command, index for index. */
  readonly tradeSeqs: number[];
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

/**
 * `onTrade`, when given, takes each trade as it is found (the sink encodes it at once, and
 * streams the trades while the scan goes on) instead of collecting them.
 */
export function batchRows(batch: EventBatch, onTrade?: (trade: TradeEvent, seq: number) => void): BatchRows {
  const ordersByMarket = new Map<string, Map<number, OrderRow>>();
  const placedOrders: OrderRow[] = [];
  const changedOrders: OrderRow[] = [];
  const trades: TradeEvent[] = [];
  const tradeSeqs: number[] = [];
  const markets = new Map<string, number>();
  const accounts = new Map<string, number>();
  let lastSym: string | null = null;
  let byId = new Map<number, OrderRow>();

  for (const persisted of batch.commands) {
    const { seq, command } = persisted;
    if (!accounts.has(command.account)) accounts.set(command.account, seq);
    const sym = 'sym' in command ? command.sym : null;
    if (sym !== null && !markets.has(sym)) markets.set(sym, seq);

    for (const event of persisted.events) {
      if (event.kind === 'trade') {
        if (onTrade) {
          onTrade(event, seq);
        } else {
          trades.push(event);
          tradeSeqs.push(seq);
        }
        continue;
      }
      if (event.kind !== 'exec') continue;
      const exec = event.exec;
      // The engine never emits `rejected` for an order it accepted; such an exec has no row.
      if (exec.status === 'rejected') continue;
      // Most execs are the command's own account, just recorded.
      if (event.account !== command.account && !accounts.has(event.account)) accounts.set(event.account, seq);
      // Execs come in runs of one market: the last one's map spares two lookups per exec.
      if (exec.sym !== lastSym) {
        lastSym = exec.sym;
        if (!markets.has(lastSym)) markets.set(lastSym, seq);
        let found = ordersByMarket.get(lastSym);
        if (!found) {
          found = new Map();
          ordersByMarket.set(lastSym, found);
        }
        byId = found;
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
      // An order's first exec comes from its own place when that place is in the batch.
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
      (placed ? placedOrders : changedOrders).push(created);
    }
  }
  return { placedOrders, changedOrders, trades, tradeSeqs, markets, accounts };
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
