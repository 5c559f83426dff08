// `npm run dlq` as a user runs it, as a child process: mistakes are told plainly with an exit
// code, not answered with an empty success.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../journal/journal-support.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function dlq(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const child = spawnSync('npm', ['run', '--silent', 'dlq', '--', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('npm run dlq', () => {
  it('list on a data dir that does not exist says so and exits non-zero', () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const missing = join(dir.path, 'no-such-dir');
    const result = dlq('list', '--data-dir', missing);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`data dir ${missing} does not exist`);
    expect(result.stdout).not.toContain('dead-lettered batch');
  });
});
