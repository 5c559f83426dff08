// The journal bench:journal and bench:hot-path recover from: a `steady` stream's accepted commands
// with the ids the engine gave them (what a live server journals), after the deposits that fund its
// accounts — recovery replays those first, as it would a server's start-up funding.
import type { JournalEntry } from '../../server/journal/command-codec.js';
import { createCommandCodec } from '../../server/journal/command-codec.js';
import { JournalWriter } from '../../server/journal/journal-writer.js';
import { SpotwireBook } from './book-adapters.js';
import { fundAccounts } from './funding.js';
import { RejectTally } from './reject-tally.js';
import { buildStream, createBenchEngine } from './streams.js';

export const SEGMENT_BYTES = 64 * 1024 * 1024;

/** `count` entries, deposits included; `rejects` counts the stream's commands left out. */
export function acceptedEntries(count: number): { entries: JournalEntry[]; rejects: RejectTally } {
  // Some of the stream is market orders into an empty side or similar rejects; over-generate.
  const stream = buildStream('steady', Math.ceil(count * 1.15), 7);
  const book = new SpotwireBook(stream);
  const engine = createBenchEngine();
  const entries = fundAccounts(
    engine,
    stream.commands.map((c) => c.account),
  );
  const rejects = new RejectTally();
  for (const command of book.commands) {
    if (entries.length >= count) break;
    const result = engine.execute(command);
    rejects.add(result);
    if (result.ok) entries.push({ command, id: command.op === 'place' ? (result.id ?? null) : null });
  }
  return { entries, rejects };
}

/** Writes `entries` from seq 1, `batch` commands per record, without fsync. */
export async function writeJournal(dir: string, entries: readonly JournalEntry[], batch: number): Promise<void> {
  const writer = new JournalWriter({ dir, nextSeq: 1, chain: 0, segmentBytes: SEGMENT_BYTES, fsync: false, codec: createCommandCodec() });
  const pending: Promise<void>[] = [];
  for (let i = 0; i < entries.length; i += batch) pending.push(writer.append(entries.slice(i, i + batch)));
  await Promise.all(pending);
  await writer.close();
}
