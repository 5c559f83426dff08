import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CommandTally } from '../../server/gateway/command-tally.js';

async function valuesOf(counter: Counter<'op' | 'result'>): Promise<Record<string, number>> {
  const { values } = await counter.get();
  return Object.fromEntries(values.map((v) => [`${String(v.labels.op)}/${String(v.labels.result)}`, v.value]));
}

describe('CommandTally', () => {
  it('adds each (op, result) count to the counter once per flush, and starts again from zero', async () => {
    const counter = new Counter({ name: 'tally_test_total', help: 'test', labelNames: ['op', 'result'], registers: [new Registry()] });
    const tally = new CommandTally();
    for (let i = 0; i < 5; i++) tally.count('place', 'ok');
    tally.count('place', 'bad_number');
    tally.count('cancel', 'ok');
    tally.flushTo(counter);
    expect(await valuesOf(counter)).toEqual({ 'place/ok': 5, 'place/bad_number': 1, 'cancel/ok': 1 });
    tally.flushTo(counter);
    expect(await valuesOf(counter)).toEqual({ 'place/ok': 5, 'place/bad_number': 1, 'cancel/ok': 1 });
    tally.count('place', 'ok');
    tally.flushTo(counter);
    expect((await valuesOf(counter))['place/ok']).toBe(6);
  });
});
