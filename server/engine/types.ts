// What goes into the engine and what comes out. A command carries everything the engine may not
// find out by itself (the account, the time); the result carries every consequence as events, so
// the journal, the gateway and the write-behind only ever read values.
import type { CancelReason, OrderKind, RejectCode, Side, StpMode, Tif, TransferOp } from '../../protocol/constants.js';
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
  /** [Spotwire] A stop's trigger price (kind `stop` only; absent otherwise). */
  readonly trigger?: number;
  /** [Spotwire] An iceberg's slice size (gtc limit orders only; absent otherwise). */
  readonly display?: number;
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
  readonly reason: 'user' | 'disconnect' | 'timeout';
}
export interface AmendCommand {
  readonly op: 'amend';
  readonly ts: number;
  readonly account: string;
  readonly sym: string;
  readonly ref: OrderRef;
  readonly qty: number | null;
  readonly px: number | null;
  /** [Spotwire] A waiting stop's new trigger (absent: unchanged). */
  readonly trigger?: number;
}
/** A deposit or withdrawal; `ref` makes it idempotent. */
export interface TransferCommand {
  readonly op: TransferOp;
  readonly ts: number;
  readonly account: string;
  readonly asset: string;
  readonly amount: number;
  readonly ref: string;
}
export type EngineCommand = PlaceCommand | CancelCommand | CancelAllCommand | AmendCommand | TransferCommand;

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
  /** What moved, in ledger units: base from seller to buyer, quote (the notional) the other way. */
  readonly baseAmount: number;
  readonly quoteAmount: number;
  /** Fees of this fill, each in the asset its side received (base for the buyer). */
  readonly makerFee: number;
  readonly takerFee: number;
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
/** An account's balance of an asset at the end of the command that changed it. */
export interface BalanceEvent {
  readonly kind: 'balance';
  readonly account: string;
  readonly asset: string;
  readonly available: number;
  readonly hold: number;
}
/** A deposit or withdrawal applied (not sent for a duplicate ref). */
export interface TransferEvent {
  readonly kind: 'transfer';
  readonly op: TransferOp;
  readonly account: string;
  readonly asset: string;
  readonly amount: number;
  readonly ref: string;
  readonly ts: number;
}
export type EngineEvent = ExecEvent | TradeEvent | LevelEvent | BalanceEvent | TransferEvent;

/** The outcome of a deposit or withdrawal: the account's balance of the asset after it. */
export interface TransferOutcome {
  readonly ref: string;
  readonly account: string;
  readonly asset: string;
  readonly available: number;
  readonly hold: number;
  /** The ref was applied before: nothing changed, and nothing is journaled. */
  readonly duplicate: boolean;
}

export type CommandResult =
  | {
      readonly ok: true;
      readonly id?: number;
      readonly cid?: string | null;
      readonly canceled?: number;
      readonly transfer?: TransferOutcome;
      readonly events: EngineEvent[];
    }
  | { readonly ok: false; readonly code: RejectCode; readonly msg: string; readonly events: EngineEvent[] };

export type { CancelReason, MarketInfo };

export interface EngineLimits {
  /** Open orders one account may have across all markets; bounds memory per account. */
  readonly maxOpenOrdersPerAccount: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = { maxOpenOrdersPerAccount: 100_000 };
