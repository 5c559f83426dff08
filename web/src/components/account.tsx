// The logged-in user's side: the login box (the token is kept in sessionStorage for this tab),
// open orders with cancel and amend, fills, and balances.
import { useState } from 'preact/hooks';
import { RejectError, formatUnits, type MarketInfo, type OrderView } from '@spotwire/client';
import { formatPx, formatQty, formatTime, parseUnits } from '../format.js';
import type { Session } from '../session.js';
import type { PageState } from '../state.js';

const failure = (error: unknown): string => (error instanceof RejectError ? `${error.code}: ${error.msg}` : (error as Error).message);

export function Login({ session, notice }: { readonly session: Session; readonly notice: string }) {
  const [token, setToken] = useState('');
  return (
    <form
      class="panel login"
      data-testid="login-form"
      onSubmit={(e) => {
        e.preventDefault();
        session.login(token.trim()).catch(() => undefined);
      }}
    >
      <h2>Log in to trade</h2>
      <input
        data-testid="login-token"
        type="password"
        placeholder="API token"
        autoComplete="off"
        value={token}
        onInput={(e) => setToken((e.target as HTMLInputElement).value)}
      />
      <button type="submit" data-testid="login-submit" disabled={token.trim() === ''}>
        Log in
      </button>
      <p class="error">{notice}</p>
    </form>
  );
}

function OrderRow({ order, market, session }: { readonly order: OrderView; readonly market: MarketInfo; readonly session: Session }) {
  const [editing, setEditing] = useState(false);
  const [pxText, setPxText] = useState('');
  const [qtyText, setQtyText] = useState('');
  const [error, setError] = useState('');
  const amend = async (): Promise<void> => {
    const change: { px?: number; qty?: number } = {};
    if (pxText.trim() !== '') {
      const px = parseUnits(pxText, market.pxDecimals, 'price');
      if (!px.ok) return setError(px.error);
      change.px = px.units;
    }
    if (qtyText.trim() !== '') {
      const qty = parseUnits(qtyText, market.qtyDecimals, 'size');
      if (!qty.ok) return setError(qty.error);
      change.qty = qty.units;
    }
    try {
      await session.amend(order.sym, order.id, change);
      setEditing(false);
      setError('');
    } catch (e) {
      setError(failure(e));
    }
  };
  return (
    <tr
      data-testid="open-order-row"
      data-id={order.id}
      data-px={order.px ?? ''}
      data-qty={order.qty}
      data-leaves={order.leaves}
      data-side={order.side}
    >
      <td class={order.side === 'buy' ? 'bid-text' : 'ask-text'}>{order.side}</td>
      <td>
        {editing ? (
          <input
            data-testid="amend-price"
            size={8}
            placeholder={formatPx(order.px, market.pxDecimals)}
            value={pxText}
            onInput={(e) => setPxText((e.target as HTMLInputElement).value)}
          />
        ) : (
          formatPx(order.px, market.pxDecimals)
        )}
      </td>
      <td>
        {editing ? (
          <input
            data-testid="amend-qty"
            size={8}
            placeholder={formatQty(order.qty, market.qtyDecimals)}
            value={qtyText}
            onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
          />
        ) : (
          <span title={`${formatQty(order.filled, market.qtyDecimals)} of ${formatQty(order.qty, market.qtyDecimals)} filled`}>
            {formatQty(order.leaves, market.qtyDecimals)}
          </span>
        )}
      </td>
      <td class="actions">
        {editing ? (
          <>
            <button type="button" data-testid="amend-submit" onClick={() => void amend()}>
              Save
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              ×
            </button>
          </>
        ) : (
          <>
            <button type="button" data-testid="amend-order" onClick={() => setEditing(true)}>
              Amend
            </button>
            <button
              type="button"
              data-testid="cancel-order"
              onClick={() => session.cancel(order.sym, order.id).catch((e: unknown) => setError(failure(e)))}
            >
              Cancel
            </button>
          </>
        )}
        {error !== '' && <div class="error">{error}</div>}
      </td>
    </tr>
  );
}

export function Account({ state, session }: { readonly state: PageState; readonly session: Session }) {
  const market = state.market();
  if (market === undefined) return null;
  const orders = [...state.orders.values()].filter((o) => o.sym === market.sym).sort((a, b) => b.id - a.id);
  const fills = state.fills.filter((f) => f.sym === market.sym);
  return (
    <>
      <section class="panel orders">
        <h2>
          Open orders <span class="dim">{market.sym}</span>
        </h2>
        <table>
          <thead>
            <tr>
              <th>Side</th>
              <th>Price</th>
              <th>Left</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {orders.map((order) => (
              <OrderRow key={order.id} order={order} market={market} session={session} />
            ))}
          </tbody>
        </table>
        {orders.length === 0 && <p class="dim">none</p>}
        {state.ordersTruncated && <p class="dim">more open orders than one page: the oldest are not shown</p>}
      </section>
      <section class="panel fills">
        <h2>Fills</h2>
        <table>
          <tbody>
            {fills.map((f) => (
              <tr key={f.key} data-testid="fill-row">
                <td class={f.side === 'buy' ? 'bid-text' : 'ask-text'}>{f.side}</td>
                <td>{formatPx(f.px, market.pxDecimals)}</td>
                <td>{formatQty(f.qty, market.qtyDecimals)}</td>
                <td class="dim">
                  {f.liquidity} fee {formatUnits(f.fee, state.assetDecimals(f.feeAsset))} {f.feeAsset}
                </td>
                <td class="dim">{formatTime(f.ts)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {fills.length === 0 && <p class="dim">none yet</p>}
      </section>
      <section class="panel balances">
        <h2>
          Balances <span class="dim">{state.account}</span>{' '}
          <button type="button" class="link" data-testid="logout" onClick={() => session.logout()}>
            log out
          </button>
        </h2>
        <table>
          <thead>
            <tr>
              <th>Asset</th>
              <th>Available</th>
              <th>On hold</th>
            </tr>
          </thead>
          <tbody>
            {[...state.balances.values()]
              .sort((a, b) => a.asset.localeCompare(b.asset))
              .map((b) => (
                <tr key={b.asset} data-testid="balance-row" data-asset={b.asset} data-available={b.available} data-hold={b.hold}>
                  <td>{b.asset}</td>
                  <td>{formatUnits(b.available, state.assetDecimals(b.asset))}</td>
                  <td class="dim">{formatUnits(b.hold, state.assetDecimals(b.asset))}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
