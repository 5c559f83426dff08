// Delta-to-paint latency of the trading page at the demo's rate: starts `npm run demo`, opens the
// page in headless Chromium with ?test-hooks, lets it warm up, then for --seconds collects the time
// from each book message's arrival in the page to the paint that showed it (web/src/paint-latency.ts)
// and prints the rate, the percentiles, the script time of those renders and the frames painted.
//
//   npm run bench:web-paint [-- --seconds 30 --market BTC-USD --takers 3]
import { parseArgs } from 'node:util';
import { startDemoProcess } from '../bots/demo-process.js';
import { launchChromium } from '../web/test/page-driver.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    market: { type: 'string', default: 'BTC-USD' },
    warmup: { type: 'string', default: '5' },
    takers: { type: 'string', default: '3' },
  },
});
const seconds = Number(values.seconds);
const demo = await startDemoProcess(['--takers', values.takers!]);
const browser = await launchChromium();
interface Hooks {
  spotwireTest: {
    latencySamples(): number[];
    renderSamples(): number[];
    clearLatency(): void;
    state: { book: { checksumsVerified: number; resyncs: number } | null };
  };
}
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${demo.pageUrl}?test-hooks`);
  await page.getByTestId('market-select').selectOption(values.market!);
  await page.getByTestId('login-token').fill(demo.token); // the account panels render too
  await page.getByTestId('login-submit').click();
  await page.waitForTimeout(Number(values.warmup) * 1000);
  await page.evaluate(() => (window as unknown as Hooks).spotwireTest.clearLatency());
  const start = await page.evaluate(() => ({ verified: (window as unknown as Hooks).spotwireTest.state.book?.checksumsVerified ?? 0 }));
  // Frames painted during the window, counted in the page. A string: tsx would wrap a named
  // function in a helper the page does not have.
  await page.evaluate('window.frames_ = 0; (function tick() { window.frames_++; requestAnimationFrame(tick); })()');
  await page.waitForTimeout(seconds * 1000);
  const result = await page.evaluate(() => ({
    samples: (window as unknown as Hooks).spotwireTest.latencySamples(),
    renders: (window as unknown as Hooks).spotwireTest.renderSamples(),
    verified: (window as unknown as Hooks).spotwireTest.state.book?.checksumsVerified ?? 0,
    resyncs: (window as unknown as Hooks).spotwireTest.state.book?.resyncs ?? 0,
    frames: (window as unknown as { frames_: number }).frames_,
  }));
  const sorted = result.samples.slice().sort((a, b) => a - b);
  const at = (q: number): string =>
    sorted.length === 0 ? '—' : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  const renders = result.renders.slice().sort((a, b) => a - b);
  const renderAt = (q: number): number | null =>
    renders.length === 0 ? null : Number(renders[Math.min(renders.length - 1, Math.floor(q * renders.length))]!.toFixed(2));
  console.log(
    `web paint latency, ${values.market} on the demo market with ${values.takers} takers, ${seconds} s in headless Chromium (${process.arch}, software rendering)`,
  );
  console.log(
    `  book messages applied: ${result.verified - start.verified} (${((result.verified - start.verified) / seconds).toFixed(1)}/s), resyncs ${result.resyncs}`,
  );
  console.log(`  frames painted: ${result.frames} (${(result.frames / seconds).toFixed(1)}/s)`);
  console.log(`  render (script time of a frame with book messages) ms: p50 ${renderAt(0.5)}  p99 ${renderAt(0.99)}  max ${renderAt(1)}`);
  console.log(
    `  slowest: ${sorted
      .slice(-5)
      .map((v) => v.toFixed(1))
      .join(', ')}; over 50 ms: ${sorted.filter((v) => v > 50).length}`,
  );
  console.log(
    `  delta-to-paint ms: p50 ${at(0.5)}  p90 ${at(0.9)}  p99 ${at(0.99)}  max ${sorted.length === 0 ? '—' : sorted[sorted.length - 1]!.toFixed(1)}  (n ${sorted.length})`,
  );
  const pick = (q: number): number | null =>
    sorted.length === 0 ? null : Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1));
  console.log(
    JSON.stringify({
      bench: 'web-paint-latency',
      market: values.market,
      takers: Number(values.takers),
      seconds,
      bookMessagesPerSecond: Number(((result.verified - start.verified) / seconds).toFixed(1)),
      framesPerSecond: Number((result.frames / seconds).toFixed(1)),
      resyncs: result.resyncs,
      samples: sorted.length,
      p50Ms: pick(0.5),
      p90Ms: pick(0.9),
      p99Ms: pick(0.99),
      maxMs: sorted.length === 0 ? null : Number(sorted[sorted.length - 1]!.toFixed(1)),
      renderP50Ms: renderAt(0.5),
      renderP99Ms: renderAt(0.99),
    }),
  );
} finally {
  await browser.close();
  await demo.stop();
}
