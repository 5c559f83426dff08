// The engine's output, byte for byte: a seeded stream of every command shape (limit/market,
// gtc/ioc/fok, post, every STP mode, cids, cancel by id and cid, cancel_all, amend up/down/move,
// rejects) is run and every result, with its events, is MessagePack-encoded and hashed, and so is
// the exported state at the end. The property test compares values (deep equality ignores key
// order); this pins the encoded bytes the journal replay, the gateway and the write-behind see, so
// a speed-up of the hot path cannot silently reorder or reshape an event. The pinned hash was
// computed with the engine before its allocation work (see bench/HISTORY.md, Engine), and pinned
// again when protocol 1.1 added money: fills carry feeAsset, trades their amounts and fees, and
// each command ends with its balance events.
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { STP_MODES, TIFS } from '../../protocol/constants.js';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { TradesAndChangedBooks } from '../../server/engine/engine-listener.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import { checkInvariants } from '../../server/engine/invariants.js';
import type { EngineCommand } from '../../server/engine/types.js';
import { MARKETS } from '../support/engine-fixtures.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';

const ACCOUNTS = ['alice', 'bob', 'carol', 'dave'];
const SYMS = [...MARKETS.map((m) => m.sym), 'DOGE-USD'];
const COMMANDS = 80_000;
const EXPECTED_SHA256 = '8cf2f33307b74b53e8b683bbf85c467124234af3be8b59f8e7d351542a422f31';

/** dave starts poor, so the stream reaches insufficient_funds too. */
const FUNDING: Record<string, number> = { alice: 1e12, bob: 1e12, carol: 1e12, dave: 3_000 };

export function seededCommands(seed: number, count: number): EngineCommand[] {
  const random = mulberry32(seed);
  const commands: EngineCommand[] = [];
  for (const account of ACCOUNTS) {
    for (const asset of ['BTC', 'ETH', 'USD'])
      commands.push({ op: 'deposit', ts: 0, account, asset, amount: FUNDING[account]!, ref: `fund:${account}:${asset}` });
  }
  const ref = (): { id: number } | { cid: string } =>
    random() < 0.6 ? { id: randomInt(random, 1, Math.max(1, Math.floor(commands.length / 2))) } : { cid: `c${randomInt(random, 0, 9)}` };
  for (let ts = 1; ts <= count; ts++) {
    const account = pick(random, ACCOUNTS);
    const sym = random() < 0.02 ? 'DOGE-USD' : pick(random, SYMS.slice(0, 2));
    const roll = random();
    if (roll < 0.6) {
      const market = random() < 0.1;
      const side = random() < 0.5 ? 'buy' : 'sell';
      commands.push({
        op: 'place',
        ts,
        account,
        sym,
        side,
        kind: market ? 'market' : 'limit',
        px: market ? null : 100 + randomInt(random, -6, 6) + (side === 'buy' ? -2 : 2),
        qty: randomInt(random, 1, 30),
        tif: pick(random, [...TIFS, 'gtc', 'gtc']),
        post: random() < 0.1,
        stp: pick(random, STP_MODES),
        cid: random() < 0.3 ? `c${randomInt(random, 0, 9)}` : null,
      });
    } else if (roll < 0.8) {
      commands.push({ op: 'cancel', ts, account, sym, ref: ref() });
    } else if (roll < 0.97) {
      const move = random() < 0.5;
      commands.push({
        op: 'amend',
        ts,
        account,
        sym,
        ref: ref(),
        qty: random() < 0.7 ? randomInt(random, 0, 40) : null,
        px: move ? 100 + randomInt(random, -8, 8) : null,
      });
    } else if (roll < 0.985) {
      commands.push({ op: 'cancel_all', ts, account, sym: random() < 0.5 ? null : sym, reason: random() < 0.5 ? 'user' : 'disconnect' });
    } else {
      const asset = pick(random, ['BTC', 'ETH', 'USD', 'DOGE']);
      commands.push({
        op: random() < 0.5 ? 'deposit' : 'withdraw',
        ts,
        account,
        asset,
        amount: randomInt(random, 1, 5_000),
        ref: `t${randomInt(random, 0, 200)}`,
      });
    }
  }
  return commands;
}

