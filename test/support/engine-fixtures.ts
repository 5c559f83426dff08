// Shared builders for engine tests: markets, terse command constructors and a snapshot of all
// observable engine state (so a test can show that a reject changed nothing).
import { FEES_ACCOUNT, type Side } from '../../protocol/constants.js';
import type { BalanceView, Level, MarketInfo, OrderRef, OrderView } from '../../protocol/messages.js';
import type { MatchingEngine } from '../../server/engine/engine.js';
import type {
  AmendCommand,
  CancelAllCommand,
  CancelCommand,
  CommandResult,
  EngineEvent,
  ExecEvent,
  LevelEvent,
  PlaceCommand,
  TradeEvent,
  TransferCommand,
} from '../../server/engine/types.js';

export const MARKETS: readonly MarketInfo[] = [
  { sym: 'BTC-USD', base: 'BTC', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 },
  { sym: 'ETH-USD', base: 'ETH', quote: 'USD', pxDecimals: 2, qtyDecimals: 6, makerFee: 0, takerFee: 0 },
];
export const BTC = 'BTC-USD';
export const ETH = 'ETH-USD';

export type PlaceOptions = Partial<Omit<PlaceCommand, 'op'>>;

export function place(account: string, side: Side, px: number | null, qty: number, options: PlaceOptions = {}): PlaceCommand {
  return {
    op: 'place',
    ts: 1_000,
    account,
    sym: BTC,
    side,
    kind: px === null ? 'market' : 'limit',
    px,
    qty,
    tif: 'gtc',
    post: false,
    stp: 'none',
    cid: null,
    ...options,
  };
}

/** A stop order: a stop-limit at `px`, or a stop-market when `px` is null. */
export function stop(
  account: string,
  side: Side,
  trigger: number,
  px: number | null,
  qty: number,
  options: PlaceOptions = {},
): PlaceCommand {
  return place(account, side, px, qty, { kind: 'stop', trigger, ...options });
}

export function cancel(account: string, ref: OrderRef, sym: string = BTC): CancelCommand {
  return { op: 'cancel', ts: 2_000, account, sym, ref };
}

export function cancelAll(account: string, sym: string | null, reason: 'user' | 'disconnect' = 'user'): CancelAllCommand {
  return { op: 'cancel_all', ts: 3_000, account, sym, reason };
}

export function amend(
  account: string,
  ref: OrderRef,
  change: { qty?: number; px?: number; trigger?: number },
  sym: string = BTC,
): AmendCommand {
  const command: AmendCommand = { op: 'amend', ts: 4_000, account, sym, ref, qty: change.qty ?? null, px: change.px ?? null };
  return change.trigger === undefined ? command : { ...command, trigger: change.trigger };
}

export interface EngineSnapshot {
  readonly books: Record<string, { bids: Level[]; asks: Level[]; nextOrderId: number; nextTradeId: number }>;
  readonly orders: Record<string, OrderView[]>;
  readonly balances: Record<string, BalanceView[]>;
  readonly transferRefs: number;
}

/** Everything a client could observe, plus the id counters a reject must not consume. */
export function snapshot(engine: MatchingEngine, accounts: readonly string[]): EngineSnapshot {
  const books: EngineSnapshot['books'] = {};
  for (const market of engine.markets) {
    const book = engine.book(market.sym)!;
    books[market.sym] = {
      bids: engine.levels(market.sym, 'buy', Number.MAX_SAFE_INTEGER),
      asks: engine.levels(market.sym, 'sell', Number.MAX_SAFE_INTEGER),
      nextOrderId: book.nextOrderId,
      nextTradeId: book.nextTradeId,
    };
  }
  const orders: Record<string, OrderView[]> = {};
  const balances: Record<string, BalanceView[]> = {};
  for (const account of [...accounts, FEES_ACCOUNT]) {
    orders[account] = engine.openOrders(account, null);
    balances[account] = engine.balances(account);
  }
  return { books, orders, balances, transferRefs: engine.ledger.refs.size };
}

export function execs(result: CommandResult): ExecEvent['exec'][] {
  return result.events.filter((e): e is ExecEvent => e.kind === 'exec').map((e) => e.exec);
}

export function trades(result: CommandResult): TradeEvent[] {
  return result.events.filter((e): e is TradeEvent => e.kind === 'trade');
}

export function levelEvents(result: CommandResult): LevelEvent[] {
  return result.events.filter((e): e is LevelEvent => e.kind === 'level');
}

/**
 * A compact picture of the book's event stream: `exec:<id>:<status>[:reason][:triggered]`, `trade:<px>x<qty>`,
 * `level:<side>:<px>=<qty>`. Money events are left out (`moneyOutline` shows them).
 */
export function outline(events: readonly EngineEvent[]): string[] {
  return events.filter((e) => e.kind === 'exec' || e.kind === 'trade' || e.kind === 'level').map((e) => describeEvent(e));
}

/** `balance:<account>:<asset>=<available>+<hold>` and `transfer:<op>:<account>:<asset>=<amount>`. */
export function moneyOutline(events: readonly EngineEvent[]): string[] {
  return events.filter((e) => e.kind === 'balance' || e.kind === 'transfer').map((e) => describeEvent(e));
}

/** Deposits of `amount` of every asset to each account: what most engine tests start from. */
export function fundAll(engine: MatchingEngine, accounts: readonly string[], amount: number = FUNDED): void {
  for (const command of fundingCommands(
    accounts,
    amount,
    engine.assets.map((a) => a.asset),
  )) {
    const result = engine.execute(command);
    if (!result.ok) throw new Error(`funding ${command.account} ${command.asset}: ${result.msg}`);
  }
}

/** A quarter of 2^53: three funded accounts can trade anything the level limits allow. */
export const FUNDED = Math.floor(Number.MAX_SAFE_INTEGER / 4);
/** What journal and sink fixtures give each account: ample for their orders, and room for more. */
export const FIXTURE_FUNDING = 1e14;

/** One deposit per account and asset (ref `fund:<account>:<asset>`), to run or journal first. */
export function fundingCommands(
  accounts: readonly string[],
  amount: number = FIXTURE_FUNDING,
  assets: readonly string[] = ['BTC', 'ETH', 'USD'],
): TransferCommand[] {
  return accounts.flatMap((account) =>
    assets.map((asset): TransferCommand => ({ op: 'deposit', ts: 0, account, asset, amount, ref: `fund:${account}:${asset}` })),
  );
}

function describeEvent(e: EngineEvent): string {
  switch (e.kind) {
    case 'exec':
      return `exec:${e.exec.id}:${e.exec.status}${e.exec.reason ? `:${e.exec.reason}` : ''}${e.exec.triggered ? ':triggered' : ''}`;
    case 'trade':
      return `trade:${e.px}x${e.qty}`;
    case 'level':
      return `level:${e.side}:${e.px}=${e.qty}`;
    case 'balance':
      return `balance:${e.account}:${e.asset}=${e.available}+${e.hold}`;
    case 'transfer':
      return `transfer:${e.op}:${e.account}:${e.asset}=${e.amount}`;
  }
}
