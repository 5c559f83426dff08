import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  CircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitState,
} from '../../server/persistence/resilience/circuit-breaker.js';
import { FakeClock } from '../support/fake-clock.js';

type Transition = [from: CircuitState, to: CircuitState, reason: string];

function setup(overrides: Partial<CircuitBreakerOptions> = {}) {
  const clock = new FakeClock();
  const transitions: Transition[] = [];
  const breaker = new CircuitBreaker({
    name: 'redis',
    failureThreshold: 3,
    openMs: 1_000,
    clock,
    onTransition: (from, to, reason) => transitions.push([from, to, reason]),
    ...overrides,
  });
  return { clock, breaker, transitions };
}

const ok = (): Promise<string> => Promise.resolve('ok');
const boom = (message = 'ECONNREFUSED'): Promise<never> => Promise.reject(new Error(message));

async function failTimes(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) await expect(breaker.call(() => boom())).rejects.toThrow('ECONNREFUSED');
}

describe('CircuitBreaker', () => {
  it('starts closed and passes results and errors through', async () => {
    const { breaker, transitions } = setup();
    expect(breaker.state).toBe('closed');
    await expect(breaker.call(ok)).resolves.toBe('ok');
    await expect(breaker.call(() => boom('bad'))).rejects.toThrow('bad');
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual([]);
  });

  it('opens after exactly failureThreshold consecutive failures', async () => {
    const { breaker, transitions } = setup();
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(2);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(transitions).toHaveLength(1);
    const [from, to, reason] = transitions[0]!;
    expect([from, to]).toEqual(['closed', 'open']);
    expect(reason).toContain('3 consecutive failure(s)');
    expect(reason).toContain('ECONNREFUSED');
  });

  it('a success resets the count of consecutive failures', async () => {
    const { breaker } = setup();
    await failTimes(breaker, 2);
    await breaker.call(ok);
    expect(breaker.failures).toBe(0);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('open rejects at once with CircuitOpenError without calling, until openMs has passed', async () => {
    const { clock, breaker } = setup();
    await failTimes(breaker, 3);
    let called = 0;
    const counted = async (): Promise<string> => {
      called += 1;
      return 'ok';
    };
    await clock.advance(400);
    const error = await breaker.call(counted).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryInMs).toBe(600);
    expect((error as CircuitOpenError).breaker).toBe('redis');
    await clock.advance(599);
    await expect(breaker.call(counted)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(0);
    expect(breaker.state).toBe('open');
  });

  it('open → half-open after openMs; a successful probe closes it', async () => {
    const { clock, breaker, transitions } = setup();
    await failTimes(breaker, 3);
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.call(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(transitions.map(([from, to]) => `${from}>${to}`)).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
    expect(transitions[1]![2]).toBe('open for 1000 ms');
    expect(transitions[2]![2]).toContain('probe(s) succeeded');
  });

  it('a failed probe opens it again for a full openMs', async () => {
    const { clock, breaker, transitions } = setup();
    await failTimes(breaker, 3);
    await clock.advance(1_000);
    await expect(breaker.call(() => boom('still down'))).rejects.toThrow('still down');
    expect(breaker.state).toBe('open');
    expect(transitions.at(-1)).toEqual(['half-open', 'open', 'probe failed: still down']);
    await clock.advance(999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('half-open admits only halfOpenProbes calls at a time; the rest are rejected', async () => {
    const { clock, breaker } = setup({ halfOpenProbes: 2 });
    await failTimes(breaker, 3);
    await clock.advance(1_000);
    const gates: Array<() => void> = [];
    const slow = (): Promise<string> => new Promise((resolve) => gates.push(() => resolve('probe')));
    const first = breaker.call(slow);
    const second = breaker.call(slow);
    const third = await breaker.call(slow).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(CircuitOpenError);
    expect((third as CircuitOpenError).retryInMs).toBe(0);
    expect(gates).toHaveLength(2);
    gates[0]!();
    await first;
    expect(breaker.state).toBe('half-open');
    gates[1]!();
    await second;
    expect(breaker.state).toBe('closed');
  });

  it('with two probes, one failure among them reopens it', async () => {
    const { clock, breaker } = setup({ halfOpenProbes: 2 });
    await failTimes(breaker, 3);
    await clock.advance(1_000);
    await breaker.call(ok);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.call(() => boom())).rejects.toThrow();
    expect(breaker.state).toBe('open');
  });

  it('ignores outcomes of calls that started before the latest transition', async () => {
    const { clock, breaker, transitions } = setup({ failureThreshold: 1 });
    let release: (value: string) => void = () => {};
    const slowSuccess = breaker.call(() => new Promise<string>((resolve) => (release = resolve)));
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    release('late');
    await expect(slowSuccess).resolves.toBe('late');
    // The late success of a closed-era call is no probe: still half-open, probe slot still free.
    expect(breaker.state).toBe('half-open');
    await breaker.call(ok);
    expect(breaker.state).toBe('closed');
    expect(transitions).toHaveLength(3);
  });

  it('errors that isFailure rejects do not count, and are still thrown', async () => {
    const permanent = new Error('duplicate key');
    const { breaker } = setup({ failureThreshold: 1, isFailure: (error) => error !== permanent });
    await expect(breaker.call(() => Promise.reject(permanent))).rejects.toBe(permanent);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('a throwing onTransition listener does not change the outcome', async () => {
    const { breaker } = setup({
      failureThreshold: 1,
      onTransition: () => {
        throw new Error('listener bug');
      },
    });
    await expect(breaker.call(() => boom())).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe('open');
  });

  it('rejects nonsensical options', () => {
    const clock = new FakeClock();
    expect(() => new CircuitBreaker({ name: 'x', failureThreshold: 0, openMs: 1, clock })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ name: 'x', failureThreshold: 1.5, openMs: 1, clock })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ name: 'x', failureThreshold: 1, openMs: -1, clock })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ name: 'x', failureThreshold: 1, openMs: 1, halfOpenProbes: 0, clock })).toThrow(RangeError);
  });
});
