// Shared helpers for the end-to-end tests in test/e2e: typed clients that record what they
// receive, polling waits, HTTP and Prometheus helpers, and raw-socket book verification.
import WebSocket from 'ws';
import { SpotwireClient, type WebSocketConstructor } from '../../protocol/client.js';
import { LocalBook } from '../../protocol/local-book.js';
import type { BookMessage, Exec, Level, ServerMessage, TradeMessage } from '../../protocol/messages.js';
import type { RawSocket } from './raw-socket.js';

export const SYM = 'BTC-USD';
export const SYM2 = 'ETH-USD';

/** A typed client plus everything it has received, in order. */
export interface Recorded {
  readonly client: SpotwireClient;
  readonly messages: ServerMessage[];
  readonly execs: Exec[];
  readonly trades: TradeMessage[];
  readonly books: BookMessage[];
  closeCode: number | null;
}

export async function connect(url: string, token?: string, cancelOnDisconnect?: boolean): Promise<Recorded> {
  const client = await SpotwireClient.connect(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, timeoutMs: 15_000 });
  const recorded: Recorded = { client, messages: [], execs: [], trades: [], books: [], closeCode: null };
  client.onMessage((message) => {
    recorded.messages.push(message);
    if (message.type === 'exec') recorded.execs.push(message);
    else if (message.type === 'trade') recorded.trades.push(message);
    else if (message.type === 'book') recorded.books.push(message);
  });
  client.onClose((info) => {
    recorded.closeCode = info.code;
  });
  if (token !== undefined) {
    await client.login(token, cancelOnDisconnect === undefined ? {} : { cancelOnDisconnect });
  }
  return recorded;
}

/** Polls `predicate` until it holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A barrier: once a ping on `client` is answered, everything the server released before it
 * (execs, trades, book deltas for this socket) has been dispatched on this client. Valid because
 * batches are released strictly in order and one socket's frames keep their order.
 */
export async function barrier(...clients: Recorded[]): Promise<void> {
  await Promise.all(clients.map((c) => c.client.ping()));
}

export async function httpGet(url: string): Promise<{ status: number; contentType: string | null; body: string }> {
  const response = await fetch(url);
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

/** The value of one Prometheus sample: `name` with exactly these labels (any order); 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',').filter((p) => p.length > 0)) {
      const eq = pair.indexOf('=');
      found[pair.slice(0, eq).trim()] = JSON.parse(pair.slice(eq + 1)) as string;
    }
    const wanted = Object.entries(labels);
    if (wanted.length !== Object.keys(found).length) continue;
    if (wanted.every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return 0;
}

/** Applies every `book` message a raw socket received for `sym`, checking seq and cs on each. */
export class RawBookChecker {
  readonly book: LocalBook;
  applied = 0;
  deltas = 0;
  snapshots = 0;
  failures: string[] = [];
  private cursor = 0;

  constructor(
    private readonly socket: RawSocket,
    readonly sym: string,
  ) {
    this.book = new LocalBook(sym);
  }

  /** Applies the messages received since the last call. */
  drain(): void {
    const messages = this.socket.messages;
    for (; this.cursor < messages.length; this.cursor++) {
      const message = messages[this.cursor]!;
      if (message.type !== 'book' || message.sym !== this.sym) continue;
      const book = message as unknown as BookMessage;
      const before = this.book.seq;
      const result = this.book.apply(book);
      this.applied++;
      if (book.snapshot !== true) {
        this.deltas++;
        // A merged delta (sub with an interval) covers seqFrom..seq.
        if ((book.seqFrom ?? book.seq) !== before + 1) this.failures.push(`seq ${book.seqFrom ?? book.seq} after ${before}`);
      } else {
        this.snapshots++;
      }
      if (!result.ok) this.failures.push(`seq ${book.seq}: ${result.reason}`);
    }
  }
}

export function sideLevels(book: LocalBook): { bids: Level[]; asks: Level[] } {
  return { bids: book.bids(), asks: book.asks() };
}
