// kill -9 harness: the real server runs as a child process while several accounts pipeline
// place/cancel/amend over WebSocket; it is SIGKILLed at seeded random moments and restarted on the
// same data dir. After each restart, every acknowledged order and every reported fill must be there
// exactly once: each account's `orders` equals its model (built from acks and execs only), except
// where a request still in flight at the kill may or may not have happened; the book equals the sum
// of everybody's open orders; order ids and trade ids continue above everything seen before.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../../protocol/messages.js';
import { connect } from '../support/e2e.js';
import { mulberry32, randomInt } from '../support/prng.js';
import { CrashTrader, orderKey, type OrderState } from './crash-trader.js';
import { JOURNAL_MARKETS, makeTempDir } from './journal-support.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

const KILLS = 50;
const SYMS = JOURNAL_MARKETS.map((m) => m.sym);
const ACCOUNTS = ['ann', 'ben', 'cat', 'dan'];

const dir = makeTempDir();
let live: ServerProcess | null = null;
afterAll(async () => {
  if (live) {
    live.kill('SIGKILL');
    await live.exited;
  }
  dir.remove();
});

interface CheckStats {
  certain: number;
  uncertain: number;
  phantoms: number;
}

/** Aggressive quantity in flight at the kill, per market and side, and how far in price it reaches. */
interface InFlightReach {
  qty: number;
  /** The worst price it may trade at: highest for buys, lowest for sells. */
  limit: number;
}

/**
 * The orders a request still in flight at the kill could have changed: those its owner canceled
 * or amended, and on the other side of an aggressive order the price levels it could reach with
 * its quantity (level by level from the best, not counting orders that may have been canceled).
 */
function mayHaveChanged(traders: readonly CrashTrader[]): Set<string> {
  const changed = new Set<string>();
  const reach = new Map<string, InFlightReach>();
  const aggress = (sym: string, side: 'buy' | 'sell', px: number, qty: number): void => {
    const key = `${sym}/${side}`;
    const entry = reach.get(key) ?? { qty: 0, limit: side === 'buy' ? -Infinity : Infinity };
    entry.qty += qty;
    entry.limit = side === 'buy' ? Math.max(entry.limit, px) : Math.min(entry.limit, px);
    reach.set(key, entry);
  };
  for (const trader of traders) {
    for (const request of trader.inFlight.values()) {
      const sym = request.sym as string;
      if (request.op === 'place') {
        const side = request.side as 'buy' | 'sell';
        const px = request.kind === 'market' ? (side === 'buy' ? Infinity : -Infinity) : (request.px as number);
        aggress(sym, side, px, request.qty as number);
      } else if (request.op === 'cancel_all') {
        for (const order of trader.open.values()) if (order.sym === sym) changed.add(`${trader.account}/${orderKey(sym, order.id)}`);
      } else {
        const key = orderKey(sym, request.id as number);
        changed.add(`${trader.account}/${key}`);
        const order = trader.open.get(key);
        // An amend may cross (new price) with up to its new leaves; count it as aggressive.
        if (order) aggress(sym, order.side, typeof request.px === 'number' ? request.px : order.px, Math.max(order.leaves, (request.qty as number | undefined) ?? 0));
      }
    }
  }
  const touched = new Set(changed);
  for (const sym of SYMS) {
    for (const side of ['buy', 'sell'] as const) {
      const incoming = reach.get(`${sym}/${side === 'buy' ? 'sell' : 'buy'}`);
      if (!incoming) continue;
      const resting = traders.flatMap((trader) =>
        [...trader.open.values()].filter((o) => o.sym === sym && o.side === side).map((o) => ({ owner: `${trader.account}/${orderKey(sym, o.id)}`, order: o })),
      );
      const prices = [...new Set(resting.map((r) => r.order.px))].sort((a, b) => (side === 'buy' ? b - a : a - b));
      let consumed = 0;
      for (const px of prices) {
        if (side === 'buy' ? px < incoming.limit : px > incoming.limit) break;
        for (const { owner, order } of resting) {
          if (order.px !== px) continue;
          // Orders their owner may have canceled or shrunk are no liquidity to count on.
          if (!touched.has(owner)) consumed += order.leaves;
          changed.add(owner);
        }
        if (consumed >= incoming.qty) break;
      }
    }
  }
  return changed;
}

