// The page's layout: header (market selector, connection, book check), ticker, then the panels.
import { useState } from 'preact/hooks';
import type { BookSync } from './book-sync.js';
import { Account, Login } from './components/account.js';
import { CandleChart } from './components/candle-chart.js';
import { DepthChart } from './components/depth-chart.js';
import { Ladder } from './components/ladder.js';
import { OrderForm } from './components/order-form.js';
import { TickerBar } from './components/ticker.js';
import { TradesTape } from './components/trades-tape.js';
import type { Session } from './session.js';
import type { PageState } from './state.js';

function SyncIndicator({ sync }: { readonly sync: BookSync | null }) {
  const state = sync?.state ?? 'waiting';
  const text =
    state === 'synced'
      ? `book checked ✓ (${sync!.checksumsVerified})`
      : state === 'resyncing'
        ? `resyncing: ${sync!.lastResync?.reason === 'gap' ? 'a seq gap' : 'checksum mismatch'}`
        : 'waiting for the book';
  return (
    <span
      class={`pill ${state}`}
      data-testid="book-sync"
      data-state={state}
      data-resyncs={sync?.resyncs ?? 0}
      data-verified={sync?.checksumsVerified ?? 0}
      data-last-reason={sync?.lastResync?.reason ?? ''}
      title="Every book message's seq and checksum are checked; a gap or a mismatch resubscribes."
    >
      {text}
      {sync !== null && sync.resyncs > 0 && state === 'synced' ? ` · ${sync.resyncs} resync${sync.resyncs === 1 ? '' : 's'}` : ''}
    </span>
  );
}

export function App({ state, session }: { readonly state: PageState; readonly session: Session }) {
  const [picked, setPicked] = useState<number | null>(null);
  const market = state.market();
  return (
    <div class="page">
      <header>
        <h1>Spotwire</h1>
        <select
          data-testid="market-select"
          value={state.sym}
          onChange={(e) => void session.selectMarket((e.target as HTMLSelectElement).value)}
        >
          {state.markets.map((m) => (
            <option key={m.sym} value={m.sym}>
              {m.sym}
            </option>
          ))}
        </select>
        <span class={`pill ${state.connection}`} data-testid="connection" data-state={state.connection}>
          {state.connection === 'open' ? 'live' : state.connection}
          {state.reconnects > 0 ? ` · ${state.reconnects} reconnect${state.reconnects === 1 ? '' : 's'}` : ''}
        </span>
        <SyncIndicator sync={state.book} />
      </header>
      {market === undefined ? (
        <p class="dim">connecting…</p>
      ) : (
        <>
          <TickerBar market={market} book={state.book?.book ?? null} ticker={state.ticker} source={state.tickerSource} />
          <main>
            <div class="col chart-col">
              <CandleChart
                sym={state.sym}
                candles={state.candles}
                epoch={state.candleEpoch}
                source={state.candleSource}
                pxDecimals={market.pxDecimals}
                qtyDecimals={market.qtyDecimals}
              />
              <DepthChart book={state.book?.book ?? null} version={state.book?.book.seq ?? 0} />
            </div>
            <div class="col book-col">
              <Ladder sync={state.book} pxDecimals={market.pxDecimals} qtyDecimals={market.qtyDecimals} onPick={setPicked} />
              <TradesTape market={market} tape={state.tape} />
            </div>
            <div class="col trade-col">
              {state.account === null ? (
                <Login session={session} notice={state.notice} />
              ) : (
                <>
                  <OrderForm market={market} session={session} pickedPx={picked} />
                  <Account state={state} session={session} />
                </>
              )}
            </div>
          </main>
        </>
      )}
    </div>
  );
}
