// The matching engine: every market's book, the account index and the ledger, behind one
// synchronous `execute(command) → result`. Pure and deterministic: no I/O, no clock, no randomness;
// the same commands in the same order always give the same results.
import type { Side } from '../../protocol/constants.js';
import type { AssetInfo, BalanceView, Level, MarketInfo, OrderRef, OrderView } from '../../protocol/messages.js';
import { AccountIndex } from './account-index.js';
import { deriveAssets, marketMoney } from './assets.js';
import { EventCollector, NO_EVENTS, type EngineListener, type EngineOutput } from './engine-listener.js';
import { Ledger } from './ledger.js';
import type { Order } from './order.js';
import { OrderBook } from './order-book.js';
import { mayStayOpen } from './order-rules.js';
import { openOrderView } from './order-view.js';
import {
  DEFAULT_ENGINE_LIMITS,
  type AmendCommand,
  type CancelAllCommand,
  type CancelCommand,
  type CommandResult,
  type EngineCommand,
  type EngineLimits,
  type PlaceCommand,
  type TransferCommand,
} from './types.js';

function unknownMarket(sym: string): CommandResult {
  return { ok: false, code: 'unknown_market', msg: `unknown market ${sym}`, events: [] };
}

const UNKNOWN_ORDER: CommandResult = { ok: false, code: 'unknown_order', msg: 'unknown order', events: [] };

export class MatchingEngine {
  private readonly books = new Map<string, OrderBook>();
  readonly accounts: AccountIndex;
  readonly ledger: Ledger;
  /** Where books report; by default to the collector, which builds every result's events. */
  private readonly out: EngineOutput;
  private readonly collector: EventCollector;

  constructor(
    readonly markets: readonly MarketInfo[],
    private readonly limits: EngineLimits = DEFAULT_ENGINE_LIMITS,
  ) {
    this.ledger = new Ledger(deriveAssets(markets));
    this.accounts = new AccountIndex(this.ledger.accounts);
    this.out = { listener: null as unknown as EngineListener, events: NO_EVENTS };
    this.collector = new EventCollector(this.out);
    this.out.listener = this.collector;
    for (const market of markets) {
      const money = marketMoney(market, this.ledger.assets);
      this.books.set(market.sym, new OrderBook(market.sym, this.accounts, this.ledger, money, this.out));
    }
  }

  get assets(): readonly AssetInfo[] {
    return this.ledger.assets;
  }

  hasMarket(sym: string): boolean {
    return this.books.has(sym);
  }

  book(sym: string): OrderBook | undefined {
    return this.books.get(sym);
  }

  allBooks(): IterableIterator<OrderBook> {
    return this.books.values();
  }

  execute(cmd: EngineCommand): CommandResult {
    this.ledger.beginCommand();
    const out = this.out;
    if (out.listener === this.collector) out.events = [];
    const result = this.run(cmd);
    if (result.ok) this.reportBalances();
    out.events = NO_EVENTS;
    return result;
  }

  private run(cmd: EngineCommand): CommandResult {
    switch (cmd.op) {
      case 'place':
        return this.place(cmd);
      case 'cancel':
        return this.cancel(cmd);
      case 'cancel_all':
        return this.cancelAll(cmd);
      case 'amend':
        return this.amend(cmd);
      case 'deposit':
      case 'withdraw':
        return this.transfer(cmd);
    }
  }

  /** One report per (account, asset) the command changed, with the balance it ended at. */
  private reportBalances(): void {
    const { touchedFunds, touchedAssets, touchedCount, assets } = this.ledger;
    const listener = this.out.listener;
    for (let i = 0; i < touchedCount; i++) {
      const funds = touchedFunds[i]!;
      const asset = touchedAssets[i]!;
      listener.balanceChanged(funds.name, assets[asset]!.asset, funds.available[asset]!, funds.hold[asset]!);
    }
  }

  /** Every asset's balance of the account, sorted by asset name. */
  balances(account: string): BalanceView[] {
    return this.ledger.balances(account);
  }

  /**
   * Runs `commands` reporting to `listener` instead of the collector: results keep ok, code, id,
   * cid and canceled, but their `events` stay empty. State changes exactly as with events (the
   * same code runs). For replays that need less than every event (engine-listener.ts).
   */
  withListener<T>(listener: EngineListener, commands: () => T): T {
    this.out.listener = listener;
    try {
      return commands();
    } finally {
      this.out.listener = this.collector;
    }
  }

  /** One command reporting to `listener` (withListener without a closure to run). */
  executeWith(listener: EngineListener, cmd: EngineCommand): CommandResult {
    this.out.listener = listener;
    try {
      return this.execute(cmd);
    } finally {
      this.out.listener = this.collector;
    }
  }

  /** The account's open orders, in the order they were accepted; all markets when sym is null. */
  openOrders(account: string, sym: string | null): OrderView[] {
    const entry = this.accounts.get(account);
    if (!entry) return [];
    const views: OrderView[] = [];
    for (let order = entry.first; order !== null; order = order.accountNext) {
      if (sym === null || order.sym === sym) views.push(openOrderView(order));
    }
    return views;
  }