function checkRecovered(
  traders: readonly CrashTrader[],
  recovered: ReadonlyMap<CrashTrader, OrderView[]>,
  books: ReadonlyMap<string, { bids: [number, number][]; asks: [number, number][] }>,
  violations: string[],
  stats: CheckStats,
): void {
  const changed = mayHaveChanged(traders);
  const aggregate = new Map<string, Map<number, number>>();
  for (const trader of traders) {
    const views = recovered.get(trader)!;
    const byKey = new Map(views.map((view) => [orderKey(view.sym, view.id), view]));
    const inFlightCids = new Set([...trader.inFlight.values()].filter((r) => r.op === 'place').map((r) => r.cid as string));
    for (const [key, model] of trader.open) {
      const view = byKey.get(key);
      if (!changed.has(`${trader.account}/${key}`)) {
        stats.certain++;
        if (!view) violations.push(`${trader.account}: acked order ${key} ${describeState(model)} lost`);
        else if (!sameState(model, view)) violations.push(`${trader.account}: order ${key} is ${describeView(view)}, reported ${describeState(model)}`);
      } else {
        stats.uncertain++;
        if (view && (view.side !== model.side || view.filled < model.filled)) {
          violations.push(`${trader.account}: order ${key} went back from ${describeState(model)} to ${describeView(view)}`);
        }
      }
    }
    for (const view of views) {
      const key = orderKey(view.sym, view.id);
      if (trader.open.has(key)) continue;
      if (trader.closed.has(key)) violations.push(`${trader.account}: order ${key}, reported closed, is open again`);
      else if (view.cid === null || !inFlightCids.has(view.cid)) violations.push(`${trader.account}: order ${key} (cid ${String(view.cid)}) was never placed`);
      else stats.phantoms++;
    }
    for (const view of views) {
      const levels = aggregate.get(`${view.sym}/${view.side}`) ?? new Map<number, number>();
      levels.set(view.px!, (levels.get(view.px!) ?? 0) + view.leaves);
      aggregate.set(`${view.sym}/${view.side}`, levels);
    }
  }
  for (const sym of SYMS) {
    const book = books.get(sym)!;
    for (const [side, levels] of [['buy', book.bids], ['sell', book.asks]] as const) {
      const expected = [...(aggregate.get(`${sym}/${side}`) ?? new Map<number, number>())].sort((a, b) => (side === 'buy' ? b[0] - a[0] : a[0] - b[0]));
      if (JSON.stringify(expected) !== JSON.stringify(levels)) {
        violations.push(`${sym} ${side} book ${JSON.stringify(levels)} is not the sum of open orders ${JSON.stringify(expected)}`);
      }
    }
  }
}

function sameState(model: OrderState, view: OrderView): boolean {
  return view.side === model.side && view.px === model.px && view.qty === model.qty && view.filled === model.filled && view.leaves === model.leaves;
}

function describeState(state: OrderState): string {
  return `${state.side} ${state.qty}@${state.px} filled ${state.filled}`;
}

function describeView(view: OrderView): string {
  return `${view.side} ${view.qty}@${String(view.px)} filled ${view.filled}`;
}