describe('encoded engine output', () => {
  it('is byte-identical to the pinned hash over a seeded stream of every command shape', () => {
    const engine = new MatchingEngine(MARKETS);
    const packr = new Packr({ useRecords: false });
    const hash = createHash('sha256');
    const seen = new Map<string, number>();
    const count = (key: string): void => void seen.set(key, (seen.get(key) ?? 0) + 1);
    for (const [index, command] of seededCommands(7_919, COMMANDS).entries()) {
      const result = engine.execute(command);
      count(result.ok ? 'ok' : 'reject');
      if (!result.ok) count(`reject:${result.code}`);
      for (const event of result.events) {
        count(event.kind === 'exec' ? `exec:${event.exec.reason ?? (event.exec.amended ? 'amended' : event.exec.status)}` : event.kind);
      }
      hash.update(packr.pack(result));
      if (index % 1_000 === 0) expect(checkInvariants(engine)).toBeNull();
    }
    hash.update(packr.pack(exportEngineState(engine)));
    // The stream reaches every shape often enough for the hash to cover it.
    for (const key of [
      'ok',
      'reject',
      'reject:insufficient_funds',
      'balance',
      'transfer',
      'trade',
      'level',
      'exec:new',
      'exec:partial',
      'exec:filled',
      'exec:amended',
      'exec:user',
      'exec:ioc',
      'exec:market',
      'exec:stp',
      'exec:disconnect',
      'exec:amend',
    ]) {
      expect(seen.get(key) ?? 0, key).toBeGreaterThan(10);
    }
    expect(hash.digest('hex')).toBe(EXPECTED_SHA256);
  });
});

/** Counts level changes per market and keeps the trades: what replay listeners report. */
class CountingListener extends TradesAndChangedBooks {
  readonly levels = new Map<string, number>();

  override levelChanged(sym: string): void {
    super.levelChanged(sym);
    this.levels.set(sym, (this.levels.get(sym) ?? 0) + 1);
  }
}

describe('withListener', () => {
  it('changes state exactly as with events, reports every level change and trade, and emits again afterwards', () => {
    const commands = seededCommands(104_729, 20_000);
    const loud = new MatchingEngine(MARKETS);
    const quiet = new MatchingEngine(MARKETS);
    const packr = new Packr({ useRecords: false });
    const levelEvents = new Map<string, number>();
    const tradeEvents: unknown[] = [];
    const listener = new CountingListener();
    for (let start = 0; start < commands.length; start += 64) {
      const chunk = commands.slice(start, start + 64);
      const expected = chunk.map((command) => loud.execute(command));
      for (const result of expected) {
        for (const event of result.events) {
          if (event.kind === 'level') levelEvents.set(event.sym, (levelEvents.get(event.sym) ?? 0) + 1);
          if (event.kind === 'trade')
            tradeEvents.push({ sym: event.sym, tradeId: event.tradeId, px: event.px, qty: event.qty, side: event.takerSide, ts: event.ts });
        }
      }
      const actual = quiet.withListener(listener, () => chunk.map((command) => quiet.execute(command)));
      actual.forEach((result, index) => {
        expect(result.events).toEqual([]);
        expect({ ...result, events: [] }).toEqual({ ...expected[index]!, events: [] });
      });
    }
    expect(checkInvariants(quiet)).toBeNull();
    expect(packr.pack(exportEngineState(quiet))).toEqual(packr.pack(exportEngineState(loud)));
    expect(listener.levels).toEqual(levelEvents);
    expect([...listener.syms].sort()).toEqual([...levelEvents.keys()].sort());
    expect(listener.trades).toEqual(tradeEvents);
    expect(tradeEvents.length).toBeGreaterThan(0);
    let emitted = 0;
    for (const command of seededCommands(31, 500)) {
      const expected = loud.execute(command);
      emitted += expected.events.length;
      expect(packr.pack(quiet.execute(command))).toEqual(packr.pack(expected));
    }
    expect(emitted).toBeGreaterThan(500);
  });
});
