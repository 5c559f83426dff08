// Append-only, segmented, group-committed journal. `append` encodes a batch's record at once (so
// sequence numbers and the chain follow commit order) and resolves when the record is on disk.
// While one write + fdatasync is in flight, later records queue up and go out together in the
// next single write: one syscall pair per group, however many batches it holds.
// Without fsync a record is written at once, synchronously, when nothing is queued: a write into
// the page cache takes microseconds, while a trip through the libuv threadpool held every batch's
// acks back by an event-loop turn. It is as durable as the fsync-less promise goes (a process crash).
// A failed write or fsync is final: the writer refuses everything after it, and the server stops
// order entry. There is no silent retry: the state of a failed write on disk is unknown.
import { writeSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandCodec, JournalEntry } from './command-codec.js';
import { chainOf, encodeRecord } from './record-format.js';
import { segmentName } from './file-names.js';

/** The file operations the writer needs; tests substitute one that fails like a full disk. */
export interface JournalFile {
  write(buffer: Buffer): Promise<void>;
  /** A synchronous write of the whole buffer, for the writer without fsync; optional. */
  writeNow?(buffer: Buffer): void;
  datasync(): Promise<void>;
  /** Cuts the file back to `size` bytes and syncs that; used to take back a group that failed. */
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

export interface JournalFileSystem {
  openAppend(path: string): Promise<JournalFile>;
  syncDirectory(path: string): Promise<void>;
}

export const nodeFileSystem: JournalFileSystem = {
  async openAppend(path) {
    const handle: FileHandle = await open(path, 'a');
    return {
      async write(buffer) {
        let offset = 0;
        while (offset < buffer.length) {
          const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
          offset += bytesWritten;
        }
      },
      writeNow(buffer) {
        let offset = 0;
        while (offset < buffer.length) offset += writeSync(handle.fd, buffer, offset, buffer.length - offset);
      },
      datasync: () => handle.datasync(),
      async truncate(size) {
        await handle.truncate(size);
        await handle.datasync();
      },
      close: () => handle.close(),
    };
  },
  async syncDirectory(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

export interface JournalWriterOptions {
  readonly dir: string;
  /** Sequence number of the next command to be journaled. */
  readonly nextSeq: number;
  /** Chain value of the last record written (0 for an empty journal). */
  readonly chain: number;
  readonly segmentBytes: number;
  /** false only for benchmarks that measure what durability costs. */
  readonly fsync: boolean;
  readonly codec: CommandCodec;
  readonly fileSystem?: JournalFileSystem;
}

interface QueuedRecord {
  readonly bytes: Buffer;
  readonly firstSeq: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class JournalWriter {
  private file: JournalFile | null = null;
  private segmentSize = 0;
  private queue: QueuedRecord[] = [];
  private flushing: Promise<void> | null = null;
  private nextSeqValue: number;
  private chainValue: number;
  private failure: Error | null = null;
  private readonly fs: JournalFileSystem;
  /** Groups written and records in them, for metrics and benchmarks. */
  groups = 0;
  records = 0;
  /** The body of the record appended last (a cluster core publishes these bytes as they are). */
  lastBody: Uint8Array | null = null;

  constructor(private readonly options: JournalWriterOptions) {
    this.nextSeqValue = options.nextSeq;
    this.chainValue = options.chain;
    this.fs = options.fileSystem ?? nodeFileSystem;
  }

  get nextSeq(): number {
    return this.nextSeqValue;
  }

  get chain(): number {
    return this.chainValue;
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Journals one batch's commands (with a cluster core's bus position); resolves once they are durable. */
  append(entries: readonly JournalEntry[], busCursor: string | null = null): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const body = this.options.codec.encodeBatch(entries, busCursor);
    this.lastBody = body;
    const firstSeq = this.nextSeqValue;
    this.chainValue = chainOf(body, this.chainValue);
    const bytes = encodeRecord(body, firstSeq, entries.length, this.chainValue);
    this.nextSeqValue += entries.length;
    if (this.canWriteNow(bytes.length)) return this.writeNow(bytes);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, firstSeq, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Waits for everything appended so far, then closes the segment. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.file) {
      await this.file.close();
      this.file = null;
    }
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        try {
          await this.writeGroup(group);
        } catch (error) {
          this.fail(error as Error, group);
          return;
        }
        for (const record of group) record.resolve();
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Without fsync, with nothing queued and room in the open segment: no need to wait a turn. */
  private canWriteNow(bytes: number): boolean {
    return (
      !this.options.fsync &&
      this.flushing === null &&
      this.file?.writeNow !== undefined &&
      !(this.segmentSize > 0 && this.segmentSize + bytes > this.options.segmentBytes)
    );
  }

  private writeNow(bytes: Buffer): Promise<void> {
    const file = this.file!;
    try {
      file.writeNow!(bytes);
    } catch (error) {
      this.failure = new Error(`journal write failed: ${(error as Error).message}`, { cause: error });
      // As in writeGroup: whatever of the record reached the file must not be replayed.
      this.flushing = file
        .truncate(this.segmentSize)
        .catch(() => undefined)
        .finally(() => {
          this.flushing = null;
        });
      return Promise.reject(this.failure);
    }
    this.segmentSize += bytes.length;
    this.groups++;
    this.records++;
    return Promise.resolve();
  }

  private async writeGroup(group: readonly QueuedRecord[]): Promise<void> {
    const bytes = group.length === 1 ? group[0]!.bytes : Buffer.concat(group.map((r) => r.bytes));
    if (this.file === null || (this.segmentSize > 0 && this.segmentSize + bytes.length > this.options.segmentBytes)) {
      await this.startSegment(group[0]!.firstSeq);
    }
    const file = this.file!;
    try {
      await file.write(bytes);
      if (this.options.fsync) await file.datasync();
    } catch (error) {
      // The group's callers get rejects, so whatever of it reached the file must not be replayed
      // at the next start (a failed fdatasync leaves a whole record there). Best effort: if the
      // truncate fails too, the disk is gone and nothing better can be done from here.
      await file.truncate(this.segmentSize).catch(() => undefined);
      throw error;
    }
    this.segmentSize += bytes.length;
    this.groups++;
    this.records += group.length;
  }

  private async startSegment(firstSeq: number): Promise<void> {
    if (this.file) {
      await this.file.close();
      this.file = null;
    }
    await mkdir(this.options.dir, { recursive: true });
    this.file = await this.fs.openAppend(join(this.options.dir, segmentName(firstSeq)));
    this.segmentSize = 0;
    // The new file's directory entry must be durable too, or a crash could lose the whole segment.
    if (this.options.fsync) await this.fs.syncDirectory(this.options.dir);
  }

  private fail(error: Error, group: readonly QueuedRecord[]): void {
    this.failure = new Error(`journal write failed: ${error.message}`, { cause: error });
    for (const record of [...group, ...this.queue]) record.reject(this.failure);
    this.queue = [];
  }
}
