// The two books under test behind one shape. Each adapter turns the stream into its own native
// command objects once, before timing, so a timed run measures matching and not allocation of
// inputs; each returns the taker's filled quantity per command so equal work can be checked.
import { OrderBook as NodejsOrderBook, Side as NobSide } from 'nodejs-order-book';
import { type MatchingEngine } from '../../server/engine/engine.js';
import type { EngineCommand } from '../../server/engine/types.js';
import { fundAccounts } from './funding.js';
import { RejectTally } from './reject-tally.js';
import { BENCH_SYM, createBenchEngine, type Stream } from './streams.js';

export interface BenchBook {
  readonly name: string;
  /** Starts from an empty book. */
  reset(): void;
  /** Runs command i and returns the quantity its taker filled. */
  run(i: number): number;
  /** Aggregate levels as [px, qty], in no particular order. */
  depth(): { bids: [number, number][]; asks: [number, number][] };
}

export class SpotwireBook implements BenchBook {
  readonly name = 'spotwire';
  readonly commands: EngineCommand[];
  private engine!: MatchingEngine;
  /** Funded on every reset, before the timed run: the other book has no money to check. */
  private readonly accounts: ReadonlySet<string>;

  constructor(stream: Stream) {
    this.accounts = new Set(stream.commands.map((c) => c.account));
    this.commands = stream.commands.map((c, ts): EngineCommand =>
      c.op === 'cancel'
        ? { op: 'cancel', ts, account: c.account, sym: BENCH_SYM, ref: { id: c.id } }
        : {
            op: 'place',
            ts,
            account: c.account,
            sym: BENCH_SYM,
            side: c.side,
            kind: c.op,
            px: c.op === 'limit' ? c.px : null,
            qty: c.qty,
            tif: 'gtc',
            post: false,
            stp: 'none',
            cid: null,
          },
    );
    this.reset();
  }

  reset(): void {
    this.engine = createBenchEngine();
    fundAccounts(this.engine, this.accounts);
  }

  /** Replays the stream from an empty book counting rejects: a pass apart, so timed runs do not pay for it. */
  tallyRejects(): RejectTally {
    const tally = new RejectTally();
    this.reset();
    for (const command of this.commands) tally.add(this.engine.execute(command));
    return tally;
  }

  run(i: number): number {
    const result = this.engine.execute(this.commands[i]!);
    let filled = 0;
    for (const event of result.events) if (event.kind === 'trade') filled += event.qty;
    return filled;
  }

  depth(): { bids: [number, number][]; asks: [number, number][] } {
    const levels = (side: 'buy' | 'sell'): [number, number][] =>
      this.engine.levels(BENCH_SYM, side, Number.MAX_SAFE_INTEGER).map(([px, qty]) => [px, qty]);
    return { bids: levels('buy'), asks: levels('sell') };
  }
}

type NobCommand =
  | { readonly op: 'limit'; readonly options: { side: NobSide; id: string; size: number; price: number } }
  | { readonly op: 'market'; readonly options: { side: NobSide; size: number } }
  | { readonly op: 'cancel'; readonly id: string };

export class NodejsOrderBookAdapter implements BenchBook {
  readonly name = 'nodejs-order-book';
  private readonly commands: NobCommand[];
  private book!: NodejsOrderBook;

  constructor(stream: Stream) {
    this.commands = stream.commands.map((c): NobCommand => {
      const side = c.side === 'buy' ? NobSide.BUY : NobSide.SELL;
      if (c.op === 'cancel') return { op: 'cancel', id: String(c.id) };
      if (c.op === 'market') return { op: 'market', options: { side, size: c.qty } };
      return { op: 'limit', options: { side, id: String(c.id), size: c.qty, price: c.px } };
    });
    this.reset();
  }

  reset(): void {
    this.book = new NodejsOrderBook();
  }

  run(i: number): number {
    const command = this.commands[i]!;
    switch (command.op) {
      case 'cancel':
        this.book.cancel(command.id);
        return 0;
      case 'market': {
        const response = this.book.market(command.options);
        return response.err === null ? command.options.size - response.quantityLeft : 0;
      }
      case 'limit': {
        const response = this.book.limit(command.options);
        return response.err === null ? command.options.size - response.quantityLeft : 0;
      }
    }
  }

  depth(): { bids: [number, number][]; asks: [number, number][] } {
    const [asks, bids] = this.book.depth();
    return { bids, asks };
  }
}
