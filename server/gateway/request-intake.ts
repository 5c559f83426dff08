// From a decoded frame to handled requests, a bounded slice per connection per turn. One frame may
// hold 1,024 requests and one TCP read many frames; handled at once they held the event loop for
// every other connection (hundreds of ms of `markets`, seconds of `orders`). So each connection
// gets at most `sliceUnits` units of work, or `sliceMs`, per turn; the rest of its frames waits in
// its inbox for a later turn, after the other connections' requests of that turn and their release.
//
// A frame that has to wait is kept as bytes (copied: uWS reuses its buffer) and decoded when its
// turn comes, so a read of 16 frames costs the loop one decode now, not 16.
//
// Flow control: a connection's waiting requests are handled only while its replies are going
// out, i.e. while its queued outbound bytes are under `pauseBufferedBytes` (uWS's drain resumes
// it) and its replies not yet released (waiting on the journal) are under `maxUnreleasedUnits`.
// uWS.js 20.30 cannot stop reading one WebSocket, so the waiting bytes are capped: a client that
// keeps sending while it does not read gets closed 1008 instead of growing the server's memory.
//
// Every message is charged to the rate limit before validation: a flood of invalid messages costs
// the loop as much as a valid one.
import { MAX_MESSAGES_PER_FRAME, REJECT_CODES } from '../../protocol/constants.js';
import type { Codec } from '../../protocol/codec.js';
import type { ErrorMessage } from '../../protocol/messages.js';
import { floatFields, markFloats } from '../../protocol/msgpack-floats.js';
import { rejectUnread, validateRequest, type MarketTable } from '../../protocol/validate.js';
import type { Batch } from './batch.js';
import type { Connection } from './connection.js';
import type { RequestHandler } from './request-handler.js';

export interface IntakeLimits {
  /** Work units (requests, plus listed orders and markets) one connection may spend per turn. */
  readonly sliceUnits: number;
  /** Time one connection's slice may take, checked after each request. */
  readonly sliceMs: number;
  /** Queued outbound bytes above which a connection's waiting requests wait for drain. */
  readonly pauseBufferedBytes: number;
  /** Unreleased reply units above which a connection's waiting requests wait for a release. */
  readonly maxUnreleasedUnits: number;
  /** Bytes of frames a connection may have waiting; more closes it 1008. */
  readonly maxWaitingBytes: number;
}

/**
 * A slice of ~0.1 ms keeps another client's round trip near idle while one floods; 256 units
 * bound what one slice adds to a reply frame. Pausing at 128 KiB queued (an eighth of the 1 MiB
 * backpressure limit) and 2,048 unreleased units (two full `orders` pages) keeps a reading client
 * well under the slow-consumer cut. Waiting frames may take 1 MiB (16 frames at the payload limit).
 */
export function defaultIntakeLimits(maxBackpressureBytes: number): IntakeLimits {
  return {
    sliceUnits: 256,
    sliceMs: 0.1,
    pauseBufferedBytes: maxBackpressureBytes / 8,
    maxUnreleasedUnits: 2048,
    maxWaitingBytes: 16 * 64 * 1024,
  };
}

export interface IntakeDeps {
  readonly codec: Codec;
  readonly handler: RequestHandler;
  readonly markets: MarketTable;
  readonly limits: IntakeLimits;
  /** The batch of this turn (opened on first use, sealed when the turn ends). */
  readonly currentBatch: () => Batch;
}

const badFrame = (msg: string): ErrorMessage => ({ type: 'error', code: 'bad_frame', msg });

export class RequestIntake {
  /** Connections with messages or frames waiting. */
  private readonly waiting = new Set<Connection>();
  private scheduled = false;
  /** Units each connection has spent in `turn` (a batch is one turn). */
  private turn: Batch | null = null;
  private readonly spent = new Map<Connection, number>();

  constructor(private readonly deps: IntakeDeps) {}

  /** A WebSocket message. Its ArrayBuffer is valid only during this call: handled or copied now. */
  frame(connection: Connection, message: ArrayBuffer, isBinary: boolean): void {
    // Behind waiting requests, this frame waits too: replies keep the order of the requests.
    if (this.waiting.has(connection) || !this.isReady(connection) || this.spentThisTurn(connection)) {
      if (connection.waitingBytes + message.byteLength > this.deps.limits.maxWaitingBytes) {
        connection.ws.end(1008, `over ${this.deps.limits.maxWaitingBytes} bytes of requests waiting: read replies before sending more`);
        return;
      }
      connection.frames.push(isBinary ? new Uint8Array(message.slice(0)) : null);
      connection.waitingBytes += message.byteLength;
      this.wait(connection);
      return;
    }
    if (!this.open(connection, isBinary ? new Uint8Array(message) : null)) return;
    this.slice(connection);
    if (!connection.closed && this.hasWork(connection)) this.wait(connection);
    else this.clear(connection);
  }

  /** Something that held a connection back changed (a release, a drain): look again next turn. */
  wake(): void {
    if (this.scheduled || this.waiting.size === 0) return;
    this.scheduled = true;
    setImmediate(() => this.runWaiting());
  }

  /** A batch's replies left (or were refused): its units no longer hold their connections back. */
  released(batch: Batch): void {
    for (const [connection, units] of batch.unitsByConnection) connection.unreleasedUnits -= units;
    this.wake();
  }

  forget(connection: Connection): void {
    this.waiting.delete(connection);
    this.clear(connection);
  }

