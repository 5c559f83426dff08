// An order-entry request of an authenticated account, as the engine command it becomes.
import type { AmendRequest, CancelAllRequest, CancelRequest, PlaceRequest } from '../../protocol/messages.js';
import type { EngineCommand } from '../engine/types.js';

export type OrderEntryRequest = PlaceRequest | CancelRequest | CancelAllRequest | AmendRequest;

export function orderCommand(request: OrderEntryRequest, account: string, ts: number): EngineCommand {
  switch (request.op) {
    case 'place':
      return {
        op: 'place',
        ts,
        account,
        sym: request.sym,
        side: request.side,
        kind: request.kind,
        px: request.px,
        qty: request.qty,
        tif: request.tif,
        post: request.post,
        stp: request.stp,
        cid: request.cid,
      };
    case 'cancel':
      return { op: 'cancel', ts, account, sym: request.sym, ref: request.ref };
    case 'cancel_all':
      return { op: 'cancel_all', ts, account, sym: request.sym, reason: 'user' };
    case 'amend':
      return { op: 'amend', ts, account, sym: request.sym, ref: request.ref, qty: request.qty, px: request.px };
  }
}
