// Requests awaiting their reply, by rid: each has a timer that rejects it with a ClientError
// 'timeout', and whatever ends the connection rejects the rest at once with the error it chooses.
import { ClientError, type RawRequest } from './client-api.js';
import type { Reply } from './messages.js';

export type StampedRequest = RawRequest & { readonly rid: number };

interface Pending {
  readonly request: StampedRequest;
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
  add(message: RawRequest): { request: StampedRequest; reply: Promise<Reply> } {
    const request: StampedRequest = { ...message, rid: this.#nextRid++ };
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(request.rid);
        reject(new ClientError('timeout', `no reply to ${request.op} (rid ${request.rid}) in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.#pending.set(request.rid, { request, resolve, reject, timer });
    });
    return { request, reply };
  }

  resolve(reply: Reply): void {
    if (typeof reply.rid !== 'number') return;
    const pending = this.#pending.get(reply.rid);
    if (pending === undefined) return;
    this.#pending.delete(reply.rid);
    clearTimeout(pending.timer);
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
