// The trades tape: the market's latest trades, newest first, coloured by the taker's side.
import type { MarketInfo } from '@spotwire/client';
import { formatPx, formatQty, formatTime } from '../format.js';
import type { RecentTrade } from '../market-data.js';

export function TradesTape({ market, tape }: { readonly market: MarketInfo; readonly tape: readonly RecentTrade[] }) {
  return (
    <section class="panel tape">
      <h2>Trades</h2>
      <table>
        <thead>
          <tr>
            <th>Price</th>
            <th>Size</th>
            <th>Time</th>
          </tr>
        </thead>
        <tbody>
          {tape.map((t) => (
            <tr key={t.tradeId} data-testid="trade-row" class={t.side === 'buy' ? 'bid-text' : 'ask-text'}>
              <td>{formatPx(t.px, market.pxDecimals)}</td>
              <td>{formatQty(t.qty, market.qtyDecimals)}</td>
              <td class="dim">{formatTime(t.ts)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
