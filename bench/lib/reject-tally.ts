// Rejects by code, printed beside a bench's figures: a run whose accounts lack funds (or whose
// commands went wrong some other way) then shows it, where its throughput alone would look fine.
// Counted after timing, or outside the timed calls, so the figures do not pay for it.
import { human } from './report.js';

export interface RejectCounts {
  readonly commands: number;
  readonly rejected: number;
  readonly byCode: Record<string, number>;
}

export class RejectTally {
  commands = 0;
  rejected = 0;
  readonly byCode = new Map<string, number>();

  /** One command's outcome: an engine result, or `{ ok: false, code }` for a reject seen on the wire. */
  add(result: { readonly ok: true } | { readonly ok: false; readonly code: string }): void {
    this.commands++;
    if (result.ok) return;
    this.rejected++;
    this.byCode.set(result.code, (this.byCode.get(result.code) ?? 0) + 1);
  }

  /** `rejected 1.2K of 200.0K (0.6%: no_liquidity 1.2K)`. */
  summary(): string {
    const share = this.commands === 0 ? 0 : (100 * this.rejected) / this.commands;
    const codes = [...this.byCode].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${human(n)}`);
    return `rejected ${human(this.rejected)} of ${human(this.commands)} (${share.toFixed(1)}%${codes.length > 0 ? `: ${codes.join(', ')}` : ''})`;
  }

  toJSON(): RejectCounts {
    return { commands: this.commands, rejected: this.rejected, byCode: Object.fromEntries(this.byCode) };
  }
}
