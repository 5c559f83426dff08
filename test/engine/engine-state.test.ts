// The engine's exported state (snapshots): a state with no stop order and no iceberg is written
// exactly as version 2 was, one with either as version 3; both restore to an engine that behaves identically,
// and a version this server does not read is refused with a message that says so.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { exportEngineState, restoreEngine, type EngineState } from '../../server/engine/engine-state.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import { checkInvariants } from '../../server/engine/invariants.js';
import { DEFAULT_ENGINE_LIMITS, type EngineCommand } from '../../server/engine/types.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
import { fundAll, MARKETS, place, stop } from '../support/engine-fixtures.js';

const ACCOUNTS = ['alice', 'bob', 'carol'];
const packr = new Packr({ useRecords: false });

/** Places around 100 (limit, market and, when `stops`, stop orders and icebergs) that cross and trigger often. */
function commands(seed: number, count: number, stops: boolean): EngineCommand[] {
  const random = mulberry32(seed);
  const out: EngineCommand[] = [];
  for (let i = 0; i < count; i++) {
    const account = pick(random, ACCOUNTS);
    const side = random() < 0.5 ? 'buy' : 'sell';
    const px = 100 + randomInt(random, -5, 5);
    const roll = random();
    if (stops && roll < 0.25) {
      const limit = side === 'buy' || random() < 0.5;
      out.push(stop(account, side, 100 + randomInt(random, -4, 4), limit ? px : null, randomInt(random, 1, 6), { ts: i }));
    } else if (stops && roll < 0.45) {
      out.push(place(account, side, px, randomInt(random, 12, 30), { ts: i, display: randomInt(random, 1, 6) }));
    } else {
      out.push(place(account, side, roll < 0.35 ? null : px, randomInt(random, 1, 6), { ts: i }));
    }
  }
  return out;
}

function engineAfter(list: readonly EngineCommand[]): MatchingEngine {
  const engine = new MatchingEngine(MARKETS);
  fundAll(engine, ACCOUNTS, 1e12);
  for (const command of list) engine.execute(command);
  return engine;
}

describe('engine state', () => {
  it('without stop orders is version 2, as before, with no stops in any market', () => {
    const state = exportEngineState(engineAfter(commands(1, 400, false)));
    expect(state.version).toBe(2);
    for (const market of state.markets) expect(market).not.toHaveProperty('stops');
    expect(JSON.stringify(state)).not.toContain('trigger');
    expect(JSON.stringify(state)).not.toContain('display');
  });

  it('with stops is version 3 and restores to an engine that goes on identically', () => {
    const list = commands(2, 2_000, true);
    const cut = 1_000;
    const live = engineAfter(list.slice(0, cut));
    const state = exportEngineState(live);
    expect(state.version).toBe(3);
    expect(state.markets[0]!.stops?.length).toBeGreaterThan(0);
    // A triggered stop-limit resting in the book carries its trigger; an iceberg its display and slice.
    const levels = JSON.stringify([state.markets[0]!.bids, state.markets[0]!.asks]);
    expect(levels).toContain('"trigger"');
    expect(levels).toMatch(/"display":\d+,"slice":\d+/);
    const restored = restoreEngine(MARKETS, DEFAULT_ENGINE_LIMITS, structuredClone(state));
    expect(checkInvariants(restored)).toBeNull();
    expect(packr.pack(exportEngineState(restored))).toEqual(packr.pack(state));
    let triggered = 0;
    for (const command of list.slice(cut)) {
      const expected = live.execute(command);
      triggered += expected.events.filter((e) => e.kind === 'exec' && e.exec.triggered).length;
      expect(packr.pack(restored.execute(command))).toEqual(packr.pack(expected));
    }
    expect(triggered).toBeGreaterThan(10);
    expect(packr.pack(exportEngineState(restored))).toEqual(packr.pack(exportEngineState(live)));
  });

  it('a version this server does not read is refused, naming the versions it reads', () => {
    const state = { ...exportEngineState(engineAfter([])), version: 4 } as unknown as EngineState;
    expect(() => restoreEngine(MARKETS, DEFAULT_ENGINE_LIMITS, state)).toThrow(
      'engine state: format version 4, this server reads versions 2 and 3',
    );
  });
});
