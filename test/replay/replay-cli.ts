// Runs the replay CLI as a child process with tsx, as a user would, and watches its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../support/e2e.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = 'server/replay/cli.ts';

export interface ReplayProcess {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  readonly exited: Promise<number | null>;
  /** Polls stdout until `pattern` matches; returns the match. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function startReplay(args: readonly string[]): ReplayProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  // 'close', not 'exit': by then stdout and stderr have delivered everything.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const replay: ReplayProcess = {
    child,
    stdout: '',
    stderr: '',
    exitCode: null,
    exited,
    waitFor: async (pattern, timeoutMs = 60_000) => {
      await waitUntil(() => pattern.test(replay.stdout) || replay.exitCode !== null, `replay output ${pattern}`, timeoutMs);
      const match = pattern.exec(replay.stdout);
      if (!match) throw new Error(`replay exited (${replay.exitCode}) without printing ${pattern}:\n${replay.stdout}\n${replay.stderr}`);
      return match;
    },
    stop: async () => {
      if (replay.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  child.stdout!.on('data', (chunk: Buffer) => (replay.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (replay.stderr += chunk.toString()));
  void exited.then((code) => (replay.exitCode = code ?? -1));
  return replay;
}

/** Runs the CLI to completion. */
export async function runReplay(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const replay = startReplay(args);
  const code = await replay.exited;
  return { code, stdout: replay.stdout, stderr: replay.stderr };
}
