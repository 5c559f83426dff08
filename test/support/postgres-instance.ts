// A private Postgres cluster for outage tests: initdb into a temp dir, its own port and socket
// dir, fsync off (the data is thrown away; a SIGKILL still keeps committed rows because the OS
// holds them). Postgres refuses to run as root, so as root it runs as the `postgres` OS user
// (spawned with that uid/gid directly, so the pid we hold is the postmaster's, not a wrapper's).
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { launchOnFreePort, serviceInstance, ServiceProcess, waitUntilReady, type ServiceInstance } from './service-process.js';

export type { ServiceInstance } from './service-process.js';

const run = promisify(execFile);

/** The newest installed Postgres's bin dir (PG_BIN_DIR overrides). */
function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR !== undefined) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error(`no Postgres server binaries under ${root}/*/bin (set PG_BIN_DIR)`);
  return join(root, newest, 'bin');
}

/** The uid/gid to run Postgres as: the `postgres` user when we are root, else ourselves. */
function postgresOsUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('running as root, but there is no `postgres` OS user to run Postgres as');
  return { uid: Number(uid), gid: Number(gid) };
}

async function answersSelectOne(port: number, database: string): Promise<boolean> {
  const sql = postgres({ host: '127.0.0.1', port, user: 'postgres', database, max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    const rows = await sql<{ one: number }[]>`select 1 as one`;
    return rows[0]?.one === 1;
  } finally {
    await sql.end({ timeout: 0 });
  }
}

/**
 * A Postgres killed with SIGKILL leaves its small SysV shared-memory segment behind; a restart
 * reclaims it, but a cluster stopped for good after a kill would leak it. The segment id is in
 * postmaster.pid, which a clean shutdown removes.
 */
const REMOVE_LEFTOVER_SHARED_MEMORY_SHELL = `shmid=$(sed -n 7p "$dir/data/postmaster.pid" 2>/dev/null | awk '{print $2}'); [ -n "$shmid" ] && ipcrm -m "$shmid" 2>/dev/null; true`;

async function removeLeftoverSharedMemory(dir: string): Promise<void> {
  await run('sh', ['-c', `dir="$1"; ${REMOVE_LEFTOVER_SHARED_MEMORY_SHELL}`, 'cleanup', dir]).catch(() => undefined);
}

export async function startPostgres(): Promise<ServiceInstance> {
  const bin = postgresBinDir();
  const osUser = postgresOsUser();
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-pg-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  mkdirSync(socketDir);
  if (osUser !== null) {
    chownSync(dir, osUser.uid, osUser.gid);
    chownSync(socketDir, osUser.uid, osUser.gid);
  }
  const asUser = osUser === null ? {} : { uid: osUser.uid, gid: osUser.gid };
  let port = 0;
  let service: ServiceProcess | null = null;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const args = ['-D', dataDir, '-p', String(port), '-k', socketDir];
    for (const setting of ['listen_addresses=127.0.0.1', 'fsync=off', 'shared_buffers=16MB', 'max_connections=40']) {
      args.push('-c', setting);
    }
    const started = new ServiceProcess({
      command: join(bin, 'postgres'),
      args,
      cwd: dir,
      tempDir: dir,
      orphanCleanupShell: REMOVE_LEFTOVER_SHARED_MEMORY_SHELL,
      ...asUser,
    });
    service = started;
    try {
      await waitUntilReady(started, `postgres on port ${port}`, () => answersSelectOne(port, 'postgres'));
    } catch (error) {
      await started.kill();
      throw error;
    }
  };
  const current = (): ServiceProcess => {
    if (service === null || stopped) throw new Error('postgres instance is stopped');
    return service;
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // SIGINT is Postgres's "fast" shutdown: rolls back open transactions, closes cleanly.
    await service?.terminate('SIGINT', 10_000);
    await removeLeftoverSharedMemory(dir);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
      cwd: dir,
      timeout: 120_000,
      ...asUser,
    });
    port = await launchOnFreePort((candidate) => {
      port = candidate;
      return launch();
    });
    const admin = postgres({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 1, onnotice: () => {} });
    try {
      await admin`create database test`;
    } finally {
      await admin.end({ timeout: 5 });
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return serviceInstance({ port, url: `postgres://postgres@127.0.0.1:${port}/test`, dir, current, launch, stop });
}
