// A server process (redis-server, postgres) that a test starts, signals and must never leave
// behind. A signal goes to the server and every process it forked: Postgres serves each
// connection from a backend process (stopping only the postmaster would not hang a connection
// that is already open), and each backend calls setsid(), so the process group is not enough:
// descendants are found through /proc.
//
// Cleanup when the test process dies without calling stop: an exit hook for normal exits, and a
// detached watchdog shell for the rest (a vitest worker killed by a signal runs no exit hook):
// it polls the test process and, once that is gone, kills the group and removes the temp dir.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

const OUTPUT_TAIL_BYTES = 16 * 1024;

/** A port free on 127.0.0.1 right now: bind port 0, read what the kernel gave, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** A server a test can break: the same shape for Redis and Postgres. */
export interface ServiceInstance {
  readonly port: number;
  readonly url: string;
  /** The temp dir holding the server's files, removed by stop(). */
  readonly dir: string;
  /** The server's current process id (changes on restart). */
  readonly pid: number;
  /** SIGKILL: connections drop, new ones are refused. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open and accepted, nothing is answered (a hung server). */
  pause(): void;
  /** SIGCONT after pause(): queued requests are answered. */
  resume(): void;
  /** Starts the server again on the same port (killing it first if it runs) and waits until it answers. */
  restart(): Promise<void>;
  /** Stops the server for good and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The ServiceInstance of a server whose process `current()` returns and `launch()` starts again. */
export function serviceInstance(parts: {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly current: () => ServiceProcess;
  readonly launch: () => Promise<void>;
  readonly stop: () => Promise<void>;
}): ServiceInstance {
  const { current, launch } = parts;
  return {
    port: parts.port,
    url: parts.url,
    dir: parts.dir,
    get pid() {
      return current().pid;
    },
    kill: () => current().kill(),
    pause: () => current().signal('SIGSTOP'),
    resume: () => current().signal('SIGCONT'),
    async restart() {
      await current().kill();
      await launch();
    },
    stop: parts.stop,
  };
}

export interface ServiceSpawnOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Run as this OS user (when the tests run as root and the server refuses to). */
  readonly uid?: number;
  readonly gid?: number;
  /** Removed by the watchdog when the test process dies. */
  readonly tempDir: string;
  /** A shell snippet the watchdog runs (with "$dir" set) after killing, before removing the dir. */
  readonly orphanCleanupShell?: string;
}

export class ServiceProcess {
  readonly pid: number;
  /** Resolves when the process has exited (code or signal). */
  readonly exited: Promise<void>;
  private output = '';
  private hasExited = false;
  private readonly child: ChildProcess;
  private readonly watchdog: ChildProcess;

  constructor(private readonly options: ServiceSpawnOptions) {
    this.child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    let spawnError: Error | null = null;
    this.child.once('error', (error) => (spawnError = error));
    if (this.child.pid === undefined) throw new Error(`could not start ${options.command} (is it installed?)`, { cause: spawnError });
    this.pid = this.child.pid;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise<void>((resolve) => {
      this.child.once('exit', () => {
        this.hasExited = true;
        resolve();
      });
    });
    this.watchdog = startWatchdog(this.pid, options.tempDir, options.orphanCleanupShell ?? '');
    process.once('exit', this.onTestProcessExit);
  }

  get running(): boolean {
    return !this.hasExited;
  }

  /** The last 16 KiB the process wrote, for error messages. */
  get recentOutput(): string {
    return this.output;
  }

  /**
   * SIGSTOP, SIGCONT and SIGKILL go to the server, its process group and all its descendants (the
   * server is stopped first while its children are listed, so it cannot fork one the signal
   * misses). Any other signal is a request to the server itself, which stops its own children.
   */
  signal(signal: NodeJS.Signals): void {
    if (this.hasExited) return;
    if (signal !== 'SIGSTOP' && signal !== 'SIGCONT' && signal !== 'SIGKILL') {
      sendSignal(this.pid, signal);
      return;
    }
    if (signal !== 'SIGCONT') sendSignal(this.pid, 'SIGSTOP');
    for (const child of descendantsOf(this.pid)) sendSignal(child, signal);
    sendSignal(-this.pid, signal);
    sendSignal(this.pid, signal);
  }

  /** SIGKILLs the server and its descendants and waits for the server to be reaped. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
    this.killGroupStragglers();
    this.release();
  }

  /** Asks the group to stop with `signal` (after SIGCONT, in case it is paused); SIGKILL after `graceMs`. */
  async terminate(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (this.running) {
      this.signal('SIGCONT');
      this.signal(signal);
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
      this.killGroupStragglers();
    }
    this.release();
  }

  /** Right after the server is reaped (before its pid can be reused), its group's leftovers. */
  private killGroupStragglers(): void {
    sendSignal(-this.pid, 'SIGKILL');
  }

  private release(): void {
    process.removeListener('exit', this.onTestProcessExit);
    if (this.watchdog.exitCode === null && this.watchdog.pid !== undefined) {
      try {
        process.kill(this.watchdog.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  private readonly onTestProcessExit = (): void => {
    this.signal('SIGKILL');
    this.killGroupStragglers();
    if (this.options.orphanCleanupShell !== undefined) {
      try {
        execFileSync('sh', ['-c', `dir="$1"; ${this.options.orphanCleanupShell}`, 'cleanup', this.options.tempDir], { stdio: 'ignore' });
      } catch {
        // Best effort while exiting.
      }
    }
    rmSync(this.options.tempDir, { recursive: true, force: true });
    this.release();
  };
}

/** Signals `pid` (a group when negative); a process that is already gone is not an error. */
function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Every live descendant of `root`, from /proc (Linux). */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const siblings = children.get(parent) ?? [];
    siblings.push(Number(entry));
    children.set(parent, siblings);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Picks a free port and launches on it. Another process may take the port between our probe and
 * the server's bind (other test files run at the same time): then it tries another one.
 */
export async function launchOnFreePort(launch: (port: number) => Promise<void>, attempts = 3): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      await launch(port);
      return port;
    } catch (error) {
      const inUse = /address already in use/i.test(error instanceof Error ? error.message : String(error));
      if (!inUse || attempt >= attempts) throw error;
    }
  }
}

/** Polls `check` until it returns true; fails early with the server's output if it exits. */
export async function waitUntilReady(
  service: ServiceProcess,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!service.running) throw new Error(`${what} exited while starting:\n${service.recentOutput}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${service.recentOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The shell exits on its own once the service is gone (stopped or killed by the test); it acts only
// when the test process disappears first.
const WATCHDOG_SCRIPT = `
parent="$1"; service="$2"; dir="$3"; cleanup="$4"
while kill -0 "$parent" 2>/dev/null; do
  kill -0 "$service" 2>/dev/null || exit 0
  sleep 1
done
kill -STOP "$service" 2>/dev/null
pkill -KILL -P "$service" 2>/dev/null
kill -KILL -"$service" 2>/dev/null
sleep 1
eval "$cleanup"
rm -rf "$dir"
`;

function startWatchdog(servicePid: number, tempDir: string, cleanupShell: string): ChildProcess {
  const args = [String(process.pid), String(servicePid), tempDir, cleanupShell];
  const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'spotwire-test-watchdog', ...args], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  return watchdog;
}
