// Paces journal records like the live session: each record (one live batch) is due when as much
// time has passed since the first one as passed between their command timestamps, divided by the
// speed. At `max` it runs flat out but yields to the event loop every few milliseconds, and waits
// while a subscriber's socket is backed up, so sockets drain instead of being cut off.
import type { JournalRecord } from '../journal/journal-reader.js';

export type Speed = number | 'max';

export interface PlaybackLimits {
  /** Stop before the first record that ends after this sequence. */
  readonly toSeq: number | null;
  /** Stop before the first record stamped after this time (ms). */
  readonly toTime: number | null;
}

export interface PlaybackHooks {
  /** Publishes one record. */
  readonly play: (record: JournalRecord) => void;
  /** Bytes queued on the most backed-up subscriber socket. */
  readonly backlogBytes: () => number;
  readonly onProgress?: (commands: number) => void;
}

export interface PlaybackStats {
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly commands: number;
  readonly records: number;
  readonly elapsedMs: number;
}

/** Work done in one event-loop turn at max speed before I/O gets its turn. */
const MAX_SPEED_SLICE_MS = 10;
/** At max speed, publishing pauses while any socket has more than this queued. */
export const BACKLOG_PAUSE_BYTES = 256 * 1024;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function recordTime(record: JournalRecord): number {
  return record.entries[0]!.command.ts;
}

/** How long to wait before a record stamped `ts`, `elapsedMs` into a playback that began at `firstTs`. */
export function delayBefore(ts: number, firstTs: number, elapsedMs: number, speed: number): number {
  return Math.max(0, (ts - firstTs) / speed - elapsedMs);
}

export async function playRecords(
  records: Iterable<JournalRecord>,
  speed: Speed,
  limits: PlaybackLimits,
  hooks: PlaybackHooks,
  signal: AbortSignal,
): Promise<PlaybackStats> {
  const started = performance.now();
  let sliceStarted = started;
  let firstTs: number | null = null;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let commands = 0;
  let played = 0;
  for (const record of records) {
    if (signal.aborted) break;
    const ts = recordTime(record);
    if (limits.toSeq !== null && record.seq + record.count - 1 > limits.toSeq) break;
    if (limits.toTime !== null && ts > limits.toTime) break;
    firstTs ??= ts;
    if (speed === 'max') {
      if (performance.now() - sliceStarted >= MAX_SPEED_SLICE_MS) {
        await nextTurn();
        while (hooks.backlogBytes() > BACKLOG_PAUSE_BYTES && !signal.aborted) await sleep(2, signal);
        sliceStarted = performance.now();
      }
    } else {
      const wait = delayBefore(ts, firstTs, performance.now() - started, speed);
      if (wait > 0) await sleep(wait, signal);
      else await nextTurn();
      if (signal.aborted) break;
    }
    hooks.play(record);
    firstSeq ??= record.seq;
    lastSeq = record.seq + record.count - 1;
    commands += record.count;
    played++;
    hooks.onProgress?.(commands);
  }
  return { firstSeq, lastSeq, commands, records: played, elapsedMs: performance.now() - started };
}
