// Everything the page shows, in one plain object that the session mutates and the components
// read. A change asks for one render on the next animation frame however many messages arrived
// before it, so a burst of deltas costs one paint.
import type { AssetInfo, BalanceView, MarketInfo, MyTrade, OrderView } from '@spotwire/client';
import type { BookSync } from './book-sync.js';
import type { Candle, RecentTrade, Ticker } from './market-data.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';
/** Where a panel's data comes from: the server's channel, or built in the page (older server). */
export type Source = 'server' | 'page';

/** One of the account's fills as the page lists it (from an exec or `my_trades`). */
export type FillRow = { key: string } & Pick<MyTrade, 'sym' | 'orderId' | 'side' | 'px' | 'qty' | 'liquidity' | 'fee' | 'feeAsset' | 'ts'>;

/** Bounds on what the page keeps. */
export const MAX_TAPE = 60;
export const MAX_FILLS = 100;

export class PageState {
  connection: ConnectionState = 'connecting';
  reconnects = 0;
  markets: MarketInfo[] = [];
  assets: AssetInfo[] = [];
  sym = '';
  book: BookSync | null = null;
  /** Newest first. */
  tape: RecentTrade[] = [];
  ticker: Ticker | null = null;
  tickerSource: Source = 'server';
  candles: Candle[] = [];
  candleSource: Source | null = null;
  /** Bumped when `candles` is replaced (a snapshot or a market switch), not on an update. */
  candleEpoch = 0;
  account: string | null = null;
  readonly orders = new Map<number, OrderView>();
  ordersTruncated = false;
  fills: FillRow[] = [];
  readonly balances = new Map<string, BalanceView>();
  /** The last thing worth telling the user (a reject, a failed login), shown until replaced. */
  notice = '';

  market(): MarketInfo | undefined {
    return this.markets.find((m) => m.sym === this.sym);
  }

  assetDecimals(asset: string): number {
    return this.assets.find((a) => a.asset === asset)?.decimals ?? 0;
  }
}

/** Coalesces change notifications into one call of `render` per animation frame. */
export class FrameScheduler {
  #pending = false;
  constructor(
    private readonly render: () => void,
    private readonly requestFrame: (callback: () => void) => void,
  ) {}

  changed(): void {
    if (this.#pending) return;
    this.#pending = true;
    this.requestFrame(() => {
      this.#pending = false;
      this.render();
    });
  }
}
