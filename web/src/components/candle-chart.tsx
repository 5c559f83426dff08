// The candle chart, drawn by TradingView's lightweight-charts. The chart lives outside Preact's
// tree: a render hands it only what changed (all bars after a snapshot or a market switch, else
// the last bar). Prices become numbers here only for drawing; everything else stays in ticks.
import { useEffect, useRef } from 'preact/hooks';
import { CandlestickSeries, HistogramSeries, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import type { Candle } from '../market-data.js';
import type { Source } from '../state.js';

interface Props {
  /** The market the candles are of (a data attribute: tests wait for a market switch to land). */
  readonly sym: string;
  readonly candles: readonly Candle[];
  readonly epoch: number;
  readonly source: Source | null;
  readonly pxDecimals: number;
  readonly qtyDecimals: number;
}

interface Chart {
  readonly chart: IChartApi;
  readonly bars: ISeriesApi<'Candlestick'>;
  readonly volume: ISeriesApi<'Histogram'>;
  epoch: number;
  count: number;
  last: Candle | null;
}

export function CandleChart({ sym, candles, epoch, source, pxDecimals, qtyDecimals }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<Chart | null>(null);

  useEffect(() => {
    const element = box.current!;
    const api = createChart(element, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: '#9aa4b2', attributionLogo: false },
      grid: { vertLines: { color: '#1e2630' }, horzLines: { color: '#1e2630' } },
      timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#2a3340', barSpacing: 12, rightOffset: 4 },
      rightPriceScale: { borderColor: '#2a3340' },
    });
    const bars = api.addSeries(CandlestickSeries, {
      upColor: '#26a69a',
      downColor: '#ef5350',
      wickUpColor: '#26a69a',
      wickDownColor: '#ef5350',
      borderVisible: false,
      priceFormat: { type: 'price', precision: pxDecimals, minMove: 10 ** -pxDecimals },
    });
    const volume = api.addSeries(HistogramSeries, {
      priceScaleId: '',
      priceFormat: { type: 'volume' },
      color: '#3b4656',
      lastValueVisible: false,
      priceLineVisible: false,
    });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = { chart: api, bars, volume, epoch: -1, count: 0, last: null };
    return () => {
      api.remove();
      chart.current = null;
    };
  }, [pxDecimals, qtyDecimals]);

  useEffect(() => {
    const view = chart.current;
    if (view === null) return;
    const pxScale = 10 ** pxDecimals;
    const bar = (c: Candle) => ({
      time: (c.t / 1000) as UTCTimestamp,
      open: c.o / pxScale,
      high: c.h / pxScale,
      low: c.l / pxScale,
      close: c.c / pxScale,
    });
    const vol = (c: Candle) => ({
      time: (c.t / 1000) as UTCTimestamp,
      value: c.v / 10 ** qtyDecimals,
      color: c.c >= c.o ? '#26a69a55' : '#ef535055',
    });
    const last = candles[candles.length - 1] ?? null;
    if (view.epoch !== epoch || candles.length < view.count) {
      view.bars.setData(candles.map(bar));
      view.volume.setData(candles.map(vol));
      view.epoch = epoch;
    } else if (last !== null && last !== view.last) {
      // Bars are replaced, never edited in place, so a new object is a new state of the last bar.
      for (const c of candles.slice(Math.max(0, view.count - 1))) {
        view.bars.update(bar(c));
        view.volume.update(vol(c));
      }
    }
    view.count = candles.length;
    view.last = last;
  });

  const last = candles[candles.length - 1];
  return (
    <section class="panel candles">
      <h2>Candles 1m</h2>
      {source === 'page' && <p class="note">built from the trades seen since the page opened: this server has no candles channel</p>}
      <div
        ref={box}
        class="chart"
        data-testid="candle-chart"
        data-sym={sym}
        data-source={source ?? ''}
        data-candles={candles.length}
        data-last-t={last?.t ?? ''}
        data-last-n={last?.n ?? 0}
      />
    </section>
  );
}
