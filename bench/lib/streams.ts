// Seeded command streams for the engine benchmark, generated before any timing.
// A cancel must name an order that is resting at that point, so the generator runs the stream
// through a MatchingEngine as it goes and keeps the set of resting ids; that pass also records the
// fills each command produces, which both books must reproduce before they are timed.
import { MatchingEngine } from '../../server/engine/engine.js';
import type { CommandResult, EngineLimits, PlaceCommand } from '../../server/engine/types.js';
import { mulberry32, randomInt } from './prng.js';
import { fundAccounts } from './funding.js';

export const BENCH_SYM = 'BENCH';
export const MID_PRICE = 10_000;
export const BENCH_MARKETS = [{ sym: BENCH_SYM, base: 'B', quote: 'Q', pxDecimals: 0, qtyDecimals: 0, makerFee: 0, takerFee: 0 }];
export const BENCH_LIMITS: EngineLimits = { maxOpenOrdersPerAccount: 1_000_000 };

/** The bench market's engine; accounts need `fundAccounts` before their orders are accepted. */
export function createBenchEngine(): MatchingEngine {
  return new MatchingEngine(BENCH_MARKETS, BENCH_LIMITS);
}

export type StreamName = 'thin' | 'steady' | 'deep' | 'mm';
export const STREAM_NAMES: readonly StreamName[] = ['thin', 'steady', 'deep', 'mm'];

export interface StreamCommand {
  readonly op: 'limit' | 'market' | 'cancel';
  readonly side: 'buy' | 'sell';
  readonly px: number;
  readonly qty: number;
  readonly account: string;
  /** The engine id a limit order gets when accepted, or the resting order a cancel names. */
  readonly id: number;
}

export interface Stream {
  readonly name: StreamName;
  readonly commands: readonly StreamCommand[];
  /** Quantity the taker side filled, per command: what both books must reproduce. */
  readonly filledPerCommand: Int32Array;
  readonly trades: number;
  readonly restingAtEnd: number;
  readonly maxResting: number;
}

/** Orders resting in the generator's engine: O(1) add, remove and uniform pick. */
class RestingSet {
  private readonly ids: number[] = [];
  private readonly indexOf = new Map<number, number>();
  max = 0;

  get size(): number {
    return this.ids.length;
  }

  add(id: number): void {
    this.indexOf.set(id, this.ids.length);
    this.ids.push(id);
    if (this.ids.length > this.max) this.max = this.ids.length;
  }

  remove(id: number): void {
    const index = this.indexOf.get(id);
    if (index === undefined) return;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[index] = last;
      this.indexOf.set(last, index);
    }
    this.indexOf.delete(id);
  }

  pick(random: () => number): number {
    return this.ids[Math.floor(random() * this.ids.length)]!;
  }
}