describe('kill -9 at random moments', () => {
  it(`keeps every acked order and every reported fill exactly once over ${KILLS} kills`, async () => {
    const keysFile = join(dir.path, 'keys.json');
    const marketsFile = join(dir.path, 'markets.json');
    writeFileSync(keysFile, JSON.stringify(ACCOUNTS.map((account) => ({ token: `token-${account}`, account }))));
    writeFileSync(marketsFile, JSON.stringify(JOURNAL_MARKETS));
    const serverOptions = { dataDir: join(dir.path, 'data'), keysFile, marketsFile, snapshotEvery: 300 };
    const random = mulberry32(20_261_125);
    const traders = ACCOUNTS.map((account) => new CrashTrader(account, `token-${account}`, SYMS));
    const violations: string[] = [];
    const stats: CheckStats = { certain: 0, uncertain: 0, phantoms: 0 };
    let kills = 0;
    let tornTails = 0;
    let quiescedKills = 0;
    const started = Date.now();

    for (let cycle = 0; cycle <= KILLS; cycle++) {
      live = await startServerProcess(serverOptions);
      tornTails += live.warnings.filter((w) => /torn/.test(String(w.msg))).length;
      await Promise.all(traders.map((trader) => trader.connect(live!.url)));
      const recovered = new Map<CrashTrader, OrderView[]>();
      for (const trader of traders) recovered.set(trader, (await trader.client!.orders()).orders);
      const watcher = await connect(live.url);
      const books = new Map<string, { bids: [number, number][]; asks: [number, number][] }>();
      for (const sym of SYMS) {
        const book = await watcher.client.subscribeBook(sym, { depth: 1_000 });
        books.set(sym, { bids: book.bids(), asks: book.asks() });
      }
      watcher.client.close();
      checkRecovered(traders, recovered, books, violations, stats);
      expect(violations.slice(0, 10), `after restart ${cycle}`).toEqual([]);

      const ids = new Map<string, number>();
      const tradeIds = new Map<string, number>();
      for (const trader of traders) {
        for (const [sym, id] of trader.maxAckedId) ids.set(sym, Math.max(ids.get(sym) ?? 0, id));
        for (const [sym, id] of trader.maxTradeId) tradeIds.set(sym, Math.max(tradeIds.get(sym) ?? 0, id));
      }
      for (const trader of traders) {
        trader.resetTo(recovered.get(trader)!);
        trader.setFloors(ids, tradeIds);
      }
      if (cycle === KILLS) break;

      let running = true;
      const lanes = traders.flatMap((trader) => [trader.lane(random, () => running), trader.lane(random, () => running)]);
      await new Promise((resume) => setTimeout(resume, randomInt(random, 100, 300)));
      // Every fifth kill comes after everything was answered: then nothing at all is uncertain.
      if (cycle % 5 === 4) {
        running = false;
        await Promise.all(lanes);
        quiescedKills++;
      }
      live.kill('SIGKILL');
      const exit = await live.exited;
      expect(exit.signal).toBe('SIGKILL');
      kills++;
      running = false;
      await Promise.all(lanes);
      for (const trader of traders) trader.client!.close();
      if (cycle % 5 === 4) expect(traders.every((t) => t.inFlight.size === 0)).toBe(true);
    }

    // Graceful stop at the end: SIGTERM flushes and exits 0.
    for (const trader of traders) trader.client!.close();
    const last = live!;
    last.kill('SIGTERM');
    expect(await last.exited).toEqual({ code: 0, signal: null });
    live = null;

    for (const trader of traders) violations.push(...trader.violations);
    const placesAcked = traders.reduce((sum, t) => sum + t.placesAcked, 0);
    const fillsReported = traders.reduce((sum, t) => sum + t.fillsReported, 0);
    console.log(
      `crash harness: ${kills} kills (${quiescedKills} quiesced), ${tornTails} torn tails cut, ${placesAcked} places acked, ` +
        `${fillsReported} fills reported, orders checked exactly ${stats.certain}, allowed to differ ${stats.uncertain}, ` +
        `in-flight places found committed ${stats.phantoms}, ${Math.round((Date.now() - started) / 1000)} s`,
    );
    expect(violations).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(50);
    expect(placesAcked).toBeGreaterThan(1_000);
    expect(fillsReported).toBeGreaterThan(100);
    expect(stats.certain).toBeGreaterThan(stats.uncertain);
  }, 180_000);
});
