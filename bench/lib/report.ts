// Output helpers shared by the benchmarks: latency histograms, medians, a plain-text table, and
// the machine description every result is printed with.
import { cpus, totalmem } from 'node:os';
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Nanosecond histogram from 1 ns to 100 s at 3 significant digits. */
export function nanosHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: 3 });
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function percentiles(histogram: Histogram): Percentiles {
  return {
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** 1234567 → "1.23M"; keeps tables narrow without hiding the magnitude. */
export function human(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}K`;
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}

/** Nanoseconds as ns/µs/ms, whichever reads best. */
export function duration(nanos: number): string {
  if (nanos >= 1e6) return `${(nanos / 1e6).toFixed(2)} ms`;
  if (nanos >= 1e4) return `${(nanos / 1e3).toFixed(1)} µs`;
  if (nanos >= 1e3) return `${(nanos / 1e3).toFixed(2)} µs`;
  return `${Math.round(nanos)} ns`;
}

export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memGiB: number;
  readonly node: string;
  readonly date: string;
}

export function machine(): Machine {
  const info = cpus();
  return {
    cpu: info[0]?.model.trim() ?? 'unknown',
    cores: info.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

export function printMachine(): Machine {
  const m = machine();
  console.log(`${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}, ${m.date} (shared machine: figures are noisy)`);
  return m;
}

/** Forces a full collection when the process runs with --expose-gc; a no-op otherwise. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}
