// The write-behind as the server's main thread sees it: a worker thread (worker.ts) running the
// pipeline, so that replaying the journal per sink and serializing for Redis and Postgres take no
// CPU from matching, and a handle that posts durable seqs to it and keeps its latest reported
// health and retention point for the synchronous callers (/health, journal retirement). The
// worker's Prometheus metrics appear in the server's registry through proxies that ask it on scrape.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { watchEventLoop } from './matching-pressure.js';
import type { WriteBehindHealth } from './pipeline.js';
import { DEFAULT_TUNING, type WriteBehindSetup } from './setup.js';

/** What the server needs from the write-behind, wherever it runs. */
export interface WriteBehindHandle {
  notifyDurable(seq: number): void;
  retainFromSeq(): number;
  health(): WriteBehindHealth;
  close(drainMs: number): Promise<{ drained: boolean }>;
}

export type ToWorker =
  | { type: 'durable'; seq: number }
  | { type: 'pressure'; matchingBusy: boolean }
  | { type: 'metrics'; id: number }
  | { type: 'close'; drainMs: number };

/** How often the main thread checks whether matching is saturated. */
const PRESSURE_SAMPLE_MS = 100;

type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'state'; health: WriteBehindHealth; retainFromSeq: number }
  | { type: 'metrics'; id: number; metrics: MetricJson[] }
  | { type: 'closed'; drained: boolean; error?: string };

interface MetricJson {
  name: string;
  help: string;
  type: string;
  values: unknown[];
  aggregator: string;
}

/** The metric names the worker's registry holds (sink-runner.ts), proxied into the server's. */
const PROXIED_METRICS: readonly [name: string, type: string][] = [
  ['spotwire_sink_applied_seq', 'gauge'],
  ['spotwire_sink_lag_events', 'gauge'],
  ['spotwire_sink_lag_ms', 'gauge'],
  ['spotwire_sink_batch_commands', 'histogram'],
  ['spotwire_sink_failures_total', 'counter'],
  ['spotwire_sink_breaker_state', 'gauge'],
  ['spotwire_sink_dead_letters', 'gauge'],
  ['spotwire_sink_held_commands', 'gauge'],
];

const METRICS_TIMEOUT_MS = 1_000;

/** tsx's ESM loader API as an absolute URL: a worker's eval code resolves bare names from the cwd. */
function tsxLoaderUrl(): string {
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(manifestPath), manifest.exports['./esm/api']!.import.default)).href;
}

/**
 * The worker's heap: a batch lives until every sink has written it (milliseconds to seconds), so
 * with V8's default 16 MB semi-space most of its events survive two scavenges and are copied into
 * the old generation, where scavenging and marking them takes a large share of the CPU. With
 * 64 MB semi-spaces (this is 3× that: two semi-spaces and the large-object space) they die young
 * (docs/PERSISTENCE.md, "Thread", has the measurement).
 */
export const WRITE_BEHIND_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 192 } as const;

/** Eval source of a worker running `entry`, through tsx's loader when the entry is TypeScript. */
export function workerSourceFor(entry: string): string {
  const fromSources = entry.endsWith('.ts');
  // Run from TypeScript sources (tsx, vitest), the worker needs the same loader as its parent.
  return fromSources
    ? `import(${JSON.stringify(tsxLoaderUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`
    : `import(${JSON.stringify(entry)});`;
}

function workerSource(): string {
  const fromSources = import.meta.url.endsWith('.ts');
  return workerSourceFor(new URL(fromSources ? './worker.ts' : './worker.js', import.meta.url).href);
}

