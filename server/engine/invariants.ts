// Internal consistency of the whole engine, as exchange-core's validateInternalState: tests call
// it after every command; it returns the first broken invariant, or null when all hold.
import type { BookSide } from './book-side.js';
import type { Account } from './account.js';
import { limitBuyHold, restsAfterMatching, sellHold, waitsForTrigger } from './order-rules.js';
import type { MatchingEngine } from './engine.js';
import type { Order } from './order.js';
import type { OrderBook } from './order-book.js';

function checkSide(book: OrderBook, side: BookSide, seen: Set<Order>): string | null {
  const heap = side.heap.array;
  if (heap.length !== side.levels.size) return `${book.sym} ${side.side}: heap has ${heap.length} levels, map ${side.levels.size}`;
  for (let i = 0; i < heap.length; i++) {
    const level = heap[i]!;
    if (level.heapIndex !== i) return `${book.sym} ${side.side} ${level.px}: heapIndex ${level.heapIndex} at ${i}`;
    if (i > 0 && heap[(i - 1) >> 1]!.key > level.key) return `${book.sym} ${side.side}: heap order broken at ${i}`;
    if (side.levels.get(level.px) !== level) return `${book.sym} ${side.side} ${level.px}: not in the price map`;
    if (level.head === null) return `${book.sym} ${side.side} ${level.px}: empty level kept`;
    let total = 0;
    let count = 0;
    let prev: Order | null = null;
    for (let order: Order | null = level.head; order !== null; order = order.next) {
      if (order.prev !== prev) return `${book.sym} order ${order.id}: broken prev link`;
      if (order.level !== level) return `${book.sym} order ${order.id}: wrong level`;
      if (order.px !== level.px || order.side !== side.side) return `${book.sym} order ${order.id}: px/side differ from its level`;
      if (order.leaves <= 0) return `${book.sym} order ${order.id}: rests with leaves ${order.leaves}`;
      if (book.orders.get(order.id) !== order) return `${book.sym} order ${order.id}: not in the id index`;
      if (!restsAfterMatching(order.kind, order.tif, order.px) || order.waiting) {
        return `${book.sym} order ${order.id}: a ${order.kind}/${order.tif}${order.waiting ? ' waiting' : ''} order rests`;
      }
      if ((order.trigger !== null) !== waitsForTrigger(order.kind))
        return `${book.sym} order ${order.id}: a ${order.kind} with trigger ${order.trigger}`;
      const problem = checkShown(order);
      if (problem !== null) return `${book.sym} order ${order.id}: ${problem}`;
      total += order.shown;
      count++;
      seen.add(order);
      prev = order;
    }
    if (level.tail !== prev) return `${book.sym} ${side.side} ${level.px}: tail is not the last order`;
    if (level.total !== total) return `${book.sym} ${side.side} ${level.px}: total ${level.total} but its orders show ${total}`;
    if (level.count !== count) return `${book.sym} ${side.side} ${level.px}: count ${level.count} but ${count} orders`;
  }
  return null;
}

/**
 * What a resting order shows: all its leaves, or, for an iceberg (a gtc limit order with a display
 * within its parts), a slice of 1 to min(display, leaves); an iceberg's hold still covers its leaves.
 */
function checkShown(order: Order): string | null {
  if (order.display === null) return order.slice === 0 ? null : `slice ${order.slice} without a display`;
  if (order.kind !== 'limit' || order.tif !== 'gtc') return `a ${order.kind}/${order.tif} order with display ${order.display}`;
  if (order.display < 1 || !order.fitsParts(order.leaves)) return `display ${order.display} for leaves ${order.leaves}`;
  if (order.slice < 1 || order.slice > Math.min(order.display, order.leaves))
    return `slice ${order.slice} of display ${order.display}, leaves ${order.leaves}`;
  return null;
}

/**
 * A waiting stop: a stop with a trigger, nothing filled (it has not matched), in no level but in
 * the id index, and in trigger order (a stop-market buy holds nothing while it waits).
 */
function checkStops(book: OrderBook, seen: Set<Order>): string | null {
  const { buys, sells } = book.stops.sides();
  for (const order of [...buys, ...sells]) {
    const what = `${book.sym} stop ${order.id}`;
    if (!order.waiting || !waitsForTrigger(order.kind)) return `${what}: a ${order.kind} order that is not waiting is kept as a stop`;
    if (order.trigger === null || order.trigger < 1) return `${what}: trigger ${order.trigger}`;
    if (order.filled !== 0 || order.level !== null) return `${what}: waiting with filled ${order.filled} or in a level`;
    if (order.display !== null) return `${what}: a stop with display ${order.display}`;
    if (book.orders.get(order.id) !== order) return `${what}: not in the id index`;
    if (seen.has(order)) return `${what}: kept twice`;
    seen.add(order);
  }
  return book.stops.checkOrder();
}

