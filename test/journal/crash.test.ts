// kill -9 harness: the real server runs as a child process while several accounts pipeline
// place/cancel/amend over WebSocket; it is SIGKILLed at seeded random moments and restarted on the
// same data dir. After each restart, every acknowledged order and every reported fill must be there
// exactly once: each account's `orders` equals its model (built from acks and execs only), except
// orders that a request still in flight at the kill, or a batch that reached other accounts but not
// this one before the kill, may have changed (then they may only have moved forward); the book
// equals the sum of everybody's open orders; order ids and trade ids continue above all seen before.
// An admin deposits and withdraws meanwhile: every acked transfer is applied exactly once, money is
// conserved, every hold is what the open orders hold, and every balance equals a fresh replay's.
// The cycle is in bench/lib/crash-cycles.ts (the soak runs it longer), the checks in crash-check.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashCycles } from '../../bench/lib/crash-cycles.js';
import { JOURNAL_MARKETS, makeTempDir } from './journal-support.js';

const KILLS = 50;
const dir = makeTempDir();
afterAll(() => dir.remove());

describe('kill -9 at random moments', () => {
  it(`keeps every acked order and every reported fill exactly once over ${KILLS} kills`, async () => {
    const started = Date.now();
    const result = await runCrashCycles({
      root: dir.path,
      markets: JOURNAL_MARKETS,
      accounts: ['ann', 'ben', 'cat', 'dan'],
      kills: KILLS,
      seed: 20_261_125,
      snapshotEvery: 300,
      tradeMs: [100, 300],
      quiesceEvery: 5,
      stopOnViolation: true,
    });
    const { stats } = result;
    console.log(
      `crash harness: ${result.kills} kills (${result.quiescedKills} quiesced), ${result.tornTails} torn tails cut, ` +
        `${result.placesAcked} places acked, ${result.fillsReported} fills reported, ${result.transfersAcked} transfers acked, orders checked exactly ${stats.certain}, ` +
        `allowed to differ ${stats.uncertain}, in-flight places found committed ${stats.phantoms}, ` +
        `start+recovery max ${Math.round(Math.max(...result.startMs))} ms, ${Math.round((Date.now() - started) / 1000)} s`,
    );
    expect(result.violations.slice(0, 20)).toEqual([]);
    expect(result.kills).toBeGreaterThanOrEqual(50);
    expect(result.finalExit).toEqual({ code: 0, signal: null });
    expect(result.placesAcked).toBeGreaterThan(1_000);
    expect(result.fillsReported).toBeGreaterThan(100);
    expect(result.transfersAcked).toBeGreaterThan(100);
    expect(stats.certain).toBeGreaterThan(stats.uncertain);
  }, 300_000);
});
