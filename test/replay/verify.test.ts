// `replay --verify` on a journal captured from a real server session: it passes on the session as
// written, arrives at the live engine's state, and names the first divergence when the journal
// has been tampered with.
import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureSession, fingerprint, type CapturedSession } from './capture-session.js';
import { copySession, flipByte, readRecords, rewriteJournal, type StoredRecord } from './journal-surgery.js';
import { runReplay } from './replay-cli.js';

let session: CapturedSession;
const copies: string[] = [];

function tamperedCopy(): string {
  const copy = copySession(session.dataDir);
  copies.push(dirname(copy));
  return copy;
}

beforeAll(async () => {
  session = await captureSession({ rounds: 60, seed: 7 });
}, 120_000);

afterAll(() => {
  session?.cleanup();
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

describe('replay --verify', () => {
  it('passes on the captured session and arrives at the live state', async () => {
    const before = fingerprint(session.dataDir);
    const { code, stdout } = await runReplay([session.dataDir, '--verify']);
    expect(code, stdout).toBe(0);
    const summary = /verify ok: (\d+) commands in (\d+) records, (\d+) trades, (\d+) snapshots checked/.exec(stdout);
    expect(summary, stdout).not.toBeNull();
    expect(Number(summary![1])).toBe(session.lastSeq);
    expect(Number(summary![2])).toBe(readRecords(join(session.dataDir, 'journal')).length);
    expect(Number(summary![3])).toBe(session.trades.length);
    expect(Number(summary![4])).toBeGreaterThanOrEqual(1);
    expect(stdout).toContain(`state hash ${session.stateHash}`);
    expect(stdout).toMatch(/elapsed \d+\.\d{3} s, \d+ commands\/s/);
    expect(fingerprint(session.dataDir)).toEqual(before);
  });

  it('the session really is a multi-segment journal with batches of several commands', () => {
    const records = readRecords(join(session.dataDir, 'journal'));
    expect(new Set(records.map((r) => r.segment)).size).toBeGreaterThan(1);
    expect(records.some((r) => r.entries.length > 1)).toBe(true);
    expect(session.trades.length).toBeGreaterThan(10);
  });

  it('accepts the bare journal dir as well as the data dir', async () => {
    const { code, stdout } = await runReplay([join(session.dataDir, 'journal'), '--verify']);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain(`state hash ${session.stateHash}`);
  });

  it('names the segment and offset of a flipped byte', async () => {
    const copy = tamperedCopy();
    const records = readRecords(join(copy, 'journal'));
    const victim = records[3]!;
    flipByte(join(copy, 'journal', victim.segment), victim.offset + 30);
    const { code, stdout } = await runReplay([copy, '--verify']);
    expect(code, stdout).toBe(1);
    expect(stdout).toContain('verify FAILED');
    expect(stdout).toContain(`journal corrupt in segment ${victim.segment} at offset ${victim.offset}`);
  });

  it('names the journal sequence where a re-sealed, altered command makes order ids diverge', async () => {
    const copy = tamperedCopy();
    const journalDir = join(copy, 'journal');
    const records = readRecords(journalDir);
    // Record a wrong id for one accepted order: re-running it gives the id it really got.
    const index = records.findIndex((r, i) => i > 5 && r.entries.some((e) => e.command.op === 'place' && e.id !== null));
    const record = records[index]!;
    const position = record.entries.findIndex((e) => e.command.op === 'place' && e.id !== null);
    const removedId = record.entries[position]!.id;
    record.entries.splice(position, 1, { ...record.entries[position]!, id: removedId! + 1 });
    rewriteJournal(journalDir, records);
    const { code, stdout } = await runReplay([copy, '--verify']);
    expect(code, stdout).toBe(1);
    expect(stdout).toContain(
      `replay diverged at journal sequence ${record.seq + position}: order id ${removedId} where the journal recorded ${removedId! + 1}`,
    );
  });

  it('catches an altered price that only the live snapshots can tell apart', async () => {
    const copy = tamperedCopy();
    const journalDir = join(copy, 'journal');
    const records = readRecords(journalDir);
    const newestSnapshot = Math.max(...readdirSync(join(copy, 'snapshots')).map((name) => Number(name.slice(0, 16))));
    const referenced = new Set<number>();
    for (const r of records)
      for (const e of r.entries)
        if ((e.command.op === 'cancel' || e.command.op === 'amend') && 'id' in e.command.ref) referenced.add(e.command.ref.id);
    // A resting limit order no later command touches, moved far from the market: every command
    // still replays without a reject, so only the live server's snapshot shows the book differs.
    let target: { record: StoredRecord; position: number } | null = null;
    for (const record of records) {
      record.entries.forEach((e, position) => {
        const c = e.command;
        if (
          record.seq + position <= newestSnapshot &&
          c.op === 'place' &&
          c.kind === 'limit' &&
          c.tif === 'gtc' &&
          e.id !== null &&
          !referenced.has(e.id)
        ) {
          target = { record, position };
        }
      });
    }
    const found = target as { record: StoredRecord; position: number } | null;
    if (!found) throw new Error('the session has no untouched resting order before its newest snapshot');
    const entry = found.record.entries[found.position]!;
    if (entry.command.op !== 'place') throw new Error('unreachable');
    const farAway = entry.command.side === 'buy' ? 1 : 1_000_000;
    found.record.entries[found.position] = { ...entry, command: { ...entry.command, px: farAway } };
    rewriteJournal(journalDir, records);
    const { code, stdout } = await runReplay([copy, '--verify']);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(/verify FAILED .*(differs from the live server's snapshot|replay diverged at journal sequence \d+)/);
  });

  it('reports a torn tail, does not replay it, and leaves the file as it is', async () => {
    const copy = tamperedCopy();
    const records = readRecords(join(copy, 'journal'));
    const lastSegment = join(copy, 'journal', records.at(-1)!.segment);
    appendFileSync(lastSegment, Buffer.from([1, 2, 3, 4, 5, 6, 7]));
    const bytes = readFileSync(lastSegment);
    const { code, stdout, stderr } = await runReplay([copy, '--verify']);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain(`state hash ${session.stateHash}`);
    expect(stderr).toContain('torn record');
    expect(readFileSync(lastSegment).equals(bytes)).toBe(true);
  });

  it('refuses bad usage with exit code 2 and a message naming the problem', async () => {
    const unknown = await runReplay([session.dataDir, '--verify', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option --bogus');
    const misplaced = await runReplay([session.dataDir, '--verify', '--port', '1']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--port applies to --serve only');
  });

  it('fails with exit code 1 and a clear message when there is no journal', async () => {
    const { code, stderr } = await runReplay([join(session.dataDir, 'no-such-dir'), '--verify']);
    expect(code).toBe(1);
    expect(stderr).toContain('no journal at');
  });
});
