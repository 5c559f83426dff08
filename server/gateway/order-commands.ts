// An order-entry request of an authenticated account, as the engine command it becomes.
import type { AmendRequest, CancelAllRequest, CancelRequest, PlaceRequest } from '../../protocol/messages.js';
import type { AmendCommand, EngineCommand, PlaceCommand } from '../engine/types.js';

export type OrderEntryRequest = PlaceRequest | CancelRequest | CancelAllRequest | AmendRequest;

export function orderCommand(request: OrderEntryRequest, account: string, ts: number): EngineCommand {
  switch (request.op) {
    case 'place': {
      const command: PlaceCommand = {
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
      // The [Spotwire] fields only when given: a plain place stays the command it always was.
      if (request.trigger === undefined && request.display === undefined) return command;
      return {
        ...command,
        ...(request.trigger !== undefined ? { trigger: request.trigger } : {}),
        ...(request.display !== undefined ? { display: request.display } : {}),
      };
    }
    case 'cancel':
      return { op: 'cancel', ts, account, sym: request.sym, ref: request.ref };
    case 'cancel_all':
      return { op: 'cancel_all', ts, account, sym: request.sym, reason: 'user' };
    case 'amend': {
      const command: AmendCommand = { op: 'amend', ts, account, sym: request.sym, ref: request.ref, qty: request.qty, px: request.px };
      return request.trigger === undefined ? command : { ...command, trigger: request.trigger };
    }
  }
}
