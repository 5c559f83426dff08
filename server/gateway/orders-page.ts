// One page of an account's open orders, oldest first, for `orders` with `limit`/`after`. A reply
// with every open order could reach megabytes at the open-order cap (and a frame of such requests
// gigabytes), so a reply carries at most MAX_ORDERS_PAGE orders and a cursor to the rest.
//
// The cursor names, per market, the highest id this listing has returned so far, the last
// returned order first. The account's list keeps acceptance order and ids rise per market in that
// order (an amend keeps the order's place), so "already returned" is exactly "id ≤ the cursor's id
// for its market", even when orders were filled or canceled between pages. Usually the last
// returned order is still open and the next page starts right after it; when it is gone, the list
// is walked from the start, skipping what was returned (pointer steps, no views built).
import type { OrderView } from '../../protocol/messages.js';
import type { MatchingEngine } from '../engine/engine.js';
import type { Order } from '../engine/order.js';
import { openOrderView } from '../engine/order-view.js';

export interface OrdersPage {
  readonly orders: OrderView[];
  readonly more: boolean;
  readonly next: string | null;
}

type Cursor = [sym: string, id: number][];

/** The cursor from an `after` string, or null when it is not one this server wrote. */
function parseCursor(text: string): Map<string, number> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length === 0) return null;
  const highest = new Map<string, number>();
  for (const entry of value as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2) return null;
    const [sym, id] = entry as unknown[];
    if (typeof sym !== 'string' || typeof id !== 'number' || !Number.isSafeInteger(id)) return null;
    highest.set(sym, id);
  }
  return highest;
}

/**
 * Open orders of `account` (in `sym`, or all markets when null) after `after`, at most `limit`;
 * a string when `after` is not a cursor.
 */
export function ordersPage(
  engine: MatchingEngine,
  account: string,
  sym: string | null,
  limit: number,
  after: string | null,
): OrdersPage | string {
  const entry = engine.accounts.get(account);
  let highest = new Map<string, number>();
  let start: Order | null = entry?.first ?? null;
  if (after !== null) {
    const parsed = parseCursor(after);
    if (parsed === null) return 'after must be the next of an earlier orders reply';
    highest = parsed;
    const [lastSym, lastId] = parsed.entries().next().value as [string, number];
    const last = engine.book(lastSym)?.orders.get(lastId);
    // Still open and this account's: everything after it in the list is new to this listing.
    if (last !== undefined && last.accountListed && last.account === account) start = last.accountNext;
  }
  const orders: OrderView[] = [];
  let lastReturned: Order | null = null;
  let order = start;
  for (; order !== null; order = order.accountNext) {
    if (sym !== null && order.sym !== sym) continue;
    if (order.id <= (highest.get(order.sym) ?? 0)) continue;
    if (orders.length === limit) break;
    orders.push(openOrderView(order));
    lastReturned = order;
  }
  if (order === null || lastReturned === null) return { orders, more: false, next: null };
  // Ids rise along the list per market, so each market's last view returned is its highest.
  for (const view of orders) highest.set(view.sym, view.id);
  highest.delete(lastReturned.sym);
  const cursor: Cursor = [[lastReturned.sym, lastReturned.id]];
  for (const [market, id] of highest) cursor.push([market, id]);
  return { orders, more: true, next: JSON.stringify(cursor) };
}