function gaussian(random: () => number): number {
  // Box–Muller; 1 - random() keeps the log argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Runs commands through the generator's engine, tracking resting orders and fills. */
class StreamRecorder {
  readonly engine = createBenchEngine();
  private readonly funded = new Set<string>();
  readonly commands: StreamCommand[] = [];
  readonly filled: number[] = [];
  readonly resting = new RestingSet();
  trades = 0;
  /** Resting orders whose fills happened in the last command, by maker id. */
  lastMakerFills: number[] = [];

  place(op: 'limit' | 'market', side: 'buy' | 'sell', px: number, qty: number, account: string): number {
    if (!this.funded.has(account)) {
      fundAccounts(this.engine, [account]);
      this.funded.add(account);
    }
    const command: PlaceCommand = {
      op: 'place',
      ts: this.commands.length,
      account,
      sym: BENCH_SYM,
      side,
      kind: op,
      px: op === 'limit' ? px : null,
      qty,
      tif: 'gtc',
      post: false,
      stp: 'none',
      cid: null,
    };
    const result = this.engine.execute(command);
    const id = result.ok && result.id !== undefined ? result.id : 0;
    this.commands.push({ op, side, px: op === 'limit' ? px : 0, qty, account, id });
    this.record(result);
    if (op === 'limit' && id !== 0 && this.engine.book(BENCH_SYM)!.orders.has(id)) this.resting.add(id);
    return id;
  }

  cancel(id: number, account: string): void {
    const result = this.engine.execute({ op: 'cancel', ts: this.commands.length, account, sym: BENCH_SYM, ref: { id } });
    if (!result.ok) throw new Error(`generator canceled order ${id} that does not rest`);
    this.commands.push({ op: 'cancel', side: 'buy', px: 0, qty: 0, account, id });
    this.record(result);
    this.resting.remove(id);
  }

  accountOf(id: number): string {
    return this.engine.book(BENCH_SYM)!.orders.get(id)!.account;
  }

  finish(name: StreamName): Stream {
    return {
      name,
      commands: this.commands,
      filledPerCommand: Int32Array.from(this.filled),
      trades: this.trades,
      restingAtEnd: this.resting.size,
      maxResting: this.resting.max,
    };
  }

  private record(result: CommandResult): void {
    let filled = 0;
    this.lastMakerFills = [];
    for (const event of result.events) {
      if (event.kind === 'trade') {
        filled += event.qty;
        this.trades++;
        this.lastMakerFills.push(event.makerOrderId);
      } else if (event.kind === 'exec' && (event.exec.status === 'filled' || event.exec.status === 'canceled')) {
        this.resting.remove(event.exec.id);
      }
    }
    this.filled.push(filled);
  }
}

/** thin/steady/deep: 60% gtc limit, 10% market, 30% cancel of a random resting order. */
function randomFlow(name: StreamName, spread: number, length: number, seed: number): Stream {
  const random = mulberry32(seed);
  const recorder = new StreamRecorder();
  const accounts = Array.from({ length: 100 }, (_, i) => `acct${i}`);
  while (recorder.commands.length < length) {
    const roll = random();
    const side = random() < 0.5 ? 'buy' : 'sell';
    const account = accounts[Math.floor(random() * accounts.length)]!;
    const qty = randomInt(random, 1, 100);
    if (roll < 0.3 && recorder.resting.size > 0) {
      const id = recorder.resting.pick(random);
      recorder.cancel(id, recorder.accountOf(id));
    } else if (roll < 0.4) {
      recorder.place('market', side, 0, qty, account);
    } else {
      const offset = side === 'buy' ? -spread : spread;
      const px = MID_PRICE + offset + Math.round(10 * gaussian(random));
      recorder.place('limit', side, px, qty, account);
    }
  }
  return recorder.finish(name);
}

const MAKERS = 20;
const LEVELS_PER_SIDE = 10;

function makerPx(side: 'buy' | 'sell', level: number): number {
  return side === 'buy' ? MID_PRICE - 1 - level : MID_PRICE + 1 + level;
}

/**
 * mm: 20 makers each quote 10 levels a side. 10% of steps are market takers, after which every
 * maker that traded re-quotes the hit order (cancel what is left, place anew); the other 90% are a
 * random maker re-quoting a random quote with a new size.
 */
function marketMakerChurn(length: number, seed: number): Stream {
  const random = mulberry32(seed);
  const recorder = new StreamRecorder();
  // Quote slot (maker, side, level) by the id resting in it; ids are unique, so one map does.
  const slotOf = new Map<number, { maker: number; side: 'buy' | 'sell'; level: number }>();
  const quote = (maker: number, side: 'buy' | 'sell', level: number): void => {
    const id = recorder.place('limit', side, makerPx(side, level), randomInt(random, 1, 100), `mm${maker}`);
    slotOf.set(id, { maker, side, level });
  };
  const requote = (id: number): void => {
    const slot = slotOf.get(id);
    if (!slot) return;
    slotOf.delete(id);
    if (recorder.engine.book(BENCH_SYM)!.orders.has(id)) recorder.cancel(id, `mm${slot.maker}`);
    quote(slot.maker, slot.side, slot.level);
  };
  const slotIds = (): number[] => [...slotOf.keys()];

  for (let maker = 0; maker < MAKERS; maker++) {
    for (let level = 0; level < LEVELS_PER_SIDE; level++) {
      quote(maker, 'buy', level);
      quote(maker, 'sell', level);
    }
  }
  let ids = slotIds();
  while (recorder.commands.length < length) {
    if (random() < 0.1) {
      recorder.place('market', random() < 0.5 ? 'buy' : 'sell', 0, randomInt(random, 1, 100), 'taker');
      for (const makerId of new Set(recorder.lastMakerFills)) requote(makerId);
      ids = slotIds();
    } else {
      const index = Math.floor(random() * ids.length);
      const id = ids[index]!;
      requote(id);
      const replaced = ids.pop()!;
      if (index < ids.length) ids[index] = replaced;
      // The re-quote's new id is the highest one in the map: the last inserted.
      ids.push(recorder.commands[recorder.commands.length - 1]!.id);
    }
  }
  return recorder.finish('mm');
}

export function buildStream(name: StreamName, length: number, seed = 42): Stream {
  switch (name) {
    case 'thin':
      return randomFlow(name, 0, length, seed);
    case 'steady':
      return randomFlow(name, 7, length, seed);
    case 'deep':
      return randomFlow(name, 10, length, seed);
    case 'mm':
      return marketMakerChurn(length, seed);
  }
}
