// An order-entry request of an authenticated account, as the engine command it becomes, and the
// ack its accepted command earns.
import type { TransferOp } from '../../protocol/constants.js';
import type { Ack, AmendRequest, CancelAllRequest, CancelRequest, PlaceRequest, Rid, TransferAck } from '../../protocol/messages.js';
import type { AmendCommand, CommandResult, EngineCommand, PlaceCommand } from '../engine/types.js';
import type { Connection } from './connection.js';

/** Who sent a command, to be answered once it ran; dead-man and disconnect cancels have none. */
export interface Origin {
  readonly connection: Connection;
  readonly op: OrderEntryRequest['op'] | TransferOp;
  readonly rid: Rid | undefined;
  /** A `place` with `retry`: a duplicate_cid from its own first try is answered with that order. */
  readonly retry?: boolean;
}

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

/** The ack of an accepted command: the order's id/cid (or cancel_all's count), a transfer's balance. */
export function ackOf(origin: Origin, command: EngineCommand, result: Extract<CommandResult, { ok: true }>): Ack | TransferAck {
  const { op, rid } = origin;
  if (op === 'deposit' || op === 'withdraw') {
    const outcome = result.transfer!;
    const ack: TransferAck = {
      type: 'ack',
      op,
      ref: outcome.ref,
      account: outcome.account,
      asset: outcome.asset,
      available: outcome.available,
      hold: outcome.hold,
    };
    if (rid !== undefined) ack.rid = rid;
    if (outcome.duplicate) ack.duplicate = true;
    return ack;
  }
  const ack: Ack = { type: 'ack', op };
  if (rid !== undefined) ack.rid = rid;
  if (result.id !== undefined) ack.id = result.id;
  if (result.cid !== undefined) ack.cid = result.cid;
  if (result.canceled !== undefined) ack.canceled = result.canceled;
  ack.ts = command.ts;
  return ack;
}
