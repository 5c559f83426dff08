// A simulated participant for the demo: now and then it takes liquidity with a small market order
// of a random side, and sometimes rests a limit order a few steps from the touch (canceling its
// oldest beyond a few), so the book has depth beyond the market maker's quotes and changes often.
// Randomness is fine here: this is a client, not the engine.
import { RejectError, type MarketInfo, type SpotwireClient } from '../protocol/index.js';

export interface TakerMarket {
  readonly market: MarketInfo;
  /** Market-order sizes are drawn from [minQty, maxQty] lots. */
  readonly minQty: number;
  readonly maxQty: number;
  /** Resting orders go this many ticks apart, up to `restLevels` steps from the touch. */
  readonly stepTicks: number;
  readonly restLevels: number;
}

export interface TakerOptions {
  readonly markets: readonly TakerMarket[];
  /** Mean pause between actions. */
  readonly meanPauseMs: number;
  /** Share of actions that rest a limit order instead of taking. */
  readonly restShare: number;
  /** Resting orders kept per market; the oldest is canceled beyond it. */
  readonly maxResting: number;
  readonly random?: () => number;
}

export class RandomTaker {
  #running = true;
  #cids = 0;
  readonly #resting = new Map<string, string[]>();
  readonly #random: () => number;
  /** Orders placed and rejects met, for a status line. */
  placed = 0;
  rejects = 0;

  constructor(
    private readonly client: SpotwireClient,
    private readonly name: string,
    private readonly options: TakerOptions,
  ) {
    this.#random = options.random ?? Math.random;
  }

  /** Runs until stop() or the connection closes. */
  async run(): Promise<void> {
    while (this.#running && this.client.isOpen) {
      const pause = -Math.log(1 - this.#random()) * this.options.meanPauseMs;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, this.options.meanPauseMs * 5)));
      if (!this.#running || !this.client.isOpen) break;
      const pick = this.options.markets[Math.floor(this.#random() * this.options.markets.length)]!;
      try {
        if (this.#random() < this.options.restShare) await this.#rest(pick);
        else await this.#take(pick);
      } catch (error) {
        // No liquidity, not enough funds, a post that would take: the market moves on.
        if (error instanceof RejectError) this.rejects++;
        else if (this.client.isOpen) throw error;
      }
    }
  }

  stop(): void {
    this.#running = false;
  }

  #qty(pick: TakerMarket): number {
    return pick.minQty + Math.floor(this.#random() * (pick.maxQty - pick.minQty + 1));
  }

  async #take(pick: TakerMarket): Promise<void> {
    const side = this.#random() < 0.5 ? 'buy' : 'sell';
    this.placed++;
    await this.client.place({ sym: pick.market.sym, side, kind: 'market', qty: this.#qty(pick) });
  }

  async #rest(pick: TakerMarket): Promise<void> {
    const book = this.client.book(pick.market.sym);
    const bid = book?.bestBid?.[0];
    const ask = book?.bestAsk?.[0];
    if (bid === undefined || ask === undefined) return;
    const side = this.#random() < 0.5 ? 'buy' : 'sell';
    const steps = 1 + Math.floor(this.#random() * pick.restLevels);
    const px = side === 'buy' ? bid - steps * pick.stepTicks : ask + steps * pick.stepTicks;
    if (px < 1) return;
    const cid = `${this.name}-${++this.#cids}`;
    this.placed++;
    await this.client.place({ sym: pick.market.sym, side, kind: 'limit', px, qty: this.#qty(pick) * 2, post: true, cid });
    const resting = this.#resting.get(pick.market.sym) ?? [];
    resting.push(cid);
    this.#resting.set(pick.market.sym, resting);
    while (resting.length > this.options.maxResting) {
      const oldest = resting.shift()!;
      // It may have been filled meanwhile: unknown_order is fine.
      await this.client.cancel(pick.market.sym, oldest).catch((error: unknown) => {
        if (!(error instanceof RejectError)) throw error;
      });
    }
  }
}
