// Decimal amounts ↔ ledger units, exactly, with the refusals an operator needs to see.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatUnits, toUnits } from '../../protocol/units.js';

describe('toUnits / formatUnits', () => {
  it('converts on the digits', () => {
    expect(toUnits('1000.50', 8, 'USD')).toBe(100_050_000_000);
    expect(toUnits('0.000001', 6)).toBe(1);
    expect(toUnits('42', 0)).toBe(42);
    expect(toUnits('007.1', 2)).toBe(710);
    expect(formatUnits(100_050_000_000, 8)).toBe('1000.50000000');
    expect(formatUnits(1, 6)).toBe('0.000001');
    expect(formatUnits(42, 0)).toBe('42');
  });

  it('refuses what is not exact, not a plain decimal, or past 2^53-1 units', () => {
    expect(() => toUnits('1000.001', 2, 'USD')).toThrow('1000.001 has 3 decimals; USD has 2, so the smallest amount is 0.01');
    for (const bad of ['1e3', '-5', '1,000', '', '.5', '5.', '0x10', 'NaN']) expect(() => toUnits(bad, 8)).toThrow(/not a plain decimal/);
    expect(() => toUnits('90071992.54740992', 8, 'USD')).toThrow(/more than 2\^53-1/);
    expect(toUnits('90071992.54740991', 8, 'USD')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('round-trips every safe amount at every decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 18 }), (units, decimals) => {
        expect(toUnits(formatUnits(units, decimals), decimals)).toBe(units);
      }),
    );
  });
});
