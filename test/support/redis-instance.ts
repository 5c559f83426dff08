// A private redis-server for outage tests: its own port and temp dir, no persistence (a restart
// comes back empty, as a Redis cache that lost its process would). The shared Redis on 6379 is
// never touched, so killing or pausing this one disturbs no other test.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchOnFreePort, serviceInstance, ServiceProcess, waitUntilReady, type ServiceInstance } from './service-process.js';

export type { ServiceInstance } from './service-process.js';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** Answers PING with +PONG within 1 s. */
function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export async function startRedis(): Promise<ServiceInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'spotwire-redis-'));
  let port = 0;
  let service: ServiceProcess | null = null;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
    const started = new ServiceProcess({ command: REDIS_SERVER, args, cwd: dir, tempDir: dir });
    service = started;
    try {
      await waitUntilReady(started, `redis-server on port ${port}`, () => pingRedis(port));
    } catch (error) {
      await started.kill();
      throw error;
    }
  };
  const current = (): ServiceProcess => {
    if (service === null || stopped) throw new Error('redis instance is stopped');
    return service;
  };

  try {
    port = await launchOnFreePort((candidate) => {
      port = candidate;
      return launch();
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return serviceInstance({
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    current,
    launch,
    async stop() {
      if (stopped) return;
      stopped = true;
      await service?.terminate('SIGTERM', 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
