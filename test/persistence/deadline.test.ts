import { describe, expect, it } from 'vitest';
import { systemClock } from '../../server/persistence/resilience/clock.js';
import { DeadlineExceeded, withDeadline } from '../../server/persistence/resilience/deadline.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';

/** A call that never settles unless its signal aborts; records the signal it was given. */
function hungCall() {
  const state: { signal?: AbortSignal } = {};
  const call = (signal: AbortSignal): Promise<string> => {
    state.signal = signal;
    return new Promise<string>(() => {});
  };
  return { call, state };
}

describe('withDeadline', () => {
  it('resolves with the call when it settles in time, and cancels its timer', async () => {
    const clock = new FakeClock();
    let given: AbortSignal | undefined;
    const promise = withDeadline(
      async (signal) => {
        given = signal;
        await clock.sleep(50);
        return 'answer';
      },
      100,
      clock,
    );
    await clock.advance(50);
    await expect(promise).resolves.toBe('answer');
    expect(given?.aborted).toBe(false);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('passes a rejection through unchanged', async () => {
    const clock = new FakeClock();
    const error = new Error('connection refused');
    await expect(withDeadline(() => Promise.reject(error), 100, clock)).rejects.toBe(error);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('rejects with DeadlineExceeded when the call hangs, exactly at the deadline, and aborts its signal', async () => {
    const clock = new FakeClock();
    const { call, state } = hungCall();
    let outcome: unknown = 'pending';
    const promise = withDeadline(call, 250, clock).catch((e: unknown) => (outcome = e));
    await clock.advance(249);
    expect(outcome).toBe('pending');
    expect(state.signal?.aborted).toBe(false);
    await clock.advance(1);
    await promise;
    expect(outcome).toBeInstanceOf(DeadlineExceeded);
    expect((outcome as DeadlineExceeded).ms).toBe(250);
    expect((outcome as Error).message).toBe('deadline of 250 ms exceeded');
    expect(state.signal?.aborted).toBe(true);
    expect(state.signal?.reason).toBe(outcome);
  });

  it('ignores a late result after the deadline fired', async () => {
    const clock = new FakeClock();
    let finishLate: (value: string) => void = () => {};
    const outcome = withDeadline(() => new Promise<string>((resolve) => (finishLate = resolve)), 10, clock).catch((e: unknown) => e);
    await clock.advance(10);
    finishLate('too late');
    expect(await outcome).toBeInstanceOf(DeadlineExceeded);
  });

  it('a synchronous throw from the factory rejects instead of escaping', async () => {
    const clock = new FakeClock();
    const promise = withDeadline(
      () => {
        throw new Error('bad arguments');
      },
      10,
      clock,
    );
    await expect(promise).rejects.toThrow('bad arguments');
    expect(clock.pendingSleeps).toBe(0);
  });

  it('a parent signal aborts the call early with its reason', async () => {
    const clock = new FakeClock();
    const parent = new AbortController();
    const { call, state } = hungCall();
    const promise = withDeadline(call, 1_000, clock, parent.signal);
    await flushPromises();
    const reason = new Error('shutting down');
    parent.abort(reason);
    await expect(promise).rejects.toBe(reason);
    expect(state.signal?.reason).toBe(reason);
    expect(clock.pendingSleeps).toBe(0);
    const already = withDeadline(call, 1_000, clock, parent.signal);
    await expect(already).rejects.toBe(reason);
  });

  it('rejects a deadline that is not a positive finite number', async () => {
    const clock = new FakeClock();
    for (const ms of [0, -5, Number.NaN, Infinity]) {
      await expect(withDeadline(() => Promise.resolve(1), ms, clock)).rejects.toThrow(RangeError);
    }
  });

  it('fires on the system clock too', async () => {
    const { call, state } = hungCall();
    await expect(withDeadline(call, 20, systemClock)).rejects.toBeInstanceOf(DeadlineExceeded);
    expect(state.signal?.aborted).toBe(true);
  });
});

describe('clocks', () => {
  it('systemClock.sleep waits and can be aborted', async () => {
    const before = systemClock.now();
    await systemClock.sleep(5);
    expect(systemClock.now()).toBeGreaterThanOrEqual(before + 4);
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    await expect(systemClock.sleep(1, controller.signal)).rejects.toThrow('stop');
  });

  it('FakeClock fires sleeps in due order, ties in creation order, including ones made on the way', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    void clock.sleep(30).then(() => fired.push(`a@${clock.now()}`));
    void clock.sleep(10).then(() => fired.push(`b@${clock.now()}`));
    void clock.sleep(10).then(async () => {
      fired.push(`c@${clock.now()}`);
      await clock.sleep(5);
      fired.push(`c2@${clock.now()}`);
    });
    void clock.sleep(100).then(() => fired.push('late'));
    await clock.advance(50);
    expect(fired).toEqual(['b@10', 'c@10', 'c2@15', 'a@30']);
    expect(clock.now()).toBe(50);
    expect(clock.pendingDelays()).toEqual([50]);
  });
});
