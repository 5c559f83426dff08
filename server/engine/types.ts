// What goes into the engine and what comes out. A command carries everything the engine may not
// find out by itself (the account, the time); the result carries every consequence as events, so
// the journal, the gateway and the write-behind only ever read values.
import type { CancelReason, OrderKind, RejectCode, Side, StpMode, Tif } from '../../protocol/constants.js';
import type { Exec, MarketInfo, OrderRef } from '../../protocol/messages.js';

export interface PlaceCommand {
  readonly op: 'place';
  readonly ts: number;
  readonly account: string;
  readonly sym: string;
  readonly side: Side;
  readonly kind: OrderKind;
  readonly px: number | null;
  readonly qty: number;
  readonly tif: Tif;
  readonly post: boolean;
  readonly stp: StpMode;
  readonly cid: string | null;
}
export interface CancelCommand {
  readonly op: 'cancel';
  readonly ts: number;
  readonly account: string;
  readonly sym: string;
  readonly ref: OrderRef;
}
export interface CancelAllCommand {
  readonly op: 'cancel_all';
  readonly ts: number;
  readonly account: string;
  readonly sym: string | null;
  readonly reason: 'user' | 'disconnect';
}
export interface AmendCommand {
  readonly op: 'amend';
  readonly ts: number;
  readonly account: string;
  readonly sym: string;
  readonly ref: OrderRef;
  readonly qty: number | null;
  readonly px: number | null;
}
export type EngineCommand = PlaceCommand | CancelCommand | CancelAllCommand | AmendCommand;

export interface ExecEvent {
  readonly kind: 'exec';
  readonly account: string;
  readonly exec: Exec;
}
export interface TradeEvent {
  readonly kind: 'trade';
  readonly sym: string;
  readonly tradeId: number;
  readonly px: number;
  readonly qty: number;
  readonly takerSide: Side;
  readonly makerOrderId: number;
  readonly takerOrderId: number;
  readonly makerAccount: string;
  readonly takerAccount: string;
  readonly ts: number;
}
/** A price level's new aggregate quantity (0: the level is gone). */
export interface LevelEvent {
  readonly kind: 'level';
  readonly sym: string;
  readonly side: Side;
  readonly px: number;
  readonly qty: number;
}
export type EngineEvent = ExecEvent | TradeEvent | LevelEvent;

export type CommandResult =
  | {
      readonly ok: true;
      readonly id?: number;
      readonly cid?: string | null;
      readonly canceled?: number;
      readonly events: EngineEvent[];
    }
  | { readonly ok: false; readonly code: RejectCode; readonly msg: string; readonly events: EngineEvent[] };

export type { CancelReason, MarketInfo };

/** Shared by an engine and its books: whether events are built (MatchingEngine.withoutEvents). */
export interface EventOutput {
  enabled: boolean;
}

export interface EngineLimits {
  /** Open orders one account may have across all markets; bounds memory per account. */
  readonly maxOpenOrdersPerAccount: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = { maxOpenOrdersPerAccount: 100_000 };
