// One writer per data dir: two servers (or a server and a `dlq` redrive) appending to the same
// journal would interleave records and corrupt it. The lock is an OS lock on <dataDir>/spotwire.lock
// held for the process's life: an open-file-description lock on Linux (flock on macOS), via
// fs-native-extensions (prebuilt binaries, no install step). The kernel drops it when the holder
// exits in any way, kill -9 included, so there is no stale lock to clean up and no pid file whose
// pid may have been reused; and, unlike a POSIX record lock, a second open in the same process
// conflicts too (tests run several servers in one process). The file holds the holder's pid and
// command, for the message the next one gets; it is never deleted (deleting a lock file lets a
// third process lock a new file while the second still holds the old one).
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tryLock, unlock } from 'fs-native-extensions';

export const LOCK_FILE_NAME = 'spotwire.lock';

export class DataDirLocked extends Error {
  override readonly name = 'DataDirLocked';
  constructor(
    readonly dataDir: string,
    readonly holder: { pid?: number; command?: string; since?: string },
  ) {
    const pid = holder.pid === undefined ? 'unknown pid' : `pid ${holder.pid}`;
    const what = holder.command === undefined ? '' : ` (${holder.command}, since ${holder.since ?? '?'})`;
    super(`data dir ${dataDir} is in use by another process: ${pid}${what}; stop it first, or use another --data-dir`);
  }
}

export interface DataDirLock {
  /** Lets go of the lock; idempotent. */
  release(): void;
}

function holderOf(path: string): DataDirLocked['holder'] {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; command?: unknown; since?: unknown };
    return {
      ...(typeof parsed.pid === 'number' ? { pid: parsed.pid } : {}),
      ...(typeof parsed.command === 'string' ? { command: parsed.command } : {}),
      ...(typeof parsed.since === 'string' ? { since: parsed.since } : {}),
    };
  } catch {
    // The holder may not have written its pid yet.
    return {};
  }
}

/** Takes the data dir's lock (creating the dir) or throws DataDirLocked naming the holder. */
export function lockDataDir(dataDir: string, command: string): DataDirLock {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE_NAME);
  // Not truncated on open: until the lock is ours, the file's contents are the holder's.
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  let locked: boolean;
  try {
    locked = tryLock(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (!locked) {
    closeSync(fd);
    throw new DataDirLocked(dir, holderOf(path));
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() })}\n`, 0);
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      unlock(fd);
      closeSync(fd);
    },
  };
}
