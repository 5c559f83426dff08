// `kill -TERM` to the process `npm start` created must stop the server gracefully: npm forwards the
// signal to its child and waits for it, so the script must make the server that child (`exec`),
// not a shell or a tsx wrapper that would die and leave the server running. Spawned exactly as a
// user starts it; the signal goes to the spawn's pid (npm).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, waitUntil } from '../support/e2e.js';
import { canListenOn, freePort } from '../support/free-port.js';
import { makeTempDir } from '../journal/journal-support.js';
import { TEST_KEYS } from '../support/test-server.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start and SIGTERM', () => {
  it('SIGTERM to the npm process drains the server, frees the port, and exits 0', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify(TEST_KEYS));
    const port = await freePort();
    const npm = spawn(
      'npm',
      ['start', '--', '--port', String(port), '--host', '127.0.0.1', '--data-dir', join(dir.path, 'data'), '--keys', keysFile],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      npm.once('exit', (code, signal) => resolve({ code, signal })),
    );
    let stdout = '';
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    npm.stderr.resume();
    cleanups.push(() => {
      if (npm.exitCode === null) npm.kill('SIGKILL');
    });

    await waitUntil(() => stdout.includes('"msg":"spotwire listening"'), 'the server to listen', 30_000);
    const listening = JSON.parse(stdout.split('\n').find((line) => line.includes('"msg":"spotwire listening"'))!) as { pid: number };
    // If the server outlives npm, it must not outlive the test.
    cleanups.push(() => {
      if (alive(listening.pid)) process.kill(listening.pid, 'SIGKILL');
    });
    const alice = await connect(`ws://127.0.0.1:${port}/ws`, 'token-alice');
    await alice.client.place({ sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 1_000, qty: 1 });

    npm.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    // npm waited for the server: by the time it exits, the server has stopped and let go of the port.
    expect(alive(listening.pid)).toBe(false);
    expect(stdout).toContain('"msg":"stopped"');
    await waitUntil(() => alice.closeCode !== null, 'the client to be closed');
    expect(alice.closeCode).toBe(1001);
    expect(await canListenOn(port)).toBe(true);
  });
});