  /** One open order of the account by id or cid, or undefined (another account's counts as none). */
  openOrder(account: string, sym: string, ref: OrderRef): OrderView | undefined {
    const book = this.books.get(sym);
    const order = book && this.findOrder(book, account, ref);
    return order ? openOrderView(order) : undefined;
  }

  levels(sym: string, side: Side, depth: number): Level[] {
    return this.books.get(sym)?.levels(side, depth) ?? [];
  }

  private place(cmd: PlaceCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return unknownMarket(cmd.sym);
    // One lookup by name: the account carries its funds and its open orders.
    const account = this.ledger.peek(cmd.account);
    const open = account?.orders;
    if (cmd.cid !== null && open !== undefined && open.cids.has(cmd.cid)) {
      return { ok: false, code: 'duplicate_cid', msg: `cid ${cmd.cid} is in use by an open order`, events: [] };
    }
    if (mayStayOpen(cmd.kind, cmd.tif) && (open?.size ?? 0) >= this.limits.maxOpenOrdersPerAccount) {
      return { ok: false, code: 'too_many_orders', msg: 'too many open orders for this account', events: [] };
    }
    return book.place(cmd, account);
  }

  private cancel(cmd: CancelCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return unknownMarket(cmd.sym);
    const order = this.findOrder(book, cmd.account, cmd.ref);
    if (!order) return UNKNOWN_ORDER;
    book.cancel(order, 'user', cmd.ts);
    return { ok: true, id: order.id, cid: order.cid, events: this.out.events };
  }

  private cancelAll(cmd: CancelAllCommand): CommandResult {
    if (cmd.sym !== null && !this.books.has(cmd.sym)) return unknownMarket(cmd.sym);
    const entry = this.accounts.get(cmd.account);
    let canceled = 0;
    if (entry) {
      // Copy first: cancel unregisters from the set being walked.
      for (const order of entry.list()) {
        if (cmd.sym !== null && order.sym !== cmd.sym) continue;
        this.books.get(order.sym)!.cancel(order, cmd.reason, cmd.ts);
        canceled++;
      }
    }
    return { ok: true, canceled, events: this.out.events };
  }

  private amend(cmd: AmendCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return unknownMarket(cmd.sym);
    const order = this.findOrder(book, cmd.account, cmd.ref);
    if (!order) return UNKNOWN_ORDER;
    return book.amend(order, cmd);
  }

  /** A deposit or withdrawal; a ref applied before with the same fields is acked again, changing nothing. */
  private transfer(cmd: TransferCommand): CommandResult {
    const { ledger } = this;
    const asset = ledger.assetOf(cmd.asset);
    if (asset === undefined) return { ok: false, code: 'bad_request', msg: `unknown asset ${cmd.asset}: no market names it`, events: [] };
    const seen = ledger.refs.get(cmd.ref);
    if (seen) {
      if (seen.op !== cmd.op || seen.account !== cmd.account || seen.asset !== cmd.asset || seen.amount !== cmd.amount) {
        return { ok: false, code: 'bad_request', msg: `ref ${cmd.ref} was already used for another transfer`, events: [] };
      }
      return { ok: true, transfer: this.transferOutcome(cmd, asset, true), events: this.out.events };
    }
    if (cmd.op === 'deposit') {
      if (!Number.isSafeInteger(ledger.supply[asset]! + cmd.amount)) {
        return { ok: false, code: 'bad_number', msg: `the total of ${cmd.asset} held by all accounts would exceed 2^53-1`, events: [] };
      }
      ledger.credit(ledger.funds(cmd.account), asset, cmd.amount);
      ledger.supply[asset]! += cmd.amount;
    } else {
      const available = ledger.available(cmd.account, asset);
      if (cmd.amount > available) {
        return {
          ok: false,
          code: 'insufficient_funds',
          msg: `withdrawal of ${cmd.amount} ${cmd.asset}, ${available} available`,
          events: [],
        };
      }
      ledger.debit(ledger.funds(cmd.account), asset, cmd.amount);
      ledger.supply[asset]! -= cmd.amount;
    }
    ledger.refs.set(cmd.ref, { op: cmd.op, account: cmd.account, asset: cmd.asset, amount: cmd.amount });
    this.out.listener.transferred(cmd);
    return { ok: true, transfer: this.transferOutcome(cmd, asset, false), events: this.out.events };
  }

  private transferOutcome(
    cmd: TransferCommand,
    asset: number,
    duplicate: boolean,
  ): NonNullable<Extract<CommandResult, { ok: true }>['transfer']> {
    const funds = this.ledger.peek(cmd.account);
    return {
      ref: cmd.ref,
      account: cmd.account,
      asset: cmd.asset,
      available: funds?.available[asset] ?? 0,
      hold: funds?.hold[asset] ?? 0,
      duplicate,
    };
  }

  /** Another account's order is answered exactly as an unknown one. */
  private findOrder(book: OrderBook, account: string, ref: OrderRef): Order | undefined {
    const order = 'id' in ref ? book.orders.get(ref.id) : this.accounts.get(account)?.cids.get(ref.cid);
    if (!order || order.account !== account || order.sym !== book.sym) return undefined;
    return order;
  }
}
