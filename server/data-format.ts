// Which layout and rules a data dir's journal and snapshots were written under, kept in
// <dataDir>/FORMAT. Format 2 is protocol 1.1 (accounts and money): a journal of format 1 holds
// orders that were never funded, so replaying it under the money rules would reject them and
// diverge; a start says so plainly instead of failing deep inside recovery.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_FORMAT = 2;
const FORMAT_FILE = 'FORMAT';

function holdsData(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((name) => name.endsWith('.log') || name.endsWith('.snap'));
}

/** Throws when the data dir holds data of another format; a new or empty one passes. Writes nothing. */
export function checkDataFormat(dataDir: string, journalDir: string, snapshotDir: string): void {
  const file = join(dataDir, FORMAT_FILE);
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    const format = Number(text.split(/\s/)[0]);
    if (format !== DATA_FORMAT)
      throw new Error(
        `${dataDir} holds data format ${JSON.stringify(text)}; this server reads format ${DATA_FORMAT} only. Start on a new --data-dir`,
      );
    return;
  }
  if (holdsData(journalDir) || holdsData(snapshotDir)) {
    throw new Error(
      `${dataDir} was written before accounts and money (protocol 1.0, no ${FORMAT_FILE} file): its orders were never funded, ` +
        'so its journal cannot be replayed under the money rules. Replay or export it with the version that wrote it, and start this one on a new --data-dir',
    );
  }
}

/** Marks the data dir as this format (once, before anything is journaled into it). */
export function recordDataFormat(dataDir: string): void {
  const file = join(dataDir, FORMAT_FILE);
  if (existsSync(file)) return;
  writeFileSync(`${file}.tmp`, `${DATA_FORMAT} (protocol 1.1: accounts and money)\n`);
  renameSync(`${file}.tmp`, file);
}
