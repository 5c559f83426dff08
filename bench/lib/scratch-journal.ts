// A fresh journal in a scratch directory, written as the server writes it but without fsync and
// with snapshots only when asked for: what benches and tests build their journals with.
import { pino } from 'pino';
import { Journal, type JournalOptions } from '../../server/journal/journal.js';

export type ScratchJournalOptions = Pick<JournalOptions, 'journalDir' | 'snapshotDir' | 'codec' | 'captureState' | 'clock'> &
  Partial<Pick<JournalOptions, 'segmentBytes' | 'snapshotEveryCommands' | 'retainFromSeq'>>;

export function openScratchJournal(options: ScratchJournalOptions): Journal {
  return new Journal({
    nextSeq: 1,
    chain: 0,
    fsync: false,
    segmentBytes: 64 * 1024 * 1024,
    snapshotEveryCommands: 10_000_000,
    snapshotEveryMs: 3_600_000,
    keepJournal: false,
    log: pino({ level: 'silent' }),
    ...options,
  });
}
