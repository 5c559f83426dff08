// Drives the trading page in Debian's headless Chromium (npm cannot download a browser here) and
// reads what it shows through its data-testid attributes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WEB_DIST_DIR } from '../../server/gateway/static-site.js';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`);
  if (!existsSync(join(WEB_DIST_DIR, 'index.html'))) throw new Error(`the page is not built (${WEB_DIST_DIR}): npm run build:web`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface LadderRow {
  readonly side: 'buy' | 'sell';
  readonly px: number;
  readonly qty: number;
}

/** The ladder as shown: bids best first, asks best first (the page draws asks upside down). */
export async function ladder(page: Page): Promise<{ bids: [number, number][]; asks: [number, number][] }> {
  const rows = await page.$$eval('[data-testid=ladder-row]', (elements) =>
    elements.map((e) => ({
      side: e.getAttribute('data-side'),
      px: Number(e.getAttribute('data-px')),
      qty: Number(e.getAttribute('data-qty')),
    })),
  );
  return {
    bids: rows.filter((r) => r.side === 'buy').map((r) => [r.px, r.qty]),
    asks: rows
      .filter((r) => r.side === 'sell')
      .reverse()
      .map((r) => [r.px, r.qty]),
  };
}

export async function attribute(page: Page, testId: string, name: string): Promise<string | null> {
  return page.locator(`[data-testid=${testId}]`).first().getAttribute(name);
}

/** Polls `read` until `ok` holds of its value; throws with the last value after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}
