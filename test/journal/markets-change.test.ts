// A data dir's journal only means something under the markets it was written with. Starting with a
// markets file that removes or changes one is refused before anything is written, with a message
// that says what differs; adding a market is allowed and recorded.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MarketInfo } from '../../protocol/messages.js';
import { LOCK_FILE_NAME } from '../../server/data-dir-lock.js';
import { dataPaths } from '../../server/server.js';
import { connect } from '../support/e2e.js';
import { JOURNAL_MARKETS, makeTempDir, startOnDataDir } from './journal-support.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const [BTC, ETH] = JOURNAL_MARKETS as [MarketInfo, MarketInfo];

/** A stopped server's data dir holding one resting order of alice on BTC-USD. */
async function dataDirWithOrder(): Promise<{ root: string; orderId: number }> {
  const dir = makeTempDir();
  cleanups.push(dir.remove);
  const running = await startOnDataDir(dir.path);
  const alice = await connect(running.url, 'token-alice');
  const ack = await alice.client.place({ sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 1_000, qty: 3 });
  alice.client.close();
  await running.server.close();
  return { root: dir.path, orderId: ack.id! };
}

/** Every file under the data dir with its bytes (but the lock, rewritten by each holder), to show that a refusal wrote nothing. */
function contentsOf(root: string): Record<string, string> {
  const dataDir = join(root, 'data');
  const files: Record<string, string> = {};
  for (const name of readdirSync(dataDir, { recursive: true, encoding: 'utf8' })) {
    if (name === LOCK_FILE_NAME) continue;
    try {
      files[name] = readFileSync(join(dataDir, name)).toString('base64');
    } catch {
      // a directory
    }
  }
  return files;
}

async function refusal(root: string, markets: readonly MarketInfo[]): Promise<string> {
  const started = await startOnDataDir(root, { markets }).then(
    (running) => running,
    (error: unknown) => error as Error,
  );
  if (started instanceof Error) return started.message;
  await started.server.close();
  return expect.fail('the server started with markets that differ from the recorded ones');
}

async function aliceOrderIds(root: string, markets: readonly MarketInfo[]): Promise<number[]> {
  const running = await startOnDataDir(root, { markets });
  cleanups.push(() => running.server.close());
  const alice = await connect(running.url, 'token-alice');
  const ids = (await alice.client.orders('BTC-USD')).orders.map((order) => order.id);
  alice.client.close();
  return ids;
}

describe('markets differing from the ones a data dir recorded', () => {
  it('a changed field is refused, naming the market and the field, and nothing in the data dir changes', async () => {
    const { root, orderId } = await dataDirWithOrder();
    const before = contentsOf(root);

    const message = await refusal(root, [BTC, { ...ETH, qtyDecimals: 6 }]);
    expect(message).toContain(dataPaths(join(root, 'data')).marketsFile);
    expect(message).toContain('ETH-USD qtyDecimals was 4, now 6');
    expect(contentsOf(root)).toEqual(before);
    expect(await aliceOrderIds(root, JOURNAL_MARKETS)).toEqual([orderId]);
  });

  it('an added market that would change an asset’s decimals is refused', async () => {
    const { root } = await dataDirWithOrder();
    const before = contentsOf(root);
    // BTC has 6 decimals from BTC-USD; a market trading BTC in 8 would re-scale every BTC balance.
    const BTC_EUR: MarketInfo = { sym: 'BTC-EUR', base: 'BTC', quote: 'EUR', pxDecimals: 2, qtyDecimals: 8, makerFee: 0, takerFee: 0 };
    expect(await refusal(root, [...JOURNAL_MARKETS, BTC_EUR])).toContain('asset BTC would change from 6 to 8 decimals');
    expect(contentsOf(root)).toEqual(before);
  });

  it('a removed market is refused', async () => {
    const { root } = await dataDirWithOrder();
    const before = contentsOf(root);
    expect(await refusal(root, [ETH])).toContain('BTC-USD is missing');
    expect(contentsOf(root)).toEqual(before);
  });

  it('compares every field the recorded market has, not a fixed list', async () => {
    const { root } = await dataDirWithOrder();
    const { marketsFile } = dataPaths(join(root, 'data'));
    // As a data dir written by a version whose markets carry a field this one's do not.
    writeFileSync(marketsFile, JSON.stringify([{ ...BTC, tickSize: 20 }, ETH]));
    expect(await refusal(root, JOURNAL_MARKETS)).toContain('BTC-USD tickSize was 20, now (absent)');
  });

  it('an added market is allowed and recorded; the journal replays as before', async () => {
    const { root, orderId } = await dataDirWithOrder();
    const SOL: MarketInfo = { sym: 'SOL-USD', base: 'SOL', quote: 'USD', pxDecimals: 2, qtyDecimals: 2, makerFee: 0, takerFee: 0 };
    expect(await aliceOrderIds(root, [...JOURNAL_MARKETS, SOL])).toEqual([orderId]);
    const recorded = JSON.parse(readFileSync(dataPaths(join(root, 'data')).marketsFile, 'utf8')) as MarketInfo[];
    expect(recorded.map((market) => market.sym)).toEqual(['BTC-USD', 'ETH-USD', 'SOL-USD']);
  });
});
