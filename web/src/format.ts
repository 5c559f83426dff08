// Integers off the wire as the decimal text a person reads, and typed decimals back to integers,
// through the client's exact conversions (never a float).
import { formatUnits, toUnits } from '@spotwire/client';

export function formatPx(px: number | null | undefined, pxDecimals: number): string {
  return px === null || px === undefined ? '—' : formatUnits(px, pxDecimals);
}

export function formatQty(qty: number, qtyDecimals: number): string {
  return formatUnits(qty, qtyDecimals);
}

export function formatTime(ts: number): string {
  return new Date(ts).toISOString().slice(11, 19);
}

/** A typed amount as ticks or lots, or why it is not one. */
export function parseUnits(text: string, decimals: number, what: string): { ok: true; units: number } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: false, error: `enter the ${what}` };
  try {
    const units = toUnits(text, decimals, what);
    return units > 0 ? { ok: true, units } : { ok: false, error: `the ${what} must be above zero` };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
