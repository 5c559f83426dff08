// Everything one event-loop turn produced, held until the batch is released (after the journal
// has made its commands durable): replies and execs per connection, book changes and trades per
// market, and subscriptions whose snapshot must reflect the end of the batch.
import type { BookInterval, CandleInterval, Channel, Side } from '../../protocol/constants.js';
import type { Rid, ServerMessage, TickerMessage, TradeMessage } from '../../protocol/messages.js';
import type { JournalEntry } from '../journal/command-codec.js';
import { CommandTally } from './command-tally.js';
import type { Connection } from './connection.js';

/** A `sub` reply placeholder, resolved at seal time into `subbed` (+ the snapshot). */
export interface PendingSub {
  readonly kind: 'pending-sub';
  readonly connection: Connection;
  readonly ch: Channel;
  readonly sym: string;
  readonly depth: number;
  readonly interval: BookInterval;
  /** `candles`: the series and its snapshot's size; `trades`: the recent snapshot's size (null: none). */
  readonly candleInterval: CandleInterval | null;
  readonly limit: number;
  readonly recent: number | null;
  readonly rid: Rid | undefined;
  readonly topic: string;
  /** A backed-up socket's way back into its view: the snapshot alone, no `subbed`. */
  readonly resync: boolean;
  canceled: boolean;
  sealed: boolean;
  messages: ServerMessage[];
}

export type Outgoing = ServerMessage | PendingSub;

/** An account's balance of one asset as the batch's latest command left it. */
export interface NotedBalance {
  readonly asset: string;
  available: number;
  hold: number;
}

export interface TopicFrame {
  readonly topic: string;
  readonly bytes: Uint8Array;
}

export class Batch {
  readonly perConnection = new Map<Connection, Outgoing[]>();
  readonly changedBooks = new Set<string>();
  readonly trades = new Map<string, TradeMessage[]>();
  /** account → asset → its balance at the end of the batch (the last change wins, in place). */
  readonly balances = new Map<string, Map<string, NotedBalance>>();
  readonly pendingSubs: PendingSub[] = [];
  /** Accepted commands that changed state, in order: what the journal must make durable. */
  readonly commands: JournalEntry[] = [];
  readonly topicFrames: TopicFrame[] = [];
  /**
   * The `ts` of the batch's journaled commands (null: it journaled none): the engine time that
   * market data advances to. Replay sets it from the journal record.
   */
  engineTs: number | null = null;
  /** Tickers of the markets this batch may have changed, handed to the conflation at release. */
  readonly tickers: TickerMessage[] = [];
  /** Requests acked in this batch: told `internal` instead if the batch cannot be journaled. */
  readonly acked: { connection: Connection; op: string; rid: Rid | undefined }[] = [];
  /** Requests by op and result, for the commands counter (added to it at seal). */
  readonly tally = new CommandTally();
  requests = 0;
  /**
   * Reply work beyond one unit per request (each order an `orders` page lists, each market and
   * asset of `markets`): what the intake's per-turn budget charges a connection for its replies.
   */
  work = 0;
  /** Work units each connection spent in this batch: they hold its next slices back until release. */
  readonly unitsByConnection = new Map<Connection, number>();

  constructor(readonly ts: number) {}

  send(connection: Connection, message: Outgoing): void {
    const list = this.perConnection.get(connection);
    if (list) list.push(message);
    else this.perConnection.set(connection, [message]);
  }

  noteBalance(account: string, asset: string, available: number, hold: number): void {
    let assets = this.balances.get(account);
    if (assets === undefined) this.balances.set(account, (assets = new Map()));
    const noted = assets.get(asset);
    if (noted === undefined) assets.set(asset, { asset, available, hold });
    else {
      noted.available = available;
      noted.hold = hold;
    }
  }

  /** A trade of the batch, as the `trade` message its market's subscribers get (`side`: the taker's). */
  addTrade(sym: string, tradeId: number, px: number, qty: number, side: Side, ts: number): void {
    const trade: TradeMessage = { type: 'trade', sym, tradeId, px, qty, side, ts };
    const list = this.trades.get(sym);
    if (list) list.push(trade);
    else this.trades.set(sym, [trade]);
  }
}

function isPendingSub(item: Outgoing): item is PendingSub {
  return 'kind' in item && item.kind === 'pending-sub';
}

/** Replaces sub placeholders by the messages they resolved to. */
export function flattenOutgoing(outgoing: readonly Outgoing[]): readonly ServerMessage[] {
  const messages: ServerMessage[] = [];
  for (const item of outgoing) {
    if (isPendingSub(item)) messages.push(...item.messages);
    else messages.push(item as ServerMessage);
  }
  return messages;
}
