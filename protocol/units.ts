// Decimal text ↔ ledger units, exactly: "1000.50" of an asset with 8 decimals is 100050000000
// units. Done on the digits, never through a float, so no amount is silently rounded.

/** The units `text` stands for; throws, saying why, when it is not exact or not a safe integer. */
export function toUnits(text: string, decimals: number, asset = 'the asset'): number {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`${JSON.stringify(text)} is not a plain decimal amount like 1000 or 1000.50`);
  const [, whole, fraction = ''] = match;
  if (fraction.length > decimals) {
    throw new Error(
      `${text} has ${fraction.length} decimals; ${asset} has ${decimals}, so the smallest amount is ${formatUnits(1, decimals)}`,
    );
  }
  const digits = `${whole}${fraction.padEnd(decimals, '0')}`.replace(/^0+(?=\d)/, '');
  const units = Number(digits);
  if (!Number.isSafeInteger(units) || String(units) !== digits) throw new Error(`${text} ${asset} is more than 2^53-1 ledger units`);
  return units;
}

/** `units` as decimal text with exactly `decimals` places (none when decimals is 0). */
export function formatUnits(units: number, decimals: number): string {
  const negative = units < 0;
  const digits = String(Math.abs(units)).padStart(decimals + 1, '0');
  const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return negative ? `-${text}` : text;
}
