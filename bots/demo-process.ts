// Runs `npm run demo` as a child process and reads its banner: for scripts that need a live
// demo market (the page's screenshots, the paint-latency bench).
import { spawn } from 'node:child_process';

export interface DemoProcess {
  readonly pageUrl: string;
  readonly wsUrl: string;
  readonly token: string;
  /** SIGINT, as Ctrl-C: resolves with the exit code once the demo has cleaned up. */
  stop(): Promise<number | null>;
}

export async function startDemoProcess(args: readonly string[] = [], timeoutMs = 60_000): Promise<DemoProcess> {
  const child = spawn('npm', ['run', '-s', 'demo', '--', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no demo banner in ${timeoutMs} ms:\n${stdout}`)), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('Ctrl-C stops it.')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('close', (code) => reject(new Error(`the demo exited ${code} before its banner:\n${stdout}`)));
  });
  const field = (name: string): string => {
    const value = new RegExp(`${name}: +(\\S+)`).exec(stdout)?.[1];
    if (value === undefined) throw new Error(`the demo banner has no ${name}:\n${stdout}`);
    return value;
  };
  return {
    pageUrl: field('page'),
    wsUrl: field('ws'),
    token: field('login'),
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
