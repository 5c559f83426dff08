// A reference market maker, written as the example a bot author would copy:
//
//   npm run bot:mm -- --url ws://127.0.0.1:9001/ws --token secret-alice --sym BTC-USD --ref-px 5000000
//
// It quotes `--levels` post-only orders a side around a reference price, skewed against its
// inventory, keeps them in place with `amend` (one cid per slot, so a slot is found again after a
// fill), arms the dead-man switch so its quotes vanish if it dies, prints one status line at most
// once a second, and on SIGINT/SIGTERM cancels its orders and exits 0. Its client reconnects by
// itself when the connection or the server dies (resuming its execs, re-arming the switch), and
// the bot requotes from the client's refreshed view of its orders once it has resumed. Prices are in ticks and
// sizes in lots (see `markets`: BTC-USD has pxDecimals 2, qtyDecimals 6, so px 5,000,000 is
// 50,000.00 USD and qty 1,000 is 0.001 BTC).
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ClientError, RejectError, SpotwireClient, formatUnits, type WebSocketConstructor } from '../protocol/index.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.SPOTWIRE_URL ?? 'ws://127.0.0.1:9001/ws' },
    token: { type: 'string', default: process.env.SPOTWIRE_TOKEN },
    sym: { type: 'string', default: 'BTC-USD' },
    'ref-px': { type: 'string' },
    levels: { type: 'string', default: '3' },
    'spread-ticks': { type: 'string', default: '100' },
    'step-ticks': { type: 'string', default: '50' },
    qty: { type: 'string', default: '1000' },
    'skew-ticks': { type: 'string', default: '0' },
    'dead-man-ms': { type: 'string', default: '5000' },
  },
});
function usage(problem: string): never {
  console.error(`${problem} (bots/market-maker.ts has the options at its top)`);
  process.exit(2);
}
const int = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < 0) usage(`--${name} must be a non-negative integer (ticks or lots), got ${String(values[name])}`);
  return n;
};
if (values.token === undefined) usage('--token (or SPOTWIRE_TOKEN) is needed');
if (values['ref-px'] === undefined) usage('--ref-px is needed: the price (in ticks) to quote around');
const sym = values.sym!;
const refPx = int('ref-px');
const levels = int('levels');
const halfSpread = Math.ceil(int('spread-ticks') / 2);
const step = int('step-ticks');
const qty = int('qty');
const skewPerLot = int('skew-ticks');
const deadManMs = int('dead-man-ms');

const client = await SpotwireClient.connect(values.url!, {
  WebSocket: WebSocket as unknown as WebSocketConstructor,
  // Back within 100 ms to 5 s (random, doubling per failed attempt), forever until SIGINT.
  reconnect: { initialDelayMs: 100, maxDelayMs: 5_000 },
});
client.onReconnecting(({ attempt, delayMs, code }) =>
  console.error(`${sym} connection lost (${code}): reconnect attempt ${attempt} in ${delayMs} ms`),
);
client.onGap(({ reason }) => console.error(`${sym} missed messages could not be replayed (${reason}): orders and balances refetched`));
client.onResumed(({ replayed }) => console.error(`${sym} resumed (${replayed} missed messages replayed): requoting`));
await client.login(values.token);
const { markets, assets } = await client.markets();
const market = markets.find((m) => m.sym === sym);
if (!market) usage(`unknown market ${sym}: the server has ${markets.map((m) => m.sym).join(', ')}`);
const decimalsOf = (asset: string): number => assets.find((a) => a.asset === asset)!.decimals;
const basePerLot = 10 ** (decimalsOf(market.base) - market.qtyDecimals);
const quotePerTickLot = 10 ** (decimalsOf(market.quote) - market.pxDecimals - market.qtyDecimals);

// Start clean: no quotes of an earlier run, and the switch armed before the first quote.
await client.cancelAll(sym);
await client.cancelAfter(deadManMs);
await client.balances(); // fills the client's balance view; pushes keep it current
await client.orders(sym); // and its open-orders view (empty now); execs keep it current
const start = balancesNow();
let fills = 0;
client.onExec((exec) => {
  if (exec.fill) fills++;
});

