// The order form: side, limit or market, time in force, post-only; price and size typed in the
// market's decimal units and shown as the ticks and lots that go on the wire. A reject is shown
// with the server's code and words.
import { useState } from 'preact/hooks';
import { RejectError, type MarketInfo, type OrderKind, type Side, type Tif } from '@spotwire/client';
import { formatPx, parseUnits } from '../format.js';
import type { Session } from '../session.js';

interface Props {
  readonly market: MarketInfo;
  readonly session: Session;
  /** A price picked on the ladder (ticks), or null. */
  readonly pickedPx: number | null;
}

export function OrderForm({ market, session, pickedPx }: Props) {
  const [side, setSide] = useState<Side>('buy');
  const [kind, setKind] = useState<OrderKind>('limit');
  const [tif, setTif] = useState<Tif>('gtc');
  const [post, setPost] = useState(false);
  const [priceText, setPriceText] = useState('');
  const [qtyText, setQtyText] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [lastPick, setLastPick] = useState<number | null>(null);
  if (pickedPx !== null && pickedPx !== lastPick) {
    setLastPick(pickedPx);
    setPriceText(formatPx(pickedPx, market.pxDecimals));
  }

  const price = kind === 'limit' ? parseUnits(priceText, market.pxDecimals, `price in ${market.quote}`) : null;
  const qty = parseUnits(qtyText, market.qtyDecimals, `size in ${market.base}`);
  const postAllowed = kind === 'limit' && tif === 'gtc';
  const problem = price !== null && !price.ok ? price.error : !qty.ok ? qty.error : null;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (problem !== null || !qty.ok || (price !== null && !price.ok)) return;
    try {
      const ack = (await session.place({
        sym: market.sym,
        side,
        kind,
        qty: qty.units,
        tif,
        ...(price !== null && price.ok ? { px: price.units } : {}),
        ...(post && postAllowed ? { post: true } : {}),
      })) as { id: number };
      setResult({ ok: true, text: `order ${ack.id} accepted` });
    } catch (error) {
      setResult({ ok: false, text: error instanceof RejectError ? `${error.code}: ${error.msg}` : (error as Error).message });
    }
  };

  return (
    <form class="panel order-form" data-testid="order-form" onSubmit={submit}>
      <h2>Place order</h2>
      <div class="sides">
        {(['buy', 'sell'] as const).map((s) => (
          <button
            type="button"
            key={s}
            data-testid={`order-side-${s}`}
            class={`side ${s}${side === s ? ' chosen' : ''}`}
            onClick={() => setSide(s)}
          >
            {s === 'buy' ? 'Buy' : 'Sell'}
          </button>
        ))}
      </div>
      <label>
        Type
        <select data-testid="order-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as OrderKind)}>
          <option value="limit">limit</option>
          <option value="market">market</option>
        </select>
      </label>
      {kind === 'limit' && (
        <label>
          Price ({market.quote})
          <input
            data-testid="order-price"
            inputMode="decimal"
            autoComplete="off"
            value={priceText}
            onInput={(e) => setPriceText((e.target as HTMLInputElement).value)}
          />
          <small data-testid="order-price-ticks">{price?.ok === true ? `${price.units} ticks` : ''}</small>
        </label>
      )}
      <label>
        Size ({market.base})
        <input
          data-testid="order-qty"
          inputMode="decimal"
          autoComplete="off"
          value={qtyText}
          onInput={(e) => setQtyText((e.target as HTMLInputElement).value)}
        />
        <small data-testid="order-qty-lots">{qty.ok ? `${qty.units} lots` : ''}</small>
      </label>
      <label>
        Time in force
        <select data-testid="order-tif" value={tif} onChange={(e) => setTif((e.target as HTMLSelectElement).value as Tif)}>
          <option value="gtc">gtc: rest until canceled</option>
          <option value="ioc">ioc: fill what you can now</option>
          <option value="fok">fok: all now or nothing</option>
        </select>
      </label>
      <label class="check">
        <input
          type="checkbox"
          data-testid="order-post"
          disabled={!postAllowed}
          checked={post && postAllowed}
          onChange={(e) => setPost((e.target as HTMLInputElement).checked)}
        />
        Post only (never takes)
      </label>
      <button type="submit" data-testid="order-submit" class={`submit ${side}`} disabled={problem !== null}>
        {side === 'buy' ? 'Buy' : 'Sell'} {market.base}
      </button>
      <p data-testid="order-result" class={result === null ? 'dim' : result.ok ? 'ok' : 'error'}>
        {result?.text ?? problem ?? ''}
      </p>
    </form>
  );
}
