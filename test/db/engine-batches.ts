// Real EventBatches for sink tests: commands run through the real MatchingEngine, numbered like
// journal entries (seq 1, 2, …), then sliced into batches, so every exec and trade is one the
// engine really produced.
import type { MarketInfo } from '../../protocol/messages.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import type { EngineCommand } from '../../server/engine/types.js';
import type { EventBatch, PersistedCommand } from '../../server/persistence/event-batch.js';
import { FIXTURE_FUNDING, fundAll, fundingCommands, MARKETS } from '../support/engine-fixtures.js';

export interface JournalLikeOptions {
  readonly markets?: readonly MarketInfo[];
  /**
   * `outside` (the default): the usual test accounts start funded outside the numbered commands,
   * so seq 1 stays a test's first command. `deposits`: they are funded by deposits numbered from
   * seq 1, so a sink sees every movement and its balances can be compared with the engine's.
   */
  readonly funding?: 'outside' | 'deposits';
}

export class JournalLike {
  readonly engine: MatchingEngine;
  readonly commands: PersistedCommand[] = [];

  constructor(options: JournalLikeOptions = {}) {
    this.engine = new MatchingEngine(options.markets ?? MARKETS);
    if (options.funding === 'deposits') {
      for (const deposit of fundingCommands(
        FUNDED_ACCOUNTS,
        FIXTURE_FUNDING,
        this.engine.assets.map((a) => a.asset),
      )) {
        if (this.run(deposit) === null) throw new Error(`funding ${deposit.account} ${deposit.asset} was rejected`);
      }
    } else {
      fundAll(this.engine, FUNDED_ACCOUNTS, FIXTURE_FUNDING);
    }
  }

  /** Executes the command; rejected commands are not journaled, so they get no seq. */
  run(command: EngineCommand): PersistedCommand | null {
    const result = this.engine.execute(command);
    if (!result.ok) return null;
    const persisted: PersistedCommand = {
      seq: this.commands.length + 1,
      command,
      id: command.op === 'place' ? (result.id ?? null) : null,
      events: result.events,
    };
    this.commands.push(persisted);
    return persisted;
  }

  runAll(commands: readonly EngineCommand[]): void {
    for (const command of commands) this.run(command);
  }

  get lastSeq(): number {
    return this.commands.length;
  }

  /** The batch of seqs fromSeq..toSeq inclusive. */
  batch(fromSeq: number, toSeq: number): EventBatch {
    return { fromSeq, toSeq, commands: this.commands.slice(fromSeq - 1, toSeq), books: [] };
  }

  /** All commands so far cut into batches of `size`. */
  batches(size: number): EventBatch[] {
    const out: EventBatch[] = [];
    for (let from = 1; from <= this.lastSeq; from += size) out.push(this.batch(from, Math.min(this.lastSeq, from + size - 1)));
    return out;
  }
}

/** The fixture markets with fees (parts per million), so that trades pay `@fees`. */
export const FEE_MARKETS: readonly MarketInfo[] = MARKETS.map((market) => ({ ...market, makerFee: 1_000, takerFee: 2_500 }));

export const SIM_ACCOUNTS = ['alice', 'bob', 'carol', 'dave'] as const;
export const FUNDED_ACCOUNTS = [...SIM_ACCOUNTS, 'erin', 'whale'] as const;

export interface SimulateOptions {
  /**
   * Share of commands that are deposits or withdrawals (0, the default, draws nothing for them,
   * so existing seeds give the same streams). A withdrawal sometimes asks for more than is
   * available (rejected, not journaled).
   */
  readonly transfers?: number;
}

/**
 * Appends `count` random but realistic commands (most aimed at live orders), timestamps rising
 * from `startTs` by 0–2 ms, so several commands share a ts like they do under load.
 */
export function simulate(
  journal: JournalLike,
  count: number,
  random: () => number,
  startTs = 1_700_000_000_000,
  options: SimulateOptions = {},
): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  let ts = startTs;
  let cidCounter = 0;
  for (let i = 0; i < count; i++) {
    ts += int(0, 2);
    const account = pick(SIM_ACCOUNTS);
    if (options.transfers !== undefined && random() < options.transfers) {
      const asset = pick(journal.engine.assets).asset;
      const available = journal.engine.balances(account).find((b) => b.asset === asset)!.available;
      const deposit = random() < 0.5;
      const amount = deposit ? int(1, 1e9) : Math.max(1, Math.floor(available * random() * 1.1));
      journal.run({ op: deposit ? 'deposit' : 'withdraw', ts, account, asset, amount, ref: `sim:${journal.lastSeq}:${i}` });
      continue;
    }
    const sym = pick(journal.engine.markets).sym;
    const open = journal.engine.openOrders(account, sym);
    const roll = random();
    if (roll < 0.6 || open.length === 0) {
      const side = pick(['buy', 'sell'] as const);
      const isMarket = random() < 0.08;
      const tif = isMarket ? 'ioc' : pick(['gtc', 'gtc', 'gtc', 'ioc', 'fok'] as const);
      journal.run({
        op: 'place',
        ts,
        account,
        sym,
        side,
        kind: isMarket ? 'market' : 'limit',
        px: isMarket ? null : side === 'buy' ? int(95, 102) : int(98, 105),
        qty: int(1, 20),
        tif,
        post: !isMarket && tif === 'gtc' && random() < 0.15,
        stp: pick(['none', 'none', 'cancel_taker', 'cancel_maker', 'cancel_both'] as const),
        cid: random() < 0.4 ? `c-${account}-${cidCounter++ % 50}` : null,
      });
    } else if (roll < 0.8) {
      const target = pick(open);
      const ref = target.cid !== null && random() < 0.5 ? { cid: target.cid } : { id: target.id };
      journal.run({ op: 'cancel', ts, account, sym, ref });
    } else if (roll < 0.97) {
      const target = pick(open);
      journal.run({
        op: 'amend',
        ts,
        account,
        sym,
        ref: { id: target.id },
        qty: random() < 0.7 ? Math.max(1, target.qty + int(-6, 6)) : null,
        px: random() < 0.4 && target.px !== null ? target.px + int(-3, 3) : null,
      });
    } else {
      journal.run({ op: 'cancel_all', ts, account, sym: random() < 0.5 ? sym : null, reason: pick(['user', 'disconnect'] as const) });
    }
  }
}