function balancesNow(): { base: number; quote: number } {
  const total = (asset: string): number => {
    const b = client.balance(asset);
    return b ? b.available + b.hold : 0;
  };
  return { base: total(market!.base), quote: total(market!.quote) };
}

/** The price of each slot now: levels a side around the reference, moved against inventory. */
function targets(): { cid: string; side: 'buy' | 'sell'; px: number }[] {
  const inventoryLots = Math.trunc((balancesNow().base - start.base) / basePerLot);
  const center = refPx - skewPerLot * inventoryLots;
  const out: { cid: string; side: 'buy' | 'sell'; px: number }[] = [];
  for (let i = 0; i < levels; i++) {
    out.push({ cid: `mm-${sym}-b${i}`, side: 'buy', px: Math.max(1, center - halfSpread - i * step) });
    out.push({ cid: `mm-${sym}-a${i}`, side: 'sell', px: center + halfSpread + i * step });
  }
  return out;
}

/** One pass: each slot has an order at its target price (amend moves it; a filled slot is placed anew). */
async function requote(): Promise<void> {
  // The client's view, not a round trip: after a reconnect it holds what was missed.
  const open = new Map(client.openOrders(sym).map((o) => [o.cid, o]));
  for (const slot of targets()) {
    const order = open.get(slot.cid);
    try {
      if (!order) await client.place({ sym, side: slot.side, kind: 'limit', px: slot.px, qty, post: true, cid: slot.cid });
      else if (order.px !== slot.px) await client.amend(sym, slot.cid, { px: slot.px });
    } catch (error) {
      // post_would_take (the book moved through us) or insufficient_funds: try again next pass.
      if (!(error instanceof RejectError)) throw error;
    }
  }
}

let lastStatus = 0;
let lastFills = 0;
function status(): void {
  const now = Date.now();
  if (now - lastStatus < 1_000) return;
  const { base, quote } = balancesNow();
  const positionLots = Math.trunc((base - start.base) / basePerLot);
  // Marked at the reference price, in the quote asset's units.
  const pnl = quote - start.quote + positionLots * refPx * quotePerTickLot;
  const rate = ((fills - lastFills) * 1_000) / Math.max(1, now - lastStatus);
  console.log(
    `${sym} position ${formatUnits(base - start.base, decimalsOf(market!.base))} ${market!.base}  pnl ${formatUnits(pnl, decimalsOf(market!.quote))} ${market!.quote}  ` +
      `open ${client.openOrders(sym).length}  fills ${fills} (${rate.toFixed(1)}/s)`,
  );
  lastStatus = now;
  lastFills = fills;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves when the client is usable again (at once if it is), or after `ms` at the latest. */
const resumed = (ms: number): Promise<void> =>
  client.state === 'open'
    ? Promise.resolve()
    : new Promise((resolve) => {
        const off = client.onResumed(() => {
          off();
          resolve();
        });
        void sleep(ms).then(() => {
          off();
          resolve();
        });
      });

let running = true;
const stop = async (): Promise<void> => {
  if (!running) return;
  running = false;
  try {
    await resumed(deadManMs); // stopping mid-reconnect: cancel once back, if that is soon
    await client.cancelAll(sym);
    await client.cancelAfter(0);
    console.log(`${sym} stopped: orders canceled`);
  } catch (error) {
    console.error(`${sym} stopped without canceling (${String(error)}): the dead-man switch cancels the quotes within ${deadManMs} ms`);
  }
  client.close();
  process.exit(0);
};
client.onClose((info) => {
  if (!running) return;
  // Only if reconnecting gave up (e.g. the token was refused): the dead-man switch takes the quotes out.
  console.error(`${sym} connection closed for good (${info.code} ${info.reason}); exiting, the dead-man switch cancels the quotes`);
  process.exit(1);
});
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

let lastRenew = Date.now();
while (running) {
  try {
    await requote();
    if (Date.now() - lastRenew > deadManMs / 3) {
      await client.cancelAfter(deadManMs);
      lastRenew = Date.now();
    }
  } catch (error) {
    // ConnectionLostError (dropped mid-pass) or 'disconnected' (still away): the client is
    // reconnecting; a place lost in flight shows up in its view by cid once resumed.
    if (!(error instanceof ClientError)) throw error;
    await resumed(60_000);
    continue;
  }
  status();
  await sleep(200);
}
