// The depth ladder: asks above (best at the bottom), the spread, bids below (best at the top), each
// level with its size and the cumulative size from the best price; a level that changed flashes.
import type { Level } from '@spotwire/client';
import type { BookSync } from '../book-sync.js';
import { formatPx, formatQty } from '../format.js';

export const LADDER_LEVELS = 12;

interface Props {
  readonly sync: BookSync | null;
  readonly pxDecimals: number;
  readonly qtyDecimals: number;
  readonly onPick: (px: number) => void;
}

function withTotals(levels: readonly Level[]): { px: number; qty: number; total: number }[] {
  let total = 0;
  return levels.map(([px, qty]) => ({ px, qty, total: (total += qty) }));
}

export function Ladder({ sync, pxDecimals, qtyDecimals, onPick }: Props) {
  const now = performance.now();
  const bids = withTotals(sync?.book.bids(LADDER_LEVELS) ?? []);
  const asks = withTotals(sync?.book.asks(LADDER_LEVELS) ?? []);
  const most = Math.max(1, bids[bids.length - 1]?.total ?? 0, asks[asks.length - 1]?.total ?? 0);
  const spread = bids[0] !== undefined && asks[0] !== undefined ? asks[0].px - bids[0].px : null;
  const row = (side: 'buy' | 'sell', level: { px: number; qty: number; total: number }) => (
    <tr
      key={`${side}${level.px}`}
      data-testid="ladder-row"
      data-side={side}
      data-px={level.px}
      data-qty={level.qty}
      class={`${side === 'buy' ? 'bid' : 'ask'}${sync?.flashing(level.px, now) === true ? ' flash' : ''}`}
      style={{ '--depth': `${((level.total / most) * 100).toFixed(1)}%` }}
      onClick={() => onPick(level.px)}
    >
      <td class="px">{formatPx(level.px, pxDecimals)}</td>
      <td>{formatQty(level.qty, qtyDecimals)}</td>
      <td class="dim">{formatQty(level.total, qtyDecimals)}</td>
    </tr>
  );
  return (
    <section class="panel ladder" data-testid="ladder">
      <h2>Order book</h2>
      <table>
        <thead>
          <tr>
            <th>Price</th>
            <th>Size</th>
            <th>Total</th>
          </tr>
        </thead>
        <tbody>
          {asks
            .slice()
            .reverse()
            .map((level) => row('sell', level))}
          <tr class="spread">
            <td colSpan={3} data-testid="spread">
              {spread === null ? 'no spread' : `spread ${formatPx(spread, pxDecimals)}`}
            </td>
          </tr>
          {bids.map((level) => row('buy', level))}
        </tbody>
      </table>
    </section>
  );
}
