// Requests awaiting their reply, by rid: each has a timer that rejects it with a ClientError
// 'timeout', and whatever ends the connection rejects the rest at once with the error it chooses.
// A request may carry an `onReply` run synchronously as its reply is dispatched, before the
// frame's later messages: a snapshot must land before the pushes that follow it, not after them
// as an `await` continuation would.
import { ClientError, type RawRequest } from './client-api.js';
import type { Reply } from './messages.js';

export type StampedRequest = RawRequest & { readonly rid: number };

export type OnReply = (reply: Reply) => void;

interface Pending {
  readonly request: StampedRequest;
  readonly onReply: OnReply | undefined;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  readonly #pending = new Map<number, Pending>();
  #nextRid = 1;

  constructor(readonly timeoutMs: number) {}

  get size(): number {
    return this.#pending.size;
  }

  /** Gives `message` the next rid and a promise of its reply. */
  add(message: RawRequest, onReply?: OnReply): { request: StampedRequest; reply: Promise<Reply> } {
    const request: StampedRequest = { ...message, rid: this.#nextRid++ };
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(request.rid);
        reject(new ClientError('timeout', `no reply to ${request.op} (rid ${request.rid}) in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.#pending.set(request.rid, { request, onReply, resolve, reject, timer });
    });
    return { request, reply };
  }

  resolve(reply: Reply): void {
    if (typeof reply.rid !== 'number') return;
    const pending = this.#pending.get(reply.rid);
    if (pending === undefined) return;
    this.#pending.delete(reply.rid);
    clearTimeout(pending.timer);
    pending.onReply?.(reply);
    pending.resolve(reply);
  }

  /** Rejects every pending request with the error `errorFor` makes of it. */
  failAll(errorFor: (request: StampedRequest) => Error): void {
    for (const [rid, pending] of this.#pending) {
      this.#pending.delete(rid);
      clearTimeout(pending.timer);
      pending.reject(errorFor(pending.request));
    }
  }
}
