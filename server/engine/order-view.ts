// An open order as the `orders` and `order` replies show it; a stop adds its trigger and whether
// it has triggered, an iceberg its display.
import type { OrderView } from '../../protocol/messages.js';
import type { Order } from './order.js';

export function openOrderView(order: Order): OrderView {
  const view: OrderView = {
    sym: order.sym,
    id: order.id,
    cid: order.cid,
    side: order.side,
    kind: order.kind,
    tif: order.tif,
    post: order.post,
    px: order.px,
    qty: order.qty,
    filled: order.filled,
    leaves: order.leaves,
    status: order.filled > 0 ? 'partial' : 'new',
    ts: order.ts,
  };
  if (order.trigger !== null) {
    view.trigger = order.trigger;
    view.triggered = !order.waiting;
  }
  if (order.display !== null) view.display = order.display;
  return view;
}