export function checkInvariants(engine: MatchingEngine): string | null {
  // Every open order: resting in a level, or a stop waiting for its trigger.
  const resting = new Set<Order>();
  for (const book of engine.allBooks()) {
    const problem = checkSide(book, book.bids, resting) ?? checkSide(book, book.asks, resting) ?? checkStops(book, resting);
    if (problem) return problem;
    const bestBid = book.bids.best();
    const bestAsk = book.asks.best();
    if (bestBid && bestAsk && bestBid.px >= bestAsk.px) return `${book.sym}: crossed book ${bestBid.px} >= ${bestAsk.px}`;
  }
  let indexed = 0;
  for (const book of engine.allBooks()) indexed += book.orders.size;
  if (indexed !== resting.size) return `id indexes hold ${indexed} orders but ${resting.size} rest or wait`;
  let byAccount = 0;
  for (const [account, entry] of engine.accounts.entries()) {
    if (entry.size === 0) return `account ${account}: kept with no orders`;
    let cids = 0;
    let listed = 0;
    let prev: Order | null = null;
    for (let order = entry.first; order !== null; order = order.accountNext) {
      if (order.accountPrev !== prev || !order.accountListed) return `order ${order.id}: broken link in account ${account}'s list`;
      prev = order;
      listed++;
      if (order.account !== account) return `order ${order.id}: listed under account ${account}`;
      if (!resting.has(order)) return `order ${order.id} of ${account}: open but neither resting nor waiting`;
      if (order.cid !== null) {
        if (entry.cids.get(order.cid) !== order) return `order ${order.id}: cid ${order.cid} not indexed`;
        cids++;
      }
    }
    if (entry.last !== prev || listed !== entry.size) return `account ${account}: list holds ${listed} orders, size says ${entry.size}`;
    if (cids !== entry.cids.size) return `account ${account}: ${entry.cids.size} cids for ${cids} orders with cid`;
    byAccount += entry.size;
  }
  if (byAccount !== resting.size) return `accounts hold ${byAccount} orders but ${resting.size} rest or wait`;
  return checkMoney(engine, resting);
}

/**
 * Conservation (every asset's balances, `@fees` included, sum to its supply), no negative
 * balance, and each account's hold equal to what its open orders hold, each order holding
 * exactly what its rule says for its leaves (a waiting stop what the order it becomes holds).
 * Between commands no order is mid-match, so a market buy never holds anything here.
 */
function checkMoney(engine: MatchingEngine, resting: ReadonlySet<Order>): string | null {
  const { ledger } = engine;
  const holds = new Map<Account, number[]>();
  for (const order of resting) {
    const book = engine.book(order.sym)!;
    const expected =
      order.side === 'sell' ? sellHold(book.money, order.leaves) : order.px === null ? 0 : limitBuyHold(book.money, order.px, order.leaves);
    if (order.hold !== expected) return `order ${order.id} of ${order.account}: holds ${order.hold}, its leaves need ${expected}`;
    const perAsset = holds.get(order.owner) ?? new Array<number>(ledger.assets.length).fill(0);
    perAsset[book.holdAsset(order.side)]! += order.hold;
    holds.set(order.owner, perAsset);
    if (ledger.accounts.get(order.account) !== order.owner) return `order ${order.id}: its owner is not ${order.account}'s`;
  }
  for (let asset = 0; asset < ledger.assets.length; asset++) {
    let sum = 0;
    for (const funds of ledger.accounts.values()) {
      const available = funds.available[asset]!;
      const hold = funds.hold[asset]!;
      const name = ledger.assets[asset]!.asset;
      if (available < 0 || hold < 0) return `${funds.name} ${name}: negative balance ${available}/${hold}`;
      const ordersHold = holds.get(funds)?.[asset] ?? 0;
      if (hold !== ordersHold) return `${funds.name} ${name}: hold ${hold} but its open orders hold ${ordersHold}`;
      sum += available + hold;
    }
    if (sum !== ledger.supply[asset]) return `${ledger.assets[asset]!.asset}: balances sum to ${sum}, supply is ${ledger.supply[asset]}`;
  }
  return null;
}
