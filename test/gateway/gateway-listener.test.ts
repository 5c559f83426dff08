// The gateway's listener against the collector's events routed as results: the same seeded
// requests through two handlers over two engines must put the same messages, in the same order
// and with the same key order, into every connection's batch, and the same trades, changed books
// and balances into the batch.
import { describe, expect, it } from 'vitest';
import type { Request } from '../../protocol/messages.js';
import { DEMO_MARKETS } from '../../server/config.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import type { CommandResult, EngineCommand } from '../../server/engine/types.js';
import { Batch, flattenOutgoing } from '../../server/gateway/batch.js';
import type { Identity } from '../../server/gateway/account-sessions.js';
import { Connection } from '../../server/gateway/connection.js';
import { bookFeeds } from '../../server/gateway/gateway-setup.js';
import { RequestHandler, type HandlerDeps } from '../../server/gateway/request-handler.js';
import { MarketStats } from '../../server/market-data/market-stats.js';
import { createMetrics } from '../../server/metrics.js';

const SYM = 'BTC-USD';
const TRADERS = ['alice', 'bob', 'carol'];
/** alice twice: an account's execs go to each of its connections. */
const CONNECTED = ['alice', 'alice', 'bob', 'carol', 'admin'];

/** Routes the collector's events of each result, as the gateway did before its listener. */
class EventRoutedHandler extends RequestHandler {
  private readonly ownEngine: MatchingEngine;

  constructor(deps: HandlerDeps) {
    super(deps);
    this.ownEngine = deps.engine;
  }

  override execute(_batch: Batch, command: EngineCommand): CommandResult {
    return this.ownEngine.execute(command);
  }
}

function handlerOf(make: (deps: HandlerDeps) => RequestHandler): { handler: RequestHandler; connections: Connection[] } {
  const engine = new MatchingEngine(DEMO_MARKETS);
  for (const account of TRADERS) {
    for (const asset of ['BTC', 'ETH', 'USD']) {
      engine.execute({ op: 'deposit', ts: 0, account, asset, amount: 1e12, ref: `${account}:${asset}` });
    }
  }
  const handler = make({
    engine,
    feeds: bookFeeds(DEMO_MARKETS, engine, new Map()),
    marketStats: new MarketStats(DEMO_MARKETS.map((market) => market.sym)),
    markets: DEMO_MARKETS,
    tokens: new Map<string, Identity>([
      ...TRADERS.map((account): [string, Identity] => [account, { account, role: 'trader' }]),
      ['admin', { account: 'admin', role: 'admin' }],
    ]),
    metrics: createMetrics(),
    clock: () => 1,
    maxConnectionsPerAccount: 0,
  });
  const login = new Batch(1);
  const connections = CONNECTED.map((token, i) => {
    const connection = new Connection(i, null as never, '127.0.0.1', 1e9, 0);
    handler.handle(login, connection, { op: 'login', token, cancelOnDisconnect: false, resumeFrom: null, epoch: null });
    return connection;
  });
  return { handler, connections };
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The next request and which connection sends it: orders of every kind, cancels, amends, transfers. */
function nextRequest(next: () => number, step: number): { from: number; request: Request } {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const from = pick([0, 1, 2, 3]);
  const side = pick(['buy', 'sell'] as const);
  const px = 9_990 + Math.floor(next() * 20);
  const qty = 1 + Math.floor(next() * 5);
  const roll = next();
  const base = { sym: SYM, side, px, qty, tif: 'gtc', post: false, stp: 'none', cid: `c${step}`, rid: step } as const;
  if (roll < 0.45) return { from, request: { op: 'place', kind: 'limit', ...base } };
  if (roll < 0.5) return { from, request: { op: 'place', kind: 'limit', ...base, qty: qty + 4, display: 2 } };
  if (roll < 0.55) return { from, request: { op: 'place', kind: 'market', ...base, px: null, tif: 'ioc' } };
  if (roll < 0.6) return { from, request: { op: 'place', kind: 'stop', ...base, px: null, trigger: side === 'buy' ? px + 5 : px - 5 } };
  if (roll < 0.75) return { from, request: { op: 'cancel', sym: SYM, ref: { cid: `c${step - 1 - Math.floor(next() * 20)}` }, rid: step } };
  if (roll < 0.9) {
    const ref = { cid: `c${step - 1 - Math.floor(next() * 20)}` };
    return { from, request: { op: 'amend', sym: SYM, ref, qty: qty + 1, px: next() < 0.5 ? px : null, rid: step } };
  }
  if (roll < 0.95) return { from, request: { op: 'cancel_all', sym: next() < 0.5 ? SYM : null, rid: step } };
  const account = pick(TRADERS);
  return { from: 4, request: { op: 'deposit', account, asset: pick(['BTC', 'USD']), amount: 1_000, ref: `d${step}`, rid: step } };
}

describe('the gateway listener', () => {
  it('routes what the collector-fed router did, message for message and key for key', () => {
    const live = handlerOf((deps) => new RequestHandler(deps));
    const routed = handlerOf((deps) => new EventRoutedHandler(deps));
    const next = random(9);
    const seen = new Set<string>();
    let step = 0;
    let trades = 0;
    for (let b = 0; b < 400; b++) {
      const batches = [new Batch(1_000 + b), new Batch(1_000 + b)];
      const size = 1 + Math.floor(next() * 12);
      for (let i = 0; i < size; i++, step++) {
        const { from, request } = nextRequest(next, step);
        live.handler.handle(batches[0]!, live.connections[from]!, request);
        routed.handler.handle(batches[1]!, routed.connections[from]!, request);
      }
      live.handler.sendBalances(batches[0]!);
      routed.handler.sendBalances(batches[1]!);
      const [mine, theirs] = batches as [Batch, Batch];
      for (let c = 0; c < CONNECTED.length; c++) {
        const sent = JSON.stringify(flattenOutgoing(mine.perConnection.get(live.connections[c]!) ?? []));
        expect(sent).toBe(JSON.stringify(flattenOutgoing(theirs.perConnection.get(routed.connections[c]!) ?? [])));
        for (const message of flattenOutgoing(mine.perConnection.get(live.connections[c]!) ?? [])) {
          seen.add(
            message.type === 'exec'
              ? `exec ${message.status}${message.triggered ? ' triggered' : ''}${message.amended ? ' amended' : ''}`
              : message.type,
          );
        }
      }
      expect(JSON.stringify([...mine.trades])).toBe(JSON.stringify([...theirs.trades]));
      expect([...mine.changedBooks]).toEqual([...theirs.changedBooks]);
      trades += [...mine.trades.values()].reduce((sum, list) => sum + list.length, 0);
    }
    // The generator reaches every kind of exec and message the listener builds.
    for (const outcome of [
      'exec new',
      'exec partial',
      'exec filled',
      'exec canceled',
      'exec new triggered',
      'exec new amended',
      'balance',
      'ack',
      'reject',
    ]) {
      expect(seen, outcome).toContain(outcome);
    }
    expect(trades).toBeGreaterThan(100);
  });
});
