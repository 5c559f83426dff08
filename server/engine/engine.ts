// The matching engine: every market's book plus the account index, behind one synchronous
// `execute(command) → result`. Pure and deterministic: no I/O, no clock, no randomness; the same
// commands in the same order always give the same results.
import type { Side } from '../../protocol/constants.js';
import type { Level, MarketInfo, OrderRef, OrderView } from '../../protocol/messages.js';
import { AccountIndex } from './account-index.js';
import type { Order } from './order.js';
import { OrderBook } from './order-book.js';
import {
  DEFAULT_ENGINE_LIMITS,
  type AmendCommand,
  type CancelAllCommand,
  type CancelCommand,
  type CommandResult,
  type EngineCommand,
  type EngineEvent,
  type EngineLimits,
  type EventOutput,
  type PlaceCommand,
} from './types.js';

function unknownMarket(sym: string): CommandResult {
  return { ok: false, code: 'unknown_market', msg: `unknown market ${sym}`, events: [] };
}

const UNKNOWN_ORDER: CommandResult = { ok: false, code: 'unknown_order', msg: 'unknown order', events: [] };

export class MatchingEngine {
  private readonly books = new Map<string, OrderBook>();
  readonly accounts = new AccountIndex();
  private readonly output: EventOutput = { enabled: true };

  constructor(
    readonly markets: readonly MarketInfo[],
    private readonly limits: EngineLimits = DEFAULT_ENGINE_LIMITS,
  ) {
    for (const market of markets) this.books.set(market.sym, new OrderBook(market.sym, this.accounts, this.output));
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
    switch (cmd.op) {
      case 'place':
        return this.place(cmd);
      case 'cancel':
        return this.cancel(cmd);
      case 'cancel_all':
        return this.cancelAll(cmd);
      case 'amend':
        return this.amend(cmd);
    }
  }

  /**
   * Runs `commands` with no event objects built: results keep ok, code, id, cid and canceled, but
   * their `events` stay empty. State changes exactly as with events (the same code runs; only the
   * pushes are skipped), and each book's `levelChanges` still counts. For recovery, where the
   * events of replayed commands are never read.
   */
  withoutEvents<T>(commands: () => T): T {
    this.output.enabled = false;
    try {
      return commands();
    } finally {
      this.output.enabled = true;
    }
  }

  /** The account's open orders, in the order they were accepted; all markets when sym is null. */
  openOrders(account: string, sym: string | null): OrderView[] {
    const entry = this.accounts.get(account);
    if (!entry) return [];
    const views: OrderView[] = [];
    for (let order = entry.first; order !== null; order = order.accountNext) {
      if (sym === null || order.sym === sym) views.push(this.books.get(order.sym)!.openOrderView(order));
    }
    return views;
  }

  levels(sym: string, side: Side, depth: number): Level[] {
    return this.books.get(sym)?.levels(side, depth) ?? [];
  }

  private place(cmd: PlaceCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return unknownMarket(cmd.sym);
    const open = this.accounts.get(cmd.account);
    if (cmd.cid !== null && open !== undefined && open.cids.has(cmd.cid)) {
      return { ok: false, code: 'duplicate_cid', msg: `cid ${cmd.cid} is in use by an open order`, events: [] };
    }
    const mayRest = cmd.kind === 'limit' && cmd.tif === 'gtc';
    if (mayRest && (open?.size ?? 0) >= this.limits.maxOpenOrdersPerAccount) {
      return { ok: false, code: 'too_many_orders', msg: 'too many open orders for this account', events: [] };
    }
    return book.place(cmd);
  }

  private cancel(cmd: CancelCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return unknownMarket(cmd.sym);
    const order = this.findOrder(book, cmd.account, cmd.ref);
    if (!order) return UNKNOWN_ORDER;
    const events: EngineEvent[] = [];
    book.cancel(order, 'user', cmd.ts, events);
    return { ok: true, id: order.id, cid: order.cid, events };
  }

  private cancelAll(cmd: CancelAllCommand): CommandResult {
    if (cmd.sym !== null && !this.books.has(cmd.sym)) return unknownMarket(cmd.sym);
    const entry = this.accounts.get(cmd.account);
    const events: EngineEvent[] = [];
    let canceled = 0;
    if (entry) {
      // Copy first: cancel unregisters from the set being walked.
      for (const order of entry.list()) {
        if (cmd.sym !== null && order.sym !== cmd.sym) continue;
        this.books.get(order.sym)!.cancel(order, cmd.reason, cmd.ts, events);
        canceled++;
      }
    }
    return { ok: true, canceled, events };
  }

  private amend(cmd: AmendCommand): CommandResult {
    const book = this.books.get(cmd.sym);
    if (!book) return unknownMarket(cmd.sym);
    const order = this.findOrder(book, cmd.account, cmd.ref);
    if (!order) return UNKNOWN_ORDER;
    return book.amend(order, cmd);
  }

  /** Another account's order is answered exactly as an unknown one. */
  private findOrder(book: OrderBook, account: string, ref: OrderRef): Order | undefined {
    const order = 'id' in ref ? book.orders.get(ref.id) : this.accounts.get(account)?.cids.get(ref.cid);
    if (!order || order.account !== account || order.sym !== book.sym) return undefined;
    return order;
  }
}
