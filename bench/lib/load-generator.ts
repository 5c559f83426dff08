// The e2e load: K bot connections, each logged in as its own account, sending `place` orders in
// array frames of B with at most W orders awaiting their reply (closed loop), or at a fixed total
// rate (open loop); plus S market-data subscribers counting what they receive. Frames are encoded
// before the run and reused round-robin (their rids name a slot, and a slot is only reused once
// its orders were answered), so the client spends its CPU on sockets and decoding replies.
import { createCodec } from '../../protocol/codec.js';
import { mulberry32, randomInt } from './prng.js';
import { human, nanosHistogram, percentiles, type Percentiles } from './report.js';
import { RawWsClient } from './raw-ws-client.js';

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly sym: string;
  readonly connections: number;
  readonly window: number;
  readonly batch: number;
  readonly subscribers: number;
  /** Orders/s across all bots; 0 keeps every window full. */
  readonly rate: number;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** One token per bot; null for the echo server, which has no login. */
  readonly tokens: readonly string[] | null;
  /** Called as the measured window opens and closes (the caller samples the server's /proc). */
  readonly onWindow?: (phase: 'start' | 'end') => void;
}

export interface LoadResult {
  readonly acked: number;
  readonly rejected: number;
  /** Rejects in the measured window by code: `insufficient_funds` means a bot's account lacks funds. */
  readonly rejectCodes: Readonly<Record<string, number>>;
  readonly ordersPerSec: number;
  readonly latencyUs: Percentiles;
  readonly mdMessages: number;
  readonly mdPerSec: number;
  /** Cores the load client itself used during the measurement (1.0 = one core busy). */
  readonly clientCpu: number;
  readonly elapsedSeconds: number;
}

const codec = createCodec();

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

function messagesOf(payload: Uint8Array): unknown[] {
  const decoded = codec.decode(payload);
  return Array.isArray(decoded) ? decoded : [decoded];
}

/** One bot: pre-encoded frames, a window, per-frame send times for latency. */
class Bot {
  private readonly frames: Uint8Array[] = [];
  private readonly sentAt: Float64Array;
  private nextFrame = 0;
  inFlight = 0;
  acked = 0;
  rejected = 0;
  client!: RawWsClient;
  private loginWaiter: ((reply: Record<string, unknown>) => void) | null = null;

  constructor(
    private readonly options: LoadOptions,
    private readonly seed: number,
    private readonly listener: { onReply(latencyNs: number): void; onReject(code: string): void },
  ) {
    // More slots than can ever be in flight, so a slot's rids are answered before it is reused.
    const slots = Math.ceil(options.window / options.batch) * 2 + 8;
    this.sentAt = new Float64Array(slots);
    const random = mulberry32(seed);
    for (let slot = 0; slot < slots; slot++) {
      const orders = [];
      for (let j = 0; j < options.batch; j++) {
        const side = random() < 0.5 ? 'buy' : 'sell';
        // Half rest near the mid, half cross it as ioc: the book stays small while trades flow.
        const ioc = random() < 0.5;
        const px = ioc ? (side === 'buy' ? 10_010 : 9_990) : 10_000 + Math.round(3 * (random() + random() + random() - 1.5));
        orders.push({
          op: 'place',
          rid: slot * options.batch + j,
          sym: options.sym,
          side,
          kind: 'limit',
          px,
          qty: randomInt(random, 1, 10),
          tif: ioc ? 'ioc' : 'gtc',
        });
      }
      this.frames.push(codec.encode(orders));
    }
  }

  async open(): Promise<void> {
    this.client = await RawWsClient.open(this.options.host, this.options.port, '/ws', {
      onPayload: (payload) => this.receive(payload),
    });
    const token = this.options.tokens?.[this.seed];
    if (token === undefined) return;
    const reply = await new Promise<Record<string, unknown>>((resolve) => {
      this.loginWaiter = resolve;
      this.client.send(codec.encode({ op: 'login', rid: 'login', token, cancelOnDisconnect: true }));
    });
    if (reply.type !== 'login') throw new Error(`login refused: ${JSON.stringify(reply)}`);
  }

  /** Sends whole frames while they fit in the window; at most `limit` orders. Returns orders sent. */
  fill(limit: number): number {
    const { batch, window } = this.options;
    let sent = 0;
    while (this.inFlight + batch <= window && sent + batch <= limit) {
      const slot = this.nextFrame;
      this.nextFrame = (slot + 1) % this.frames.length;
      this.sentAt[slot] = nowNs();
      this.client.send(this.frames[slot]!);
      this.inFlight += batch;
      sent += batch;
    }
    return sent;
  }

