// Builders of the `exec` messages the book's reports become, one per shape: the collector wraps
// them in events, the gateway's listener sends them as they are. Each writes its object literal
// whole (no spread of optional extras) because these are the engine's most frequent allocation;
// the key order is part of the encoded output (journal replay compares encoded results, the
// gateway sends them), so every builder keeps the order the protocol type lists:
// type, sym, id, cid, side, status, px, qty, leaves, filled, ts, then the optional field.
import type { CancelReason } from '../../protocol/constants.js';
import type { Exec, Fill } from '../../protocol/messages.js';
import type { Order } from './order.js';

export function plainExec(order: Order, status: Exec['status'], ts: number): Exec {
  return {
    type: 'exec',
    sym: order.sym,
    id: order.id,
    cid: order.cid,
    side: order.side,
    status,
    px: order.px,
    qty: order.qty,
    leaves: order.qty - order.filled,
    filled: order.filled,
    ts,
  };
}

export function fillExec(
  order: Order,
  ts: number,
  tradeId: number,
  px: number,
  qty: number,
  liquidity: Fill['liquidity'],
  fee: number,
  feeAsset: string,
): Exec {
  const leaves = order.qty - order.filled;
  return {
    type: 'exec',
    sym: order.sym,
    id: order.id,
    cid: order.cid,
    side: order.side,
    status: leaves === 0 ? 'filled' : 'partial',
    px: order.px,
    qty: order.qty,
    leaves,
    filled: order.filled,
    ts,
    fill: { tradeId, px, qty, liquidity, fee, feeAsset },
  };
}

/** A cancel reports leaves 0: what was left is no longer open. */
export function canceledExec(order: Order, ts: number, reason: CancelReason): Exec {
  return {
    type: 'exec',
    sym: order.sym,
    id: order.id,
    cid: order.cid,
    side: order.side,
    status: 'canceled',
    px: order.px,
    qty: order.qty,
    leaves: 0,
    filled: order.filled,
    ts,
    reason,
  };
}

export function amendedExec(order: Order, ts: number): Exec {
  return {
    type: 'exec',
    sym: order.sym,
    id: order.id,
    cid: order.cid,
    side: order.side,
    status: order.filled > 0 ? 'partial' : 'new',
    px: order.px,
    qty: order.qty,
    leaves: order.qty - order.filled,
    filled: order.filled,
    ts,
    amended: true,
  };
}

/** A stop that triggered: it now enters as a taker (nothing has filled while it waited). */
export function triggeredExec(order: Order, ts: number): Exec {
  return {
    type: 'exec',
    sym: order.sym,
    id: order.id,
    cid: order.cid,
    side: order.side,
    status: 'new',
    px: order.px,
    qty: order.qty,
    leaves: order.qty - order.filled,
    filled: order.filled,
    ts,
    triggered: true,
  };
}
