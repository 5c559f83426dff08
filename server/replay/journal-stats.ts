// A quick pass over record headers only (no decoding): how much a replay has ahead of it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_HEADER_BYTES, readHeader } from '../journal/record-format.js';
import { listSegments } from '../journal/file-names.js';

export interface JournalStats {
  readonly commands: number;
  readonly records: number;
}

export function countJournal(journalDir: string): JournalStats {
  let commands = 0;
  let records = 0;
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  for (const segment of listSegments(journalDir)) {
    const fd = openSync(join(journalDir, segment), 'r');
    try {
      const size = fstatSync(fd).size;
      let offset = 0;
      while (offset + RECORD_HEADER_BYTES <= size) {
        readSync(fd, header, 0, RECORD_HEADER_BYTES, offset);
        const { bodyLength, count } = readHeader(header, 0);
        offset += RECORD_HEADER_BYTES + bodyLength;
        if (offset > size) break;
        commands += count;
        records++;
      }
    } finally {
      closeSync(fd);
    }
  }
  return { commands, records };
}
