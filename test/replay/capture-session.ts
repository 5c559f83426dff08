// Captures a real trading session for the replay tests: a live server (journal kept, small
// segments, frequent snapshots), an observer subscribed to every market's book and trades, and two
// accounts trading at random through the typed client. What the observer saw and the engine held
// at the end is what a replay must reproduce.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RejectError } from '../../protocol/client.js';
import type { BookMessage, Level, TradeMessage } from '../../protocol/messages.js';
import { DEMO_MARKETS } from '../../server/config.js';
import { exportEngineState } from '../../server/engine/engine-state.js';
import { stateHash } from '../../server/journal/snapshot-store.js';
import { barrier, connect, type Recorded } from '../support/e2e.js';
import { mulberry32, pick, randomInt } from '../../bench/lib/prng.js';
import { startTestServer } from '../support/test-server.js';

export const SYMS = DEMO_MARKETS.map((m) => m.sym);

export interface CapturedSession {
  /** The server's data dir: journal/, snapshots/, markets.json. */
  readonly dataDir: string;
  /** Journal sequence of the last command. */
  readonly lastSeq: number;
  /** Every trade the observer received, in order. */
  readonly trades: TradeMessage[];
  /** The engine's books at the end, all levels. */
  readonly books: Map<string, { bids: Level[]; asks: Level[] }>;
  /** The last market-data seq the observer saw per market. */
  readonly bookSeqs: Map<string, number>;
  /** stateHash of the live engine and book seqs at the end: what `--verify` must arrive at. */
  readonly stateHash: string;
  /** Removes the temp dir. */
  cleanup(): void;
}

export interface CaptureOptions {
  readonly rounds: number;
  readonly seed: number;
  /** false: the server retires segments its snapshots cover, as it does by default. */
  readonly keepJournal?: boolean;
}

function lastBookSeq(books: readonly BookMessage[], sym: string): number {
  let seq = 0;
  for (const book of books) if (book.sym === sym) seq = book.seq;
  return seq;
}

/** One random order-entry request; rejects (no liquidity, unknown order…) are part of a session. */
async function randomRequest(trader: Recorded, random: () => number, openIds: Map<string, number[]>): Promise<void> {
  const sym = pick(random, SYMS);
  const ids = openIds.get(sym)!;
  const roll = random();
  try {
    if (roll < 0.55) {
      const ack = await trader.client.place({
        sym,
        side: pick(random, ['buy', 'sell'] as const),
        kind: 'limit',
        px: randomInt(random, 95, 105),
        qty: randomInt(random, 1, 20),
        tif: random() < 0.15 ? 'ioc' : 'gtc',
      });
      if (ack.id !== undefined) ids.push(ack.id);
    } else if (roll < 0.65) {
      await trader.client.place({ sym, side: pick(random, ['buy', 'sell'] as const), kind: 'market', qty: randomInt(random, 1, 15) });
    } else if (roll < 0.85 && ids.length > 0) {
      await trader.client.cancel(sym, ids.splice(randomInt(random, 0, ids.length - 1), 1)[0]!);
    } else if (ids.length > 0) {
      await trader.client.amend(
        sym,
        pick(random, ids),
        random() < 0.5 ? { qty: randomInt(random, 1, 25) } : { px: randomInt(random, 95, 105) },
      );
    }
  } catch (error) {
    if (!(error instanceof RejectError)) throw error;
  }
}

export async function captureSession(options: CaptureOptions): Promise<CapturedSession> {
  const live = await startTestServer({ keepJournal: options.keepJournal ?? true, snapshotEveryCommands: 40, segmentBytes: 8 * 1024 });
  const observer = await connect(live.url);
  const alice = await connect(live.url, 'token-alice');
  const bob = await connect(live.url, 'token-bob');
  try {
    for (const sym of SYMS) {
      await observer.client.subscribeBook(sym, { depth: 1000 });
      await observer.client.subscribeTrades(sym, () => undefined);
    }
    const random = mulberry32(options.seed);
    const openIds = new Map(SYMS.map((sym) => [sym, [] as number[]]));
    for (let round = 0; round < options.rounds; round++) {
      // Both traders at once, several requests each: live batches of more than one command.
      await Promise.all([alice, bob].flatMap((trader) => [1, 2, 3].map(() => randomRequest(trader, random, openIds))));
    }
    await barrier(observer);
    const books = new Map(
      SYMS.map((sym) => [
        sym,
        { bids: live.server.engine.levels(sym, 'buy', 10_000), asks: live.server.engine.levels(sym, 'sell', 10_000) },
      ]),
    );
    const lastSeq = live.server.journal.lastSeq;
    const bookSeqs = new Map(SYMS.map((sym) => [sym, lastBookSeq(observer.books, sym)]));
    for (const recorded of [observer, alice, bob]) recorded.client.close();
    await live.server.close();
    return {
      dataDir: join(live.dir, 'data'),
      lastSeq,
      trades: observer.trades,
      books,
      bookSeqs,
      stateHash: stateHash(exportEngineState(live.server.engine), Object.fromEntries(bookSeqs)),
      cleanup: () => rmSync(live.dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await live.stop();
    throw error;
  }
}

/** Path → sha256 of every file under `dir`: a session dir must come out of a replay unchanged. */
export function fingerprint(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(dir);
  return files;
}
