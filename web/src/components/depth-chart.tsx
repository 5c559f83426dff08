// The depth chart: cumulative size against price, bids left and asks right, drawn on a canvas
// sized to its box (and the device's pixel ratio) on every render.
import { useEffect, useRef } from 'preact/hooks';
import type { LocalBook } from '@spotwire/client';

const LEVELS = 50;

function draw(canvas: HTMLCanvasElement, book: LocalBook | null): void {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext('2d');
  if (g === null) return;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const bids = book?.bids(LEVELS) ?? [];
  const asks = book?.asks(LEVELS) ?? [];
  if (bids.length === 0 && asks.length === 0) return;
  // Centred on the mid, as wide as the narrower side reaches: one far order does not squash both.
  const bestBid = bids[0]?.[0] ?? asks[0]![0];
  const bestAsk = asks[0]?.[0] ?? bestBid;
  const mid = (bestBid + bestAsk) / 2;
  const reach = (levels: readonly (readonly [number, number])[]): number =>
    levels.length === 0 ? Infinity : Math.abs(levels[levels.length - 1]![0] - mid);
  const half = Math.max(bestAsk - mid + 5, Math.min(reach(bids), reach(asks)));
  const low = mid - half;
  const span = 2 * half;
  const inView = (levels: readonly (readonly [number, number])[]) => levels.filter(([px]) => px >= low && px <= low + span);
  const shownBids = inView(bids);
  const shownAsks = inView(asks);
  let most = 0;
  for (const levels of [shownBids, shownAsks])
    most = Math.max(
      most,
      levels.reduce((sum, [, qty]) => sum + qty, 0),
    );
  const x = (px: number): number => ((px - low) / span) * (width - 2) + 1;
  const y = (total: number): number => height - (total / Math.max(1, most)) * (height - 8);
  const side = (levels: readonly (readonly [number, number])[], stroke: string, fill: string): void => {
    if (levels.length === 0) return;
    g.beginPath();
    g.moveTo(x(levels[0]![0]), height);
    let total = 0;
    for (const [px, qty] of levels) {
      g.lineTo(x(px), y(total));
      total += qty;
      g.lineTo(x(px), y(total));
    }
    g.lineTo(x(levels[levels.length - 1]![0]), height);
    g.closePath();
    g.fillStyle = fill;
    g.fill();
    g.strokeStyle = stroke;
    g.stroke();
  };
  side(shownBids, '#26a69a', 'rgba(38,166,154,0.25)');
  side(shownAsks, '#ef5350', 'rgba(239,83,80,0.25)');
}

export function DepthChart({ book, version }: { readonly book: LocalBook | null; readonly version: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current !== null) draw(canvas.current, book);
  }, [book, version]);
  return (
    <section class="panel depth">
      <h2>Depth</h2>
      <canvas ref={canvas} data-testid="depth-chart" />
    </section>
  );
}
