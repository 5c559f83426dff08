// A deadline for one call to an outside service. A stopped server (SIGSTOP, a network black hole)
// keeps the TCP connection open and never answers, so no socket error ever comes: only a timer on
// our side notices. On expiry the call's signal is aborted with the DeadlineExceeded error, so a
// call that can be cancelled (a query.cancel(), a client disconnect) is told to give up.
import { abortReason, type Clock } from './clock.js';

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(readonly ms: number) {
    super(`deadline of ${ms} ms exceeded`);
  }
}

/**
 * Runs `call(signal)` and settles as it does, unless `ms` pass first: then rejects with
 * DeadlineExceeded and aborts `signal`. `parent` (optional) aborts the call early too, rejecting
 * with the parent's reason. The call's late result or error is ignored.
 */
export function withDeadline<T>(call: (signal: AbortSignal) => Promise<T>, ms: number, clock: Clock, parent?: AbortSignal): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return Promise.reject(new RangeError(`deadline must be a finite number > 0, got ${ms}`));
  if (parent?.aborted) return Promise.reject(abortReason(parent));
  const callController = new AbortController();
  const timerController = new AbortController();

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      timerController.abort();
      parent?.removeEventListener('abort', onParentAbort);
      settle();
    };
    const onParentAbort = (): void => {
      const reason = abortReason(parent!);
      callController.abort(reason);
      finish(() => reject(reason));
    };
    parent?.addEventListener('abort', onParentAbort, { once: true });

    clock.sleep(ms, timerController.signal).then(
      () => {
        const error = new DeadlineExceeded(ms);
        callController.abort(error);
        finish(() => reject(error));
      },
      () => {
        // The timer was cancelled because the call settled first.
      },
    );

    let pending: Promise<T>;
    try {
      pending = call(callController.signal);
    } catch (error) {
      finish(() => reject(error));
      return;
    }
    pending.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}
