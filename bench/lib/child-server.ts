// A server under test as a child process (the real Spotwire CLI or the bare echo server): started
// on an ephemeral port, its CPU time and RSS read from /proc/<pid>, stopped with SIGTERM (SIGKILL
// if it does not exit). The child runs node directly, so its pid is the process that serves.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { readProcessCpuSeconds } from './process-cpu.js';

export interface ProcessSample {
  readonly cpuSeconds: number;
  /** Time the main (event-loop) thread was runnable but waiting for a core: a loaded machine. */
  readonly mainThreadWaitSeconds: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
}

/** Ctrl-C ends the bench through process.exit, so that child servers are killed on 'exit'. */
/** The port in a server log line, if it is the "spotwire listening" line (pino JSON). */
export function spotwirePort(line: string): number | null {
  try {
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    return entry.msg === 'spotwire listening' && typeof entry.port === 'number' ? entry.port : null;
  } catch {
    return null;
  }
}

export function exitOnInterrupt(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

export class ChildServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly name: string,
  ) {}

  /**
   * Starts `node --import tsx <script> ...args` and waits for a stdout line from which `portOf`
   * extracts the listening port.
   */
  static start(name: string, script: string, args: readonly string[], portOf: (line: string) => number | null): Promise<ChildServer> {
    // BENCH_CHILD_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the servers under load.
    const nodeArgs = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // A bench that dies (or is interrupted, see exitOnInterrupt) must not leave servers behind.
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} did not start in 60 s: ${stderr}`));
      }, 60_000);
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const port = portOf(line);
        if (port === null) return;
        clearTimeout(timer);
        // Keep draining stdout so a chatty child never blocks on a full pipe.
        resolve(new ChildServer(child, port, name));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${String(code)} before listening: ${stderr}`));
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  sample(): ProcessSample {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    // schedstat: ns on a cpu, ns waiting on a run queue, timeslices (the thread-group leader's).
    const schedstat = readFileSync(`/proc/${this.pid}/schedstat`, 'utf8').split(' ');
    return {
      cpuSeconds: readProcessCpuSeconds(this.pid),
      mainThreadWaitSeconds: Number(schedstat[1]) / 1e9,
      rssMiB: kib('VmRSS') / 1024,
      peakRssMiB: kib('VmHWM') / 1024,
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
