// `replay --serve` on a journal captured from a real server session: a typed client subscribed to
// the replay gets the same book (levels and seqs) and the same trades as the live observer did;
// seeking starts from a snapshot and publishes exactly the window asked for; the session dir is
// never written; the trading page is served there too.
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejectError } from '../../protocol/client.js';
import type { Level } from '../../protocol/messages.js';
import { DEMO_MARKETS } from '../../server/config.js';
import { MatchingEngine } from '../../server/engine/engine.js';
import { createCommandCodec } from '../../server/journal/command-codec.js';
import { readJournal } from '../../server/journal/journal-reader.js';
import { applyRecord } from '../../server/journal/recovery.js';
import { REPLAY_LIMITS } from '../../server/replay/seek.js';
import { barrier, connect, type Recorded } from '../support/e2e.js';
import { captureSession, fingerprint, SYMS, type CapturedSession } from './capture-session.js';
import { copySession, flipByte, readRecords } from './journal-surgery.js';
import { startReplay, type ReplayProcess } from './replay-cli.js';

let session: CapturedSession;
const running: ReplayProcess[] = [];
const clients: Recorded[] = [];

beforeAll(async () => {
  session = await captureSession({ rounds: 60, seed: 11 });
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.client.close();
  await Promise.all(running.map((replay) => replay.stop()));
  session?.cleanup();
});

function serve(args: readonly string[]): ReplayProcess {
  const replay = startReplay([session.dataDir, '--serve', '--port', '0', ...args]);
  running.push(replay);
  return replay;
}

/** Connects and subscribes to every market's book (all levels) and trades: 4 subscriptions. */
async function subscribeAll(replay: ReplayProcess): Promise<Recorded> {
  const [, port] = await replay.waitFor(/serving ws:\/\/127\.0\.0\.1:(\d+)\/ws/);
  const client = await connect(`ws://127.0.0.1:${port}/ws`);
  clients.push(client);
  for (const sym of SYMS) {
    await client.client.subscribeBook(sym, { depth: 1000 });
    await client.client.subscribeTrades(sym, () => undefined);
  }
  return client;
}

interface BookState {
  readonly bids: Level[];
  readonly asks: Level[];
  readonly seq: number;
}

interface Reference {
  /** First sequence of the record holding `from`, and the state before it. */
  readonly startSeq: number;
  readonly atStart: Map<string, BookState>;
  readonly tradeIdsAtStart: Map<string, number>;
  /** Last sequence of the last record ending at or before `to`, and the state after it. */
  readonly endSeq: number;
  readonly atEnd: Map<string, BookState>;
  readonly tradeIdsAtEnd: Map<string, number>;
}

/** The same window computed the plain way: a fresh engine running the journal from seq 1. */
function referenceWindow(from: number, to: number): Reference {
  const engine = new MatchingEngine(DEMO_MARKETS, REPLAY_LIMITS);
  const bookSeqs = new Map(SYMS.map((sym) => [sym, 0]));
  const tradeIds = new Map(SYMS.map((sym) => [sym, 0]));
  const books = (): Map<string, BookState> =>
    new Map(
      SYMS.map((sym) => [
        sym,
        { bids: engine.levels(sym, 'buy', 10_000), asks: engine.levels(sym, 'sell', 10_000), seq: bookSeqs.get(sym)! },
      ]),
    );
  let start: Pick<Reference, 'startSeq' | 'atStart' | 'tradeIdsAtStart'> | null = null;
  let endSeq = 0;
  for (const record of readJournal(join(session.dataDir, 'journal'), { fromSeq: 1, chainBefore: 0, codec: createCommandCodec() })) {
    const lastSeq = record.seq + record.count - 1;
    if (start === null && lastSeq >= from) start = { startSeq: record.seq, atStart: books(), tradeIdsAtStart: new Map(tradeIds) };
    if (lastSeq > to) break;
    const replayed = applyRecord(engine, bookSeqs, record.seq, record.entries);
    for (const result of replayed.results)
      for (const event of result.events) if (event.kind === 'trade') tradeIds.set(event.sym, event.tradeId);
    endSeq = lastSeq;
  }
  if (start === null) throw new Error(`the session ends before ${from}`);
  return { ...start, endSeq, atEnd: books(), tradeIdsAtEnd: tradeIds };
}

