// The ticker bar: best bid and ask from the checked local book (so they agree with the ladder to
// the tick), last price, and the 24 h figures when the server's ticker channel gives them.
import type { LocalBook, MarketInfo } from '@spotwire/client';
import { formatPx, formatQty } from '../format.js';
import type { Ticker } from '../market-data.js';
import type { Source } from '../state.js';

interface Props {
  readonly market: MarketInfo;
  readonly book: LocalBook | null;
  readonly ticker: Ticker | null;
  readonly source: Source;
}

export function TickerBar({ market, book, ticker, source }: Props) {
  const px = (value: number | null | undefined) => formatPx(value, market.pxDecimals);
  const change = ticker?.change ?? null;
  const direction = change === null || change === 0 ? '' : change > 0 ? 'up' : 'down';
  return (
    <section class="ticker" data-testid="ticker" data-source={source}>
      <div>
        <label>Last</label>
        <strong data-testid="last-price" class={direction}>
          {px(ticker?.last)}
        </strong>
      </div>
      <div>
        <label>Bid</label>
        <span data-testid="best-bid" class="bid-text">
          {px(book?.bestBid?.[0])}
        </span>
      </div>
      <div>
        <label>Ask</label>
        <span data-testid="best-ask" class="ask-text">
          {px(book?.bestAsk?.[0])}
        </span>
      </div>
      {source === 'server' && ticker !== null ? (
        <>
          <div>
            <label>24h change</label>
            <span data-testid="change-24h" class={direction}>
              {change === null ? '—' : `${change > 0 ? '+' : ''}${px(change)}`}
            </span>
          </div>
          <div>
            <label>24h high</label>
            <span>{px(ticker.high)}</span>
          </div>
          <div>
            <label>24h low</label>
            <span>{px(ticker.low)}</span>
          </div>
          <div>
            <label>24h volume</label>
            <span data-testid="volume-24h">
              {formatQty(ticker.volume, market.qtyDecimals)} {market.base}
            </span>
          </div>
        </>
      ) : (
        <div class="dim">24 h figures need the server's ticker channel</div>
      )}
    </section>
  );
}
