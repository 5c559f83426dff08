// DATABASE_URL naming a database that does not exist (the README's example on a fresh Postgres):
// the server creates it when its role may, and the Postgres sink runs. When the role may not, the
// server trades on with /health "degraded", and the log says so once, with what to run — not a
// warning at every breaker probe.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ADMIN_URL } from '../db/scratch-database.js';
import { httpGet, waitUntil } from '../support/e2e.js';
import { freePort } from '../support/free-port.js';
import { makeTempDir } from '../journal/journal-support.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROLE = `spotwire_nocreatedb_${process.pid}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const created: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  for (const name of created) await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`drop role if exists ${ROLE}`);
  await admin.end({ timeout: 5 });
});

function missingDatabaseUrl(user: string): { url: string; name: string } {
  const name = `spotwire_missing_${randomBytes(5).toString('hex')}`;
  created.push(name);
  const url = new URL(ADMIN_URL);
  url.username = user;
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

async function healthOf(
  httpUrl: string,
): Promise<{ status: string; writeBehind?: { sinks: Record<string, { status: string; lastError?: string }> } }> {
  return JSON.parse((await httpGet(`${httpUrl}/health`)).body) as never;
}

describe('a DATABASE_URL whose database does not exist', () => {
  it('is created when the role may, and the Postgres sink runs', async () => {
    const { url, name } = missingDatabaseUrl(new URL(ADMIN_URL).username);
    const server: TestServer = await startTestServer({ databaseUrl: url });
    cleanups.push(() => server.stop());
    let status = '';
    for (let i = 0; i < 600 && status !== 'ok'; i++) {
      status = (await healthOf(server.httpUrl)).status;
      if (status !== 'ok') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe('ok');
    const rows = await admin`select 1 from pg_database where datname = ${name}`;
    expect(rows.length).toBe(1);
  });

  it('when the role may not create it: one warning with what to do (and the breaker opening), /health degraded', async () => {
    await admin.unsafe(`do $$ begin create role ${ROLE} login nocreatedb; exception when duplicate_object then null; end $$`);
    const { url, name } = missingDatabaseUrl(ROLE);
    const dir = makeTempDir();
    cleanups.push(dir.remove);
    const port = await freePort();
    // A child process: the write-behind thread's log lines go to its stdout, which the test reads.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/main.ts',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--data-dir',
        join(dir.path, 'data'),
        '--database-url',
        url,
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'debug' },
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      // Not a graceful stop: that would wait for a sink that cannot catch up.
      child.kill('SIGKILL');
      await exited;
    });
    const entries: Array<Record<string, unknown>> = [];
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) entries.push(JSON.parse(line) as Record<string, unknown>);
    });
    // Three probes of the open breaker, each failing again: a long enough outage to count lines.
    await waitUntil(
      () => entries.filter((entry) => entry.msg === 'write-behind postgres: circuit half-open').length >= 3,
      'three breaker probes',
      30_000,
    );

    const warnings = entries.filter((entry) => (entry.level as number) >= 40 && entry.sink === 'postgres');
    expect(warnings.map((entry) => entry.msg)).toEqual([
      'write-behind postgres: call failed, retrying',
      'write-behind postgres: circuit open',
    ]);
    expect(String(warnings[0]!.err)).toContain(`database "${name}" does not exist and ${ROLE} could not create it`);
    expect(String(warnings[0]!.err)).toContain(`createdb -h 127.0.0.1 -p 5432 ${name}`);
    expect((await httpGet(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const health = await healthOf(`http://127.0.0.1:${port}`);
    expect(health.status).toBe('degraded');
    expect(health.writeBehind?.sinks.postgres?.lastError).toContain('does not exist');
  });
});