  /** Flow control: its replies are leaving, so it may have more handled. */
  private isReady(connection: Connection): boolean {
    const { pauseBufferedBytes, maxUnreleasedUnits } = this.deps.limits;
    if (connection.closed || connection.unreleasedUnits > maxUnreleasedUnits) return false;
    return connection.ws.getBufferedAmount() <= pauseBufferedBytes;
  }

  /** Its budget for this turn is used up (another frame of the same read, say). */
  private spentThisTurn(connection: Connection): boolean {
    return this.turn === this.deps.currentBatch() && (this.spent.get(connection) ?? 0) >= this.deps.limits.sliceUnits;
  }

  private hasWork(connection: Connection): boolean {
    return connection.inboxHead < connection.inbox.length || connection.frames.length > 0;
  }

  private wait(connection: Connection): void {
    this.waiting.add(connection);
    this.wake();
  }

  private clear(connection: Connection): void {
    connection.inbox = [];
    connection.inboxHead = 0;
    connection.frames = [];
    connection.waitingBytes = 0;
  }

  /**
   * Decodes a frame into the connection's inbox (null: a text frame). False when it holds no
   * requests; its bad_frame error is then in the batch, in order.
   */
  private open(connection: Connection, bytes: Uint8Array | null): boolean {
    connection.inbox = [];
    connection.inboxHead = 0;
    if (bytes === null) {
      this.deps.currentBatch().send(connection, badFrame('text frames are not accepted; send binary MessagePack'));
      return false;
    }
    let decoded: unknown;
    try {
      decoded = this.deps.codec.decode(bytes);
      // A float-encoded 5.0 decodes to the integer 5: mark it so the validator refuses it.
      const floats = floatFields(bytes);
      if (floats !== null) markFloats(decoded, floats);
    } catch {
      this.deps.currentBatch().send(connection, badFrame('frame is not valid MessagePack'));
      return false;
    }
    if (Array.isArray(decoded)) {
      if (decoded.length === 0 || decoded.length > MAX_MESSAGES_PER_FRAME) {
        this.deps.currentBatch().send(connection, badFrame(`an array frame holds 1 to ${MAX_MESSAGES_PER_FRAME} messages`));
        return false;
      }
      connection.inbox = decoded;
    } else if (typeof decoded === 'object' && decoded !== null && !ArrayBuffer.isView(decoded)) {
      connection.inbox = [decoded];
    } else {
      this.deps.currentBatch().send(connection, badFrame(REJECT_CODES.bad_frame));
      return false;
    }
    return true;
  }

  /** One slice for each waiting connection that may go on; again next turn while any is ready. */
  private runWaiting(): void {
    this.scheduled = false;
    let anyReady = false;
    for (const connection of [...this.waiting]) {
      if (connection.closed) {
        this.forget(connection);
        continue;
      }
      if (!this.isReady(connection)) continue;
      if (this.spentThisTurn(connection)) {
        anyReady = true;
        continue;
      }
      this.slice(connection);
      if (!this.hasWork(connection)) this.forget(connection);
      else if (this.isReady(connection)) anyReady = true;
    }
    // The others wait for a release or a drain, which wake us: no spinning meanwhile.
    if (anyReady) this.wake();
  }

  /**
   * Handles the connection's requests, decoding its waiting frames as it reaches them, until none
   * is left or its budget for this turn is spent.
   */
  private slice(connection: Connection): void {
    const batch = this.deps.currentBatch();
    if (batch !== this.turn) {
      this.turn = batch;
      this.spent.clear();
    }
    const { sliceUnits, sliceMs } = this.deps.limits;
    const started = performance.now();
    const spentBefore = this.spent.get(connection) ?? 0;
    let units = spentBefore;
    while (!connection.closed && units < sliceUnits && performance.now() - started < sliceMs) {
      if (connection.inboxHead >= connection.inbox.length) {
        const next = connection.frames.shift();
        if (next === undefined) break;
        connection.waitingBytes -= next === null ? 0 : next.byteLength;
        units++;
        this.open(connection, next);
        continue;
      }
      const item = connection.inbox[connection.inboxHead];
      connection.inbox[connection.inboxHead++] = undefined;
      const before = batch.work;
      this.process(batch, connection, item);
      units += 1 + batch.work - before;
    }
    this.spent.set(connection, units);
    const added = units - spentBefore;
    batch.unitsByConnection.set(connection, (batch.unitsByConnection.get(connection) ?? 0) + added);
    connection.unreleasedUnits += added;
  }

  private process(batch: Batch, connection: Connection, value: unknown): void {
    const limited = !connection.requests.take(batch.ts)
      ? { bucket: connection.requests, what: 'the rate limit' }
      : connection.accountRequests !== null && !connection.accountRequests.take(batch.ts)
        ? { bucket: connection.accountRequests, what: "the account's rate limit (across its connections)" }
        : null;
    if (limited !== null) {
      const retryAfterMs = limited.bucket.retryAfterMs();
      const reject = { ...rejectUnread(value, 'rate_limited'), msg: `over ${limited.what}; retry in ${retryAfterMs} ms`, retryAfterMs };
      this.deps.handler.refused(batch, connection, reject);
      return;
    }
    const validated = validateRequest(value, this.deps.markets);
    if (validated.ok) {
      this.deps.handler.handle(batch, connection, validated.request);
    } else {
      this.deps.handler.refused(batch, connection, validated.reject);
    }
  }
}
