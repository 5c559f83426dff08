// Screenshots of the page on a live demo market, for the README: docs/page-desktop.png and
// docs/page-phone.png (390 px wide). `npm run docs:screenshots` (needs /usr/bin/chromium).
import { fileURLToPath } from 'node:url';
import { startDemoProcess } from '../../bots/demo-process.js';
import { launchChromium } from '../test/page-driver.js';

const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const demo = await startDemoProcess();
const browser = await launchChromium();
try {
  for (const { name, width, height } of [
    { name: 'page-desktop.png', width: 1440, height: 900 },
    { name: 'page-phone.png', width: 390, height: 844 },
  ]) {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: width < 500 ? 2 : 1 });
    await page.goto(demo.pageUrl);
    await page.getByTestId('login-token').fill(demo.token);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('order-form').waitFor();
    // A resting order of the demo user, so open orders and the hold show.
    await page.getByTestId('order-price').fill('49000.00');
    await page.getByTestId('order-qty').fill('0.05');
    await page.getByTestId('order-submit').click();
    await page.getByTestId('open-order-row').first().waitFor();
    await page.waitForTimeout(Number(process.env.SCREENSHOT_WAIT_MS ?? 6_000)); // trades on the tape and the chart
    await page.screenshot({ path: `${docs}${name}`, fullPage: width < 500 });
    console.log(`docs/${name}`);
    await page.close();
  }
} finally {
  await browser.close();
  await demo.stop();
}
