// `npm run cluster -- --gateways 3 [--port 9001] [--bus redis://127.0.0.1:6379] [server flags…]`:
// one core and N edge gateways on this machine, each its own process (docs/SCALING.md). The core
// listens on --port, gateway i on --port + i; every other flag (--keys, --markets, --data-dir, …)
// goes to all of them. A gateway that exits is started again (a stale one exits 75 on purpose).
// SIGINT/SIGTERM stop the gateways first, then the core.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const USAGE = `Usage: npm run cluster -- [--gateways N] [--port P] [--bus URL] [server options]

  --gateways N   edge gateways to start (default 2)
  --port P       the core's port; gateway i listens on P + i (default 9001)
  --bus URL      the Redis the core and gateways share [BUS_URL] (default redis://127.0.0.1:6379)
  Any other option is passed to every process (npm start -- --help lists them).`;

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const { values, tokens } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: { gateways: { type: 'string' }, port: { type: 'string' }, bus: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: false,
      tokens: true,
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const gateways = Number(values.gateways ?? 2);
const port = Number(values.port ?? process.env.PORT ?? 9001);
if (!Number.isInteger(gateways) || gateways < 1 || gateways > 64) fail(`--gateways must be 1..64, got ${String(values.gateways)}`);
if (!Number.isInteger(port) || port < 1 || port + gateways > 65_535) fail(`--port must leave room for ${gateways} more ports`);
const bus = (values.bus as string | undefined) ?? process.env.BUS_URL ?? 'redis://127.0.0.1:6379';
// Every flag but ours, in order, for the children.
const passed: string[] = [];
for (const token of tokens) {
  if (token.kind === 'option' && !['gateways', 'port', 'bus', 'help'].includes(token.name)) {
    passed.push(token.rawName);
    if (token.value !== undefined) passed.push(token.value);
  } else if (token.kind === 'positional') passed.push(token.value);
}

const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

/**
 * Starts one process; a gateway that exits while the cluster runs is started again (a stale one
 * exits 75 to catch up from the core's snapshot), after a pause that grows while it keeps failing.
 */
function start(name: string, args: string[], attempt = 0): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args, ...passed], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, LOG_FORMAT: process.env.LOG_FORMAT ?? 'json' },
  });
  const startedAt = Date.now();
  child.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`cluster: ${name} exited (code ${String(code)}, signal ${String(signal)})\n`);
    if (name === 'core') return;
    // A port whose old connections are still in TIME_WAIT refuses the new listener for a while.
    const next = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
    const pauseMs = Math.min(10_000, 1_000 * 2 ** Math.min(next, 4));
    process.stderr.write(`cluster: starting ${name} again in ${pauseMs / 1000} s\n`);
    setTimeout(() => {
      if (stopping) return;
      const index = children.findIndex((c) => c.child === child);
      if (index >= 0) children.splice(index, 1);
      start(name, args, next);
    }, pauseMs).unref();
  });
  children.push({ name, child });
  return child;
}

/** Resolves once `url`'s /health answers (the process listens). */
async function listening(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before listening on ${url}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer within 60 s`);
}

async function main(): Promise<void> {
  const core = start('core', ['--role', 'core', '--bus', bus, '--port', String(port)]);
  await listening(`http://127.0.0.1:${port}/health`, core);
  for (let i = 1; i <= gateways; i++) {
    const gateway = start(`gateway ${i}`, ['--role', 'gateway', '--bus', bus, '--port', String(port + i)]);
    await listening(`http://127.0.0.1:${port + i}/health`, gateway);
  }
  const lines = [`cluster up on ${bus}: core ws://127.0.0.1:${port}/ws`];
  for (let i = 1; i <= gateways; i++) lines.push(`  gateway ${i}: ws://127.0.0.1:${port + i}/ws (page http://127.0.0.1:${port + i}/)`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exit = (child: ChildProcess): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => child.once('exit', () => resolve()));
  const edges = children.filter((c) => c.name !== 'core');
  for (const { child } of edges) child.kill(signal);
  await Promise.all(edges.map(({ child }) => exit(child)));
  for (const { child } of children.filter((c) => c.name === 'core')) {
    child.kill(signal);
    await exit(child);
  }
  process.exit(0);
}

process.on('SIGINT', () => void stop('SIGTERM'));
process.on('SIGTERM', () => void stop('SIGTERM'));
main().catch((error: unknown) => {
  process.stderr.write(`cluster: ${(error as Error).message}\n`);
  void stop('SIGTERM');
});