  private receive(payload: Uint8Array): void {
    const now = nowNs();
    for (const message of messagesOf(payload) as Record<string, unknown>[]) {
      const rid = message.rid;
      if (typeof rid !== 'number') {
        if (rid === 'login' && this.loginWaiter) this.loginWaiter(message);
        continue;
      }
      if (message.type === 'reject') {
        this.rejected++;
        this.listener.onReject(String(message.code));
      } else this.acked++;
      this.inFlight--;
      this.listener.onReply(now - this.sentAt[Math.floor(rid / this.options.batch)]!);
    }
  }
}

async function openSubscriber(options: LoadOptions, onMessages: (count: number) => void): Promise<RawWsClient> {
  const client = await RawWsClient.open(options.host, options.port, '/ws', {
    onPayload: (payload) => onMessages(messagesOf(payload).length),
  });
  client.send(
    codec.encode([
      { op: 'sub', ch: 'book', sym: options.sym, depth: 10 },
      { op: 'sub', ch: 'trades', sym: options.sym },
    ]),
  );
  return client;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const histogram = nanosHistogram();
  let measuring = false;
  let mdMessages = 0;
  const rejectCodes: Record<string, number> = {};
  const listener = {
    onReply: (latency: number): void => {
      if (measuring) histogram.recordValue(Math.max(1, latency));
    },
    onReject: (code: string): void => {
      if (measuring) rejectCodes[code] = (rejectCodes[code] ?? 0) + 1;
    },
  };
  const bots = Array.from({ length: options.connections }, (_, i) => new Bot(options, i, listener));
  // Open in small groups: 256 simultaneous upgrades would measure the accept queue.
  for (let i = 0; i < bots.length; i += 32) await Promise.all(bots.slice(i, i + 32).map((bot) => bot.open()));
  const subscribers: RawWsClient[] = [];
  for (let i = 0; i < options.subscribers; i++) subscribers.push(await openSubscriber(options, (n) => (mdMessages += measuring ? n : 0)));

  let running = true;
  const started = nowNs();
  let sent = 0;
  // Closed loop: refill windows every turn. Open loop: send what is due by now, 1 ms ticks.
  const pump = (): void => {
    if (!running) return;
    if (options.rate === 0) {
      for (const bot of bots) bot.fill(Number.MAX_SAFE_INTEGER);
      setImmediate(pump);
      return;
    }
    let due = Math.floor(((nowNs() - started) / 1e9) * options.rate) - sent;
    for (let i = 0; i < bots.length && due >= options.batch; i++) {
      const bot = bots[(sent / options.batch + i) % bots.length]!;
      const n = bot.fill(Math.min(due, options.batch));
      sent += n;
      due -= n;
    }
    setTimeout(pump, 1);
  };
  pump();

  await delay(options.warmupSeconds * 1000);
  const ackedBefore = bots.reduce((sum, bot) => sum + bot.acked, 0);
  const rejectedBefore = bots.reduce((sum, bot) => sum + bot.rejected, 0);
  histogram.reset();
  mdMessages = 0;
  measuring = true;
  options.onWindow?.('start');
  const cpuBefore = process.cpuUsage();
  const measureStart = nowNs();
  await delay(options.seconds * 1000);
  measuring = false;
  options.onWindow?.('end');
  const elapsedSeconds = (nowNs() - measureStart) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const acked = bots.reduce((sum, bot) => sum + bot.acked, 0) - ackedBefore;
  const rejected = bots.reduce((sum, bot) => sum + bot.rejected, 0) - rejectedBefore;
  const mdCount = mdMessages;
  running = false;

  // Let in-flight orders be answered before closing (cancel-on-disconnect then empties the book).
  const drainDeadline = Date.now() + 10_000;
  while (bots.some((bot) => bot.inFlight > 0) && Date.now() < drainDeadline) await delay(10);
  for (const bot of bots) bot.client.close();
  for (const subscriber of subscribers) subscriber.close();
  const result: LoadResult = {
    acked,
    rejected,
    rejectCodes,
    ordersPerSec: acked / elapsedSeconds,
    latencyUs: scale(percentiles(histogram), 1e-3),
    mdMessages: mdCount,
    mdPerSec: mdCount / elapsedSeconds,
    clientCpu: (cpu.user + cpu.system) / 1e6 / elapsedSeconds,
    elapsedSeconds,
  };
  histogram.destroy();
  return result;
}

/** `rejected 0 of 1.2M orders`, with the codes when there are rejects. */
export function describeRejects(result: LoadResult): string {
  const codes = Object.entries(result.rejectCodes).map(([code, n]) => `${code} ${human(n)}`);
  return `rejected ${human(result.rejected)} of ${human(result.acked + result.rejected)} orders${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`;
}

function scale(p: Percentiles, factor: number): Percentiles {
  return { p50: p.p50 * factor, p99: p.p99 * factor, p999: p.p999 * factor, max: p.max * factor };
}
