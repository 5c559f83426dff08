// The client's book subscriptions: a LocalBook per market, resubscribed on a seq gap or a bad
// checksum as the contract asks, and after a reconnect; every resubscription starts over from the
// server's fresh snapshot.
import { ClientError, type BookSubscribeOptions, type RawRequest } from './client-api.js';
import { LocalBook } from './local-book.js';
import type { BookMessage, Reply, SubbedReply } from './messages.js';

/** What the subscriptions need of the client: requests that also work while it restores a connection. */
export interface SubscriptionLink {
  readonly timeoutMs: number;
  send(messages: readonly RawRequest[]): Promise<Reply[]>;
  expect<R extends Reply>(message: RawRequest, type: R['type']): Promise<R>;
  canSend(): boolean;
}

interface BookSubscription {
  readonly sym: string;
  readonly depth: number | undefined;
  readonly interval: number | undefined;
  readonly book: LocalBook;
  readonly onUpdate: ((book: LocalBook) => void) | undefined;
  /** Settles the promise subscribe() returned, on the first good snapshot. */
  ready: { resolve: (book: LocalBook) => void; reject: (error: Error) => void } | undefined;
  readyTimer: ReturnType<typeof setTimeout> | undefined;
  resyncing: boolean;
}

export class BookSubscriptions {
  readonly #subs = new Map<string, BookSubscription>();
  /** Book resubscriptions after a seq gap or checksum mismatch, over all markets. */
  resyncs = 0;

  constructor(private readonly link: SubscriptionLink) {}

  subscribe(sym: string, options: BookSubscribeOptions): Promise<LocalBook> {
    if (this.#subs.has(sym)) return Promise.reject(new Error(`already subscribed to the book of ${sym}`));
    const sub: BookSubscription = {
      sym,
      depth: options.depth,
      interval: options.interval,
      book: new LocalBook(sym),
      onUpdate: options.onUpdate,
      ready: undefined,
      readyTimer: undefined,
      resyncing: false,
    };
    const ready = new Promise<LocalBook>((resolve, reject) => {
      sub.ready = { resolve, reject };
    });
    this.#subs.set(sym, sub);
    // The snapshot may come in a later frame than `subbed`, so the wait for it has its own timer.
    sub.readyTimer = setTimeout(
      () => this.#settleReady(sub, new ClientError('timeout', `no book snapshot for ${sym} in ${this.link.timeoutMs} ms`)),
      this.link.timeoutMs,
    );
    this.link.expect<SubbedReply>(subMessage(sub), 'subbed').catch((error: unknown) => {
      if (this.#subs.get(sym) === sub) this.#subs.delete(sym);
      this.#settleReady(sub, error instanceof Error ? error : new Error(String(error)));
    });
    return ready;
  }

  book(sym: string): LocalBook | undefined {
    return this.#subs.get(sym)?.book;
  }

  /** Drops a market's subscription at once (the caller sends the `unsub`). */
  remove(sym: string): void {
    const sub = this.#subs.get(sym);
    if (sub === undefined) return;
    this.#subs.delete(sym);
    this.#settleReady(sub, new Error(`unsubscribed from the book of ${sym}`));
  }

  onBook(msg: BookMessage): void {
    const sub = this.#subs.get(msg.sym);
    if (sub === undefined) return;
    // A snapshot ends a resync whatever its checksum says, so a bad one starts another.
    if (msg.snapshot === true) sub.resyncing = false;
    const result = sub.book.apply(msg);
    if (result.ok) {
      this.#settleReady(sub, sub.book);
      sub.onUpdate?.(sub.book);
    } else if (result.reason !== 'no_snapshot') {
      this.#resync(sub);
    }
    // 'no_snapshot': a delta still in flight from before a resync; the coming snapshot replaces it.
  }

  /** The connection dropped: every book is stale until its resubscription's snapshot. */
  markAllStale(): void {
    for (const sub of this.#subs.values()) {
      sub.book.markStale();
      sub.resyncing = false;
    }
  }

  /** On a new connection: subscribes every market again; resolves once all are `subbed`. */
  async resubscribeAll(): Promise<void> {
    const subs = [...this.#subs.values()];
    if (subs.length === 0) return;
    const replies = await this.link.send(subs.map(subMessage));
    for (const [i, reply] of replies.entries()) {
      if (reply.type !== 'subbed')
        throw new ClientError('unexpected_reply', `resubscribe to the book of ${subs[i]!.sym}: ${JSON.stringify(reply)}`);
    }
  }

  /** The client closed for good: subscriptions still waiting for their first snapshot fail. */
  failReady(error: Error): void {
    for (const sub of this.#subs.values()) this.#settleReady(sub, error);
  }

  #resync(sub: BookSubscription): void {
    if (sub.resyncing || !this.link.canSend()) return;
    sub.resyncing = true;
    this.resyncs++;
    // unsub and sub in one frame, so the server handles them back to back and in order.
    this.link
      .send([{ op: 'unsub', ch: 'book', sym: sub.sym }, subMessage(sub)])
      .then(([, subbed]) => {
        if (subbed?.type !== 'subbed') throw new Error(`resubscribe to ${sub.sym} failed: ${JSON.stringify(subbed)}`);
      })
      .catch(() => {
        // The book stays out of sync (book.synced is false); the next delta finds no snapshot.
        sub.resyncing = false;
      });
  }

  #settleReady(sub: BookSubscription, outcome: Error | LocalBook): void {
    if (sub.readyTimer !== undefined) clearTimeout(sub.readyTimer);
    sub.readyTimer = undefined;
    const ready = sub.ready;
    sub.ready = undefined;
    if (ready === undefined) return;
    if (outcome instanceof LocalBook) ready.resolve(outcome);
    else ready.reject(outcome);
  }
}

function subMessage(sub: BookSubscription): RawRequest {
  return {
    op: 'sub',
    ch: 'book',
    sym: sub.sym,
    ...(sub.depth === undefined ? {} : { depth: sub.depth }),
    ...(sub.interval === undefined ? {} : { interval: sub.interval }),
  };
}
