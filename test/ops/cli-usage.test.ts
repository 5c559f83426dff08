// Every command-line entry point, run the way a user runs it (`npm start -- …`, `npm run … -- …`):
// --help prints usage and exits 0; an unknown flag is one line on stderr and exit code 2, never a
// JSON log line or a stack trace. The server's usage names every flag and variable in the README's
// options table, so the two cannot drift apart.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function npm(script: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const argv = script === 'start' ? ['start', '--silent', '--', ...args] : ['run', '--silent', script, '--', ...args];
  const child = spawnSync('npm', argv, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** The flags and environment variables of the README's options table. */
function readmeOptions(): string[] {
  const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
  const table = readme.slice(readme.indexOf('### Options'), readme.indexOf('HTTP:', readme.indexOf('### Options')));
  const names: string[] = [];
  for (const row of table.split('\n').filter((line) => line.startsWith('| `') || line.startsWith('| |'))) {
    const [, flag, env] = row.split('|').map((cell) => cell.trim());
    for (const cell of [flag, env]) {
      const name = /`([^`=]+)/.exec(cell ?? '')?.[1];
      if (name !== undefined) names.push(name);
    }
  }
  return names;
}

describe('npm start -- --help', () => {
  it('prints usage naming every flag and variable of the README options table, and exits 0', () => {
    const result = npm('start', '--help');
    expect(result.status).toBe(0);
    const options = readmeOptions();
    expect(options).toEqual(expect.arrayContaining(['--port', 'PORT', '--data-dir', 'SINK_DEADLINE_MS', '--log-level']));
    for (const name of options) expect(result.stdout, name).toContain(name);
    expect(result.stdout).toContain('(default 9001');
  });
});

describe.each(['start', 'replay', 'dlq', 'db:migrate'])('npm %s', (script) => {
  it('--help prints usage and exits 0', () => {
    const result = npm(script, '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm /);
  });

  it('an unknown flag is a one-line usage error with exit code 2', () => {
    const result = npm(script, '--bogus');
    expect(result.status).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('unknown option --bogus');
    expect(result.stderr).toContain('--help');
    expect(result.stdout + result.stderr).not.toMatch(/^\s*at |"level":/m);
  });
});