class WriteBehindThread implements WriteBehindHandle {
  private worker: Worker | null = null;
  private latest: WriteBehindHealth = { status: 'degraded', sinks: {} };
  private retain = 0;
  private durableSeq: number;
  private restarts = 0;
  private nextRequest = 0;
  private readonly pendingMetrics = new Map<number, (metrics: MetricJson[]) => void>();
  private scrape: Promise<MetricJson[]> | null = null;
  private closing: Promise<{ drained: boolean }> | null = null;
  private matchingBusy = false;
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly setup: WriteBehindSetup,
    private readonly log: Logger,
  ) {
    this.durableSeq = setup.durableSeq;
  }

  /** Tells the worker whenever matching becomes saturated or stops being so. */
  watchMatching(): void {
    this.stopWatching = watchEventLoop(PRESSURE_SAMPLE_MS, (busy) => {
      this.matchingBusy = busy;
      this.worker?.postMessage({ type: 'pressure', matchingBusy: busy } satisfies ToWorker);
    });
  }

  notifyDurable(seq: number): void {
    this.durableSeq = seq;
    this.worker?.postMessage({ type: 'durable', seq } satisfies ToWorker);
  }

  /** The last value the worker reported: still right while it is down, as no sink moves then. */
  retainFromSeq(): number {
    return this.retain;
  }

  health(): WriteBehindHealth {
    return this.latest;
  }

  /** Starts a worker; resolves once its sinks are built, or rejects (bad setup). */
  spawn(): Promise<void> {
    const worker = new Worker(workerSource(), {
      eval: true,
      workerData: { ...this.setup, durableSeq: this.durableSeq, matchingBusy: this.matchingBusy } satisfies WriteBehindSetup,
      resourceLimits: WRITE_BEHIND_RESOURCE_LIMITS,
    });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          ready = true;
          resolve();
        } else if (message.type === 'failed') reject(new Error(`write-behind could not start: ${message.message}`));
        else this.onMessage(message);
      });
      worker.on('error', (error) => {
        this.log.error({ err: error }, 'write-behind worker failed');
        this.latest = { status: 'degraded', sinks: this.latest.sinks, error: error.message };
        if (!ready) reject(error);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        // An exit without an 'error' event (terminated, process.exit in the worker) is a failure
        // too: until a new worker reports, nothing is written behind.
        if (ready && this.closing === null && this.latest.error === undefined) {
          this.latest = { status: 'degraded', sinks: this.latest.sinks, error: `write-behind worker exited (code ${code})` };
        }
        for (const deliver of this.pendingMetrics.values()) deliver([]);
        this.pendingMetrics.clear();
        if (!ready) reject(new Error('write-behind worker exited before it was ready'));
        else if (this.closing === null) this.respawnLater();
      });
    });
  }

  /** A worker that died is replaced; the new one resumes every sink from its applied seq. */
  private respawnLater(): void {
    const delayMs = Math.min(10_000, 250 * 2 ** Math.min(this.restarts++, 6));
    this.log.warn({ delayMs, restarts: this.restarts }, 'write-behind worker stopped; restarting it');
    setTimeout(() => {
      if (this.closing !== null) return;
      this.spawn().then(
        () => this.log.info('write-behind worker restarted'),
        (error: unknown) => {
          this.log.error({ err: error }, 'write-behind worker did not restart');
          if (this.closing === null && this.worker === null) this.respawnLater();
        },
      );
    }, delayMs).unref();
  }

  close(drainMs: number): Promise<{ drained: boolean }> {
    this.stopWatching?.();
    this.closing ??= new Promise((resolve) => {
      const worker = this.worker;
      if (worker === null) return resolve({ drained: false });
      const timer = setTimeout(() => {
        this.log.warn('write-behind worker did not stop in time; terminating it');
        void worker.terminate();
        resolve({ drained: false });
      }, drainMs + 5_000);
      worker.on('message', (message: FromWorker) => {
        if (message.type !== 'closed') return;
        clearTimeout(timer);
        if (message.error) this.log.error({ err: message.error }, 'write-behind close failed');
        resolve({ drained: message.drained });
      });
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve({ drained: false });
      });
      worker.postMessage({ type: 'close', drainMs } satisfies ToWorker);
    });
    return this.closing;
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'state') {
      this.latest = message.health;
      this.retain = message.retainFromSeq;
    } else if (message.type === 'metrics') {
      this.pendingMetrics.get(message.id)?.(message.metrics);
      this.pendingMetrics.delete(message.id);
    }
  }

  /** One request per scrape, shared by all proxied metrics; empty if the worker does not answer. */
  private workerMetrics(): Promise<MetricJson[]> {
    this.scrape ??= new Promise<MetricJson[]>((resolve) => {
      const worker = this.worker;
      if (worker === null) return resolve([]);
      const id = this.nextRequest++;
      const timer = setTimeout(() => {
        this.pendingMetrics.delete(id);
        resolve([]);
      }, METRICS_TIMEOUT_MS);
      this.pendingMetrics.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      worker.postMessage({ type: 'metrics', id } satisfies ToWorker);
    }).finally(() => {
      setTimeout(() => {
        this.scrape = null;
      }, 100);
    });
    return this.scrape;
  }

  proxyMetrics(registry: Registry): void {
    for (const [name, type] of PROXIED_METRICS) {
      const proxy = {
        name,
        type,
        help: name,
        aggregator: 'sum',
        get: async (): Promise<MetricJson> =>
          (await this.workerMetrics()).find((metric) => metric.name === name) ?? { name, help: name, type, values: [], aggregator: 'sum' },
        reset: () => undefined,
      };
      // A structural stand-in: prom-client's registry only calls get() (and reads name/type).
      registry.registerMetric(proxy as unknown as Parameters<Registry['registerMetric']>[0]);
    }
  }
}

/**
 * Starts the write-behind `setup` describes in its worker thread; resolves once the worker's sinks
 * are built (rejects on a bad setup), or to null when the setup names no sink.
 */
export async function startWriteBehind(setup: WriteBehindSetup, registry: Registry, log: Logger): Promise<WriteBehindHandle | null> {
  if (setup.redisUrl === null && setup.databaseUrl === null) return null;
  const thread = new WriteBehindThread(setup, log);
  await thread.spawn();
  thread.proxyMetrics(registry);
  if ((setup.tuning?.busyDutyCycle ?? DEFAULT_TUNING.busyDutyCycle) < 1) thread.watchMatching();
  return thread;
}
