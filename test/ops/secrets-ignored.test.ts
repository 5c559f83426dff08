// The README tells people to create keys.json (API tokens) in the checkout; git must never pick
// it up with a `git add .`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('secrets files the docs ask for are ignored by git', () => {
  it.each(['keys.json', 'deploy/keys.json'])('%s', (path) => {
    const check = spawnSync('git', ['check-ignore', '--no-index', '-q', path], { cwd: REPO_ROOT });
    // 0: ignored, 1: not ignored; anything else is git failing, which must not pass either.
    expect(check.status).toBe(0);
  });
});