describe('replay --serve', () => {
  it('serves the whole session at max speed: the same book, seqs and trades as live, read-only, dir untouched', async () => {
    const before = fingerprint(session.dataDir);
    const replay = serve(['--speed', 'max', '--wait-subs', '4']);
    const client = await subscribeAll(replay);
    const [, commands] = await replay.waitFor(/replay done: published journal sequences 1\.\.\d+: (\d+) commands/);
    expect(Number(commands)).toBe(session.lastSeq);
    await barrier(client);
    for (const sym of SYMS) {
      const book = client.client.book(sym)!;
      expect(book.synced, sym).toBe(true);
      expect(book.seq, sym).toBe(session.bookSeqs.get(sym));
      expect(book.bids(), sym).toEqual(session.books.get(sym)!.bids);
      expect(book.asks(), sym).toEqual(session.books.get(sym)!.asks);
      // One snapshot at seq 0, then every delta in order: no gap ever forced a resync.
      const messages = client.books.filter((m) => m.sym === sym);
      expect(messages.filter((m) => m.snapshot === true).map((m) => m.seq)).toEqual([0]);
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: session.bookSeqs.get(sym)! + 1 }, (_, i) => i));
    }
    expect(session.trades.length).toBeGreaterThan(10);
    expect(client.trades).toEqual(session.trades);

    expect((await client.client.markets()).markets.map((m) => m.sym)).toEqual(SYMS);
    await client.client.ping();
    const place = client.client.place({ sym: SYMS[0]!, side: 'buy', kind: 'limit', px: 100, qty: 1 });
    await expect(place).rejects.toBeInstanceOf(RejectError);
    await expect(place).rejects.toMatchObject({ code: 'bad_request', msg: 'replay is read-only' });
    await expect(client.client.cancelAll()).rejects.toMatchObject({ code: 'bad_request' });
    await expect(client.client.login('token-alice')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(client.client.orders()).rejects.toMatchObject({ code: 'bad_request' });
    expect(await client.client.unsubscribe('book', SYMS[0]!)).toMatchObject({ type: 'unsubbed', ch: 'book', sym: SYMS[0] });
    expect(await client.client.unsubscribe('trades', SYMS[0]!)).toMatchObject({ type: 'unsubbed', ch: 'trades', sym: SYMS[0] });
    // The trading page is served on a replay too; the JSON says it is one.
    const [, port] = await replay.waitFor(/serving ws:\/\/127\.0\.0\.1:(\d+)\/ws/);
    const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await (await fetch(`http://127.0.0.1:${port}/?format=json`)).json()).toMatchObject({ service: 'spotwire', mode: 'replay' });

    expect(await replay.stop()).toBe(0);
    expect(fingerprint(session.dataDir)).toEqual(before);
  });

  it('--from starts from the newest snapshot at or before it and --to stops, at 10x speed', async () => {
    const snapshots = readdirSync(join(session.dataDir, 'snapshots'))
      .map((name) => Number(name.slice(0, 16)))
      .sort((a, b) => a - b);
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    const from = snapshots[0]! + 3;
    const to = Math.min(from + 60, session.lastSeq - 10);
    expect(snapshots[1]!).toBeGreaterThan(from - 1);
    const expected = referenceWindow(from, to);
    const replay = serve(['--speed', '10', '--from', String(from), '--to', String(to), '--wait-subs', '4']);
    const [, startSeq, snapshotSeq] = await replay.waitFor(/from journal sequence (\d+) \(state from snapshot (\d+) \+/);
    expect(Number(startSeq)).toBe(expected.startSeq);
    expect(Number(snapshotSeq)).toBe(snapshots[0]);
    const client = await subscribeAll(replay);
    for (const sym of SYMS) {
      const snapshot = client.books.find((m) => m.sym === sym && m.snapshot === true)!;
      const atStart = expected.atStart.get(sym)!;
      expect(snapshot.seq, sym).toBe(atStart.seq);
      expect(snapshot.seq, sym).toBeGreaterThan(0);
      expect(snapshot.bids, sym).toEqual(atStart.bids);
      expect(snapshot.asks, sym).toEqual(atStart.asks);
    }
    await replay.waitFor(new RegExp(`replay done: published journal sequences ${expected.startSeq}\\.\\.${expected.endSeq}:`));
    await barrier(client);
    for (const sym of SYMS) {
      const book = client.client.book(sym)!;
      const atEnd = expected.atEnd.get(sym)!;
      expect(book.seq, sym).toBe(atEnd.seq);
      expect(book.bids(), sym).toEqual(atEnd.bids);
      expect(book.asks(), sym).toEqual(atEnd.asks);
    }
    const window = session.trades.filter(
      (t) => t.tradeId > expected.tradeIdsAtStart.get(t.sym)! && t.tradeId <= expected.tradeIdsAtEnd.get(t.sym)!,
    );
    expect(window.length).toBeGreaterThan(0);
    expect(client.trades).toEqual(window);
    expect(await replay.stop()).toBe(0);
  });

  it('--from-time and --to-time select the batches stamped in that window', async () => {
    const records = [...readJournal(join(session.dataDir, 'journal'), { fromSeq: 1, chainBefore: 0, codec: createCommandCodec() })];
    const stamps = records.map((r) => r.entries[0]!.command.ts);
    const middle = stamps[Math.floor(stamps.length / 2)]!;
    const first = records.find((r) => r.entries[0]!.command.ts >= middle)!;
    const last = records.filter((r) => r.entries[0]!.command.ts <= middle).at(-1)!;
    const replay = serve(['--speed', 'max', '--from-time', new Date(middle).toISOString(), '--to-time', String(middle)]);
    const [, a, b] = await replay.waitFor(/replay done: published journal sequences (\d+)\.\.(\d+):/);
    expect(Number(a)).toBe(first.seq);
    expect(Number(b)).toBe(last.seq + last.count - 1);
    expect(await replay.stop()).toBe(0);
  });

  it('stops mid-playback on SIGTERM and exits 0', async () => {
    // A hundredth of real pace: the captured second or two would take minutes.
    const replay = serve(['--speed', '0.01']);
    await replay.waitFor(/serving ws:/);
    expect(await replay.stop()).toBe(0);
    expect(replay.stdout).toMatch(/replay stopped: published (nothing|journal sequences 1\.\.\d+):/);
    expect(replay.stdout).not.toContain('replay done');
  });

  it('stops with exit code 1 and names the record when the journal is corrupt mid-playback', async () => {
    const copy = copySession(session.dataDir);
    try {
      const records = readRecords(join(copy, 'journal'));
      const victim = records[Math.floor(records.length / 2)]!;
      flipByte(join(copy, 'journal', victim.segment), victim.offset + 30);
      const replay = startReplay([copy, '--serve', '--port', '0', '--speed', 'max']);
      running.push(replay);
      expect(await replay.exited).toBe(1);
      expect(replay.stderr).toContain(`journal corrupt in segment ${victim.segment} at offset ${victim.offset}`);
    } finally {
      rmSync(dirname(copy), { recursive: true, force: true });
    }
  });

  it('refuses contradictory seeking flags with exit code 2', async () => {
    const replay = serve(['--from', '5', '--from-time', '1000']);
    expect(await replay.exited).toBe(2);
    expect(replay.stderr).toContain('give --from or --from-time, not both');
  });
});
