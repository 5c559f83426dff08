// An edge gateway's side of the bus (docs/SCALING.md): it forwards the order entry of each
// event-loop turn to the core as one stream entry, remembers which request waits for which tag,
// and tails the core's journal stream. A request the core does not answer within the deadline is
// answered `unavailable` (its outcome unknown: the client resolves it by cid); a command that cannot
// even be sent (Redis away) is `unavailable` at once. In-flight commands are bounded.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CommandResult, EngineCommand } from '../engine/types.js';
import type { Origin } from '../gateway/order-commands.js';
import {
  busKeys,
  decodeRecord,
  decodeSnapshot,
  encodeForwarded,
  type BusKeys,
  type BusRecord,
  type BusSnapshot,
  type ForwardedCommand,
} from './bus-format.js';

export interface EdgeBusOptions {
  readonly url: string;
  readonly prefix: string;
  readonly logger: Logger;
  /** How long a forwarded command may wait for the core's record before it is answered `unavailable`. */
  readonly timeoutMs: number;
  /** Forwarded commands waiting at once; one more is `unavailable` at once. */
  readonly maxInFlight: number;
  /** Entries the commands stream keeps (XADD MAXLEN ~, BUS_STREAM_MAXLEN). */
  readonly streamLength: number;
  /** Answers waiting requests whose deadline passed (called with a batch open, Gateway-side). */
  readonly onExpired: (expired: readonly Waiting[]) => void;
}

export interface Waiting {
  readonly origin: Origin | null;
  readonly command: EngineCommand;
  readonly deadline: number;
}

type Unavailable = Extract<CommandResult, { ok: false }>;

const READ_COUNT = 256;
const BLOCK_MS = 1_000;
const SWEEP_MS = 100;

export function unavailable(msg: string): Unavailable {
  return { ok: false, code: 'unavailable', msg, events: [] };
}

export class EdgeBus {
  readonly keys: BusKeys;
  /** Unique per process: the core tags its answers with it. */
  readonly edgeId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly sender: Redis;
  private readonly reader: Redis;
  private readonly waiting = new Map<number, Waiting>();
  private outbox: ForwardedCommand[] = [];
  private nextTag = 1;
  private sweepTimer: NodeJS.Timeout | null = null;
  private tailing: Promise<void> | null = null;
  private stopped = false;
  /** How old the last record read was when it arrived (ms, by its entry id's Redis time). */
  lastRecordAgeMs = 0;
  forwardedCommands = 0;
  unavailableAnswers = 0;

  constructor(private readonly options: EdgeBusOptions) {
    this.keys = busKeys(options.prefix);
    // No offline queue on the sender: with Redis away a forward fails at once instead of piling up.
    this.sender = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (n) => Math.min(n * 100, 1_000),
    });
    this.reader = new Redis(options.url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 100, 1_000) });
    for (const connection of [this.sender, this.reader]) {
      connection.on('error', (error: Error) => options.logger.debug({ err: error.message }, 'bus connection error'));
    }
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  get connected(): boolean {
    return this.sender.status === 'ready' && this.reader.status === 'ready';
  }

  /** The core's newest snapshot; waits for one (a core that just started publishes it at once). */
  async loadSnapshot(waitMs: number): Promise<BusSnapshot> {
    const until = Date.now() + waitMs;
    for (;;) {
      try {
        const bytes = await this.reader.getBuffer(this.keys.snapshot);
        if (bytes !== null) return decodeSnapshot(bytes);
      } catch (error) {
        this.options.logger.warn({ err: (error as Error).message }, 'bus: cannot read the core snapshot yet');
      }
      if (Date.now() > until)
        throw new Error(`no core snapshot at ${this.keys.snapshot} after ${waitMs} ms: is a core running on this bus?`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Queues a command for the core, sent at the end of this turn with the others; null when it is
   * on its way, else the `unavailable` answer to give now.
   */
  forward(origin: Origin | null, command: EngineCommand): Unavailable | null {
    if (this.stopped) return unavailable('the gateway is shutting down');
    if (this.sender.status !== 'ready') return this.refuse('not sent: the bus (Redis) is unreachable');
    if (this.waiting.size >= this.options.maxInFlight) {
      return this.refuse(`not sent: ${this.options.maxInFlight} orders of this gateway already wait for the core`);
    }
    const tag = this.nextTag++;
    this.waiting.set(tag, { origin, command, deadline: Date.now() + this.options.timeoutMs });
    if (this.outbox.length === 0) setImmediate(() => this.flush());
    this.outbox.push({ tag, command });
    return null;
  }

  /** The request waiting for `tag`, which the core has now answered (undefined: expired or not ours). */
  take(tag: number): Waiting | undefined {
    const waiting = this.waiting.get(tag);
    if (waiting) this.waiting.delete(tag);
    return waiting;
  }

  /** Reads the journal stream from its start (what Redis still holds), calling `onRecord` in order. */
  startTail(onRecord: (record: BusRecord) => void): void {
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
    this.tailing = this.tail('0-0', onRecord);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.reader.disconnect();
    await this.tailing?.catch(() => undefined);
    this.sender.disconnect();
  }

  private refuse(msg: string): Unavailable {
    this.unavailableAnswers++;
    return unavailable(msg);
  }

  private flush(): void {
    const commands = this.outbox;
    this.outbox = [];
    if (commands.length === 0) return;
    this.forwardedCommands += commands.length;
    const bytes = encodeForwarded({ edge: this.edgeId, commands, timeoutMs: this.options.timeoutMs });
    this.sender.xadd(this.keys.commands, 'MAXLEN', '~', this.options.streamLength, '*', 'b', bytes).catch((error: unknown) => {
      // It may or may not have reached Redis: the deadline answers these requests, outcome unknown.
      this.options.logger.warn({ err: (error as Error).message, commands: commands.length }, 'bus: forwarding failed');
    });
  }

  private async tail(from: string, onRecord: (record: BusRecord) => void): Promise<void> {
    let cursor = from;
    while (!this.stopped) {
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        reply = (await this.reader.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', this.keys.journal, cursor)) as
          [Buffer, [Buffer, Buffer[]][]][] | null;
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.warn({ err: (error as Error).message }, 'bus: cannot read the journal stream; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (reply === null || this.stopped) continue;
      for (const [id, fields] of reply[0]![1]) {
        cursor = id.toString();
        const value = fields[1];
        if (value === undefined) continue;
        this.lastRecordAgeMs = Math.max(0, Date.now() - Number(cursor.slice(0, cursor.indexOf('-'))));
        onRecord(decodeRecord(value));
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    const expired: Waiting[] = [];
    for (const [tag, waiting] of this.waiting) {
      // Insertion order is deadline order: one timeout for all.
      if (waiting.deadline > now) break;
      this.waiting.delete(tag);
      expired.push(waiting);
    }
    if (expired.length === 0) return;
    this.unavailableAnswers += expired.length;
    this.options.onExpired(expired);
  }
}
