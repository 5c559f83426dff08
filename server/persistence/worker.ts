// Worker-thread entry of the write-behind: the journal replay (one shared by the sinks in step), the
// sinks' serialization and their clients all run here, so none of that CPU is spent on the thread
// that matches orders. The main thread (write-behind.ts) only posts durable seqs.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { createCommandCodec } from '../journal/command-codec.js';
import { createLogger, parseLogFormat } from '../logger.js';
import { writeBehindFromConfig } from './write-behind-from-config.js';
import type { ToWorker, WorkerSetup } from './write-behind.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
// The main thread resolved LOG_FORMAT (a worker's stdout is never a terminal); same format here.
const log = createLogger(parseLogFormat(process.env.LOG_FORMAT, false) ?? 'json', setup.logLevel).child({ thread: 'write-behind' });
const registry = new Registry();
// A stray rejection is logged rather than taking the pipeline down (the main thread would restart
// it, but every sink would then reopen and replay from its applied seq).
process.on('unhandledRejection', (error) => log.error({ err: error }, 'write-behind: unhandled rejection'));

// On Linux the nice value belongs to a thread and pid 0 means the calling one, so this lowers the
// priority of this worker only: the write-behind yields the CPU to matching instead of taking a
// share of order throughput when the cores are busy. (The libuv pool threads keep the process's.)
if ((setup.nice ?? 0) > 0) {
  try {
    setPriority(0, setup.nice!);
  } catch (error) {
    log.warn({ err: error, nice: setup.nice }, 'write-behind: could not lower the worker thread priority');
  }
}

try {
  const writeBehind = await writeBehindFromConfig(setup.config, {
    journalDir: setup.journalDir,
    snapshotDir: setup.snapshotDir,
    limits: setup.limits,
    codec: createCommandCodec(),
    durableSeq: setup.durableSeq,
    registry,
    log,
    busyDutyCycle: setup.busyDutyCycle ?? 1,
  });
  if (writeBehind === null) throw new Error('write-behind worker started without sinks');
  writeBehind.setMatchingBusy(setup.matchingBusy === true);
  const report = (): void => port.postMessage({ type: 'state', health: writeBehind.health(), retainFromSeq: writeBehind.retainFromSeq() });
  const timer = setInterval(report, 100);
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'durable':
        writeBehind.notifyDurable(message.seq);
        break;
      case 'pressure':
        writeBehind.setMatchingBusy(message.matchingBusy);
        break;
      case 'metrics':
        registry
          .getMetricsAsJSON()
          .then((metrics) => port.postMessage({ type: 'metrics', id: message.id, metrics: JSON.parse(JSON.stringify(metrics)) as unknown }))
          .catch((error: unknown) => {
            log.error({ err: error }, 'metrics for the server failed');
            port.postMessage({ type: 'metrics', id: message.id, metrics: [] });
          });
        break;
      case 'close':
        clearInterval(timer);
        writeBehind.close(message.drainMs).then(
          ({ drained }) => {
            report();
            port.postMessage({ type: 'closed', drained });
            port.close();
          },
          (error: unknown) => {
            port.postMessage({ type: 'closed', drained: false, error: (error as Error).message });
            port.close();
          },
        );
        break;
    }
  });
  report();
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'failed', message: (error as Error).message });
  port.close();
}
