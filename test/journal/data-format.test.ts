// A data dir written before accounts and money is refused at start with a message that says why,
// and nothing in it changes; a new data dir is marked with the format it was written in.
import { readdirSync, readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataPaths } from '../../server/server.js';
import { makeTempDir, startOnDataDir } from './journal-support.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function listing(dir: string): string[] {
  // The lock file is the running process's, not data.
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name !== 'spotwire.lock')
    .sort()
    .map((name) => `${name}:${statSync(join(dir, name)).size}`);
}

describe('data dir format', () => {
  it('a new data dir is marked format 2 and starts again', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const first = await startOnDataDir(dir.path);
    await first.server.close();
    expect(readFileSync(join(dir.path, 'data', 'FORMAT'), 'utf8')).toMatch(/^2 /);
    const second = await startOnDataDir(dir.path);
    await second.server.close();
  });

  it('a journal with no FORMAT file (written before money) is refused and left as it was', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const { journalDir } = dataPaths(join(dir.path, 'data'));
    mkdirSync(journalDir, { recursive: true });
    writeFileSync(join(journalDir, '0000000000000001.log'), Buffer.alloc(64, 1));
    const before = listing(join(dir.path, 'data'));
    await expect(startOnDataDir(dir.path)).rejects.toThrow(/written before accounts and money.*new --data-dir/);
    expect(listing(join(dir.path, 'data'))).toEqual(before);
  });

  it('another format number is refused', async () => {
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    mkdirSync(join(dir.path, 'data'), { recursive: true });
    writeFileSync(join(dir.path, 'data', 'FORMAT'), '3 (from the future)\n');
    await expect(startOnDataDir(dir.path)).rejects.toThrow(/holds data format "3 \(from the future\)"; this server reads format 2/);
  });
});
