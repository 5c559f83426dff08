// Batches a sink rejected permanently (its data broke a constraint) are kept here, on local disk,
// so that marking them applied loses nothing: an operator can read, fix and replay them.
//
// One file per batch: <dataDir>/dead-letter/<sink>/<fromSeq>-<toSeq>.dlq, both seqs zero-padded to
// 16 digits so names sort in journal order. A file is written to a temp name, fsynced, renamed
// and the directory fsynced, so it either is complete or does not exist. The same batch added
// twice (a crash between add and markApplied replays it) lands on the same name: no duplicate.
//
// File: 8-byte magic, u32 CRC-32C of the body, then the MessagePack body.
//
// Bounded: at `maxPerSink` files for a sink, `add` throws DeadLetterStoreFull. The pipeline then
// cannot mark the batch applied and stops advancing that sink; the journal holds what follows,
// so nothing is lost while an operator makes room.
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import type { Clock } from '../resilience/clock.js';
import type { EventBatch } from '../event-batch.js';
import { checkedFileKind, openFile, sealFile } from '../../journal/checked-file.js';

const DEAD_LETTER_FILE = checkedFileKind('SWDLQ001', 'dead-letter');
const SINK_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const FILE_NAME = /^(\d{16})-(\d{16})\.dlq$/;
const ID = /^([A-Za-z0-9_-]{1,64})\/(\d{16})-(\d{16})$/;

/** Batches kept per sink before the store refuses more (the sink then stops; the journal holds the rest). */
export const MAX_DEAD_LETTERS_PER_SINK = 1_000;

/** What `list` returns: enough to choose, without reading the batch. */
export interface DeadLetterSummary {
  /** `<sink>/<fromSeq>-<toSeq>` (seqs zero-padded): stable, and what read/remove take. */
  readonly id: string;
  readonly sink: string;
  readonly fromSeq: number;
  readonly toSeq: number;
}

export interface DeadLetter extends DeadLetterSummary {
  readonly batch: EventBatch;
  /** The sink's error, as text. */
  readonly error: string;
  /** When the batch was dead-lettered (ms since the epoch, from the store's clock). */
  readonly at: number;
}

export interface DeadLetterStoreOptions {
  /** The server's data dir; files go under `<dataDir>/dead-letter/<sink>/`. */
  readonly dataDir: string;
  /** Most batches kept per sink; `add` beyond it throws DeadLetterStoreFull. */
  readonly maxPerSink: number;
  readonly clock: Clock;
  /** Default true. Off only where durability does not matter (tests). */
  readonly fsync?: boolean;
}

/** Thrown by `add` when a sink already has `max` dead letters. */
export class DeadLetterStoreFull extends Error {
  override readonly name = 'DeadLetterStoreFull';
  readonly code = 'dead_letter_store_full';
  constructor(
    readonly sink: string,
    readonly max: number,
  ) {
    super(`dead-letter store for sink '${sink}' is full (${max} batches): remove or replay some to go on`);
  }
}

