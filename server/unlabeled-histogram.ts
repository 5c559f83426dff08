// A histogram without labels for a value observed once per command (match time). prom-client's
// Histogram allocates a closure and two label objects and hashes the labels on every `observe`,
// which cost about as much as matching the order; this one adds to a bucket array. It registers
// in a prom-client Registry and is exposed exactly as a prom-client Histogram is.
import type { Registry } from 'prom-client';

interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
  /** Always null/undefined here; present because prom-client's JSON export has it. */
  readonly exemplar: null | undefined;
}

export class UnlabeledHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bucketCounts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    /** Ascending, as prom-client's `buckets`. */
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    this.bucketCounts = new Float64Array(upperBounds.length);
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.bucketCounts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }

  /** The same values, names and labels that prom-client's Histogram#get returns. */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const bucketName = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    let cumulative = 0;
    this.upperBounds.forEach((bound, i) => {
      cumulative += this.bucketCounts[i]!;
      values.push({ labels: { le: bound }, value: cumulative, metricName: bucketName, exemplar: null });
    });
    values.push(
      { labels: { le: '+Inf' }, value: this.count, metricName: bucketName, exemplar: null },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum`, exemplar: undefined },
      { labels: {}, value: this.count, metricName: `${this.name}_count`, exemplar: undefined },
    );
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.bucketCounts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
