// A git revision of this repository checked out beside it (a detached worktree under the temp
// dir, kept for later runs, sharing this tree's node_modules), for benches that compare the
// current code with an earlier commit in one run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The worktree of `rev` (created on first use); throws with git's message if `rev` is unknown. */
export function baselineTree(rev: string): { root: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const root = join(tmpdir(), `spotwire-baseline-${commit.slice(0, 12)}`);
  if (!existsSync(join(root, 'package.json'))) {
    const added = spawnSync('git', ['worktree', 'add', '--detach', '--force', root, commit], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (added.status !== 0) throw new Error(`git worktree add ${root} ${commit}: ${added.stderr}`);
  }
  if (!existsSync(join(root, 'node_modules'))) symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  return { root, commit };
}