interface StoredBody {
  readonly sink: string;
  readonly batch: EventBatch;
  readonly error: string;
  readonly at: number;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export class DeadLetterStore {
  private readonly root: string;
  private readonly fsync: boolean;
  /** Writes and removals run one at a time, so the bound holds under concurrent adds. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly preparedSinks = new Set<string>();

  constructor(private readonly options: DeadLetterStoreOptions) {
    if (!Number.isInteger(options.maxPerSink) || options.maxPerSink < 1) {
      throw new RangeError(`maxPerSink must be an integer ≥ 1, got ${options.maxPerSink}`);
    }
    this.root = join(options.dataDir, 'dead-letter');
    this.fsync = options.fsync ?? true;
  }

  /**
   * Stores `batch` for `sink` with `error`'s text, under the id `deadLetterId(sink, batch)`.
   * Idempotent by (sink, seq range).
   */
  async add(sink: string, batch: EventBatch, error: unknown): Promise<void> {
    checkSinkName(sink);
    if (!Number.isSafeInteger(batch.fromSeq) || !Number.isSafeInteger(batch.toSeq) || batch.fromSeq < 0 || batch.toSeq < batch.fromSeq) {
      throw new RangeError(`bad batch seq range ${batch.fromSeq}..${batch.toSeq}`);
    }
    return this.serially(() => this.write(sink, batch, describeError(error)));
  }

  /** Dead letters of one sink, or of all sinks, in (sink, fromSeq) order. */
  async list(sink?: string): Promise<DeadLetterSummary[]> {
    if (sink !== undefined) checkSinkName(sink);
    const sinks = sink === undefined ? (await readdirOrEmpty(this.root)).filter((name) => SINK_NAME.test(name)).sort() : [sink];
    const found: DeadLetterSummary[] = [];
    for (const name of sinks) {
      for (const file of await this.files(name)) {
        const match = FILE_NAME.exec(file)!;
        const fromSeq = Number(match[1]);
        const toSeq = Number(match[2]);
        found.push({ id: deadLetterId(name, { fromSeq, toSeq }), sink: name, fromSeq, toSeq });
      }
    }
    return found;
  }

  /** How many dead letters `sink` has. */
  async count(sink: string): Promise<number> {
    checkSinkName(sink);
    return (await this.files(sink)).length;
  }

  /** The dead letter `id`, or null if there is none. Throws on a malformed id or a damaged file. */
  async read(id: string): Promise<DeadLetter | null> {
    const { sink, path, fromSeq, toSeq } = this.locate(id);
    let file: Buffer;
    try {
      file = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const body = decode(file, id);
    return { id, sink, fromSeq, toSeq, batch: body.batch, error: body.error, at: body.at };
  }

  /** Deletes the dead letter `id`; false if there was none. */
  async remove(id: string): Promise<boolean> {
    const { sink, path } = this.locate(id);
    return this.serially(async () => {
      try {
        await unlink(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      if (this.fsync) await syncDirectory(this.sinkDir(sink));
      return true;
    });
  }

  private async write(sink: string, batch: EventBatch, error: string): Promise<void> {
    const dir = this.sinkDir(sink);
    await this.prepare(sink);
    const name = `${pad(batch.fromSeq)}-${pad(batch.toSeq)}`;
    const files = await this.files(sink);
    if (!files.includes(`${name}.dlq`) && files.length >= this.options.maxPerSink) {
      throw new DeadLetterStoreFull(sink, this.options.maxPerSink);
    }
    const temp = join(dir, `${name}.dlq.tmp`);
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(encode({ sink, batch, error, at: this.options.clock.now() }));
      if (this.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, `${name}.dlq`));
    if (this.fsync) await syncDirectory(dir);
  }

  /** Creates the sink's dir and drops temp files a crash left half-written. */
  private async prepare(sink: string): Promise<void> {
    if (this.preparedSinks.has(sink)) return;
    const dir = this.sinkDir(sink);
    await mkdir(dir, { recursive: true });
    for (const name of await readdirOrEmpty(dir)) {
      if (name.endsWith('.dlq.tmp')) await unlink(join(dir, name)).catch(() => undefined);
    }
    this.preparedSinks.add(sink);
  }

  private async files(sink: string): Promise<string[]> {
    return (await readdirOrEmpty(this.sinkDir(sink))).filter((name) => FILE_NAME.test(name)).sort();
  }

  private locate(id: string): { sink: string; path: string; fromSeq: number; toSeq: number } {
    const match = ID.exec(id);
    if (match === null) throw new TypeError(`not a dead-letter id: ${JSON.stringify(id)}`);
    const [, sink, from, to] = match as unknown as [string, string, string, string];
    return { sink, path: join(this.sinkDir(sink), `${from}-${to}.dlq`), fromSeq: Number(from), toSeq: Number(to) };
  }

  private sinkDir(sink: string): string {
    return join(this.root, sink);
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The id a batch is stored under: `<sink>/<fromSeq>-<toSeq>`, seqs zero-padded to 16 digits. */
export function deadLetterId(sink: string, batch: Pick<EventBatch, 'fromSeq' | 'toSeq'>): string {
  return `${sink}/${pad(batch.fromSeq)}-${pad(batch.toSeq)}`;
}

function checkSinkName(sink: string): void {
  if (!SINK_NAME.test(sink)) throw new TypeError(`bad sink name ${JSON.stringify(sink)}: letters, digits, '_' and '-' only`);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function pad(seq: number): string {
  return String(seq).padStart(16, '0');
}

function encode(body: StoredBody): Buffer {
  return sealFile(DEAD_LETTER_FILE, packr.pack(body));
}

function decode(file: Buffer, id: string): StoredBody {
  try {
    return unpackr.unpack(openFile(DEAD_LETTER_FILE, file)) as StoredBody;
  } catch (error) {
    throw new Error(`dead letter ${id}: ${(error as Error).message}`);
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
