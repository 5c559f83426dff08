// The real server as a child process (`node --import tsx server/main.ts`), for kill -9 tests and
// soaks: started with --port 0, its port read from the "spotwire listening" log line. Its stdout
// is drained for as long as it lives (a full pipe would stall pino's synchronous writes).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcessOptions {
  readonly dataDir: string;
  readonly keysFile: string;
  readonly marketsFile: string;
  readonly snapshotEvery: number;
  readonly startTimeoutMs?: number;
  /** Extra environment (e.g. PRIVATE_STREAM_RETENTION). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra flags (e.g. --role gateway --bus redis://…). */
  readonly args?: readonly string[];
}

export interface ServerProcess {
  readonly port: number;
  readonly pid: number;
  readonly url: string;
  /** Warn-and-worse log lines, parsed (e.g. torn-tail cuts during recovery). */
  readonly warnings: Array<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

export function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'server/main.ts',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--data-dir',
      options.dataDir,
      '--keys',
      options.keysFile,
      '--markets',
      options.marketsFile,
      '--snapshot-every',
      String(options.snapshotEvery),
      '--log-level',
      'info',
      ...(options.args ?? []),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info', ...options.env } },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const warnings: Array<Record<string, unknown>> = [];
  const tail: string[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  return new Promise<ServerProcess>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`server process ${why}\nlast log lines:\n${tail.join('\n')}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail('did not start listening in time'), options.startTimeoutMs ?? 30_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof entry.level === 'number' && entry.level >= 40) warnings.push(entry);
        if (!settled && entry.msg === 'spotwire listening' && typeof entry.port === 'number') {
          settled = true;
          clearTimeout(timer);
          const port = entry.port;
          resolve({
            port,
            pid: child.pid!,
            url: `ws://127.0.0.1:${port}/ws`,
            warnings,
            exited,
            kill: (signal) => {
              if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            },
          });
        }
      }
    });
    void exited.then(({ code, signal }) => fail(`exited before listening (code ${String(code)}, signal ${String(signal)})`));
  });
}
