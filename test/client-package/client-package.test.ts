// @spotwire/client as a bot author gets it: `npm pack` (whose prepack builds dist/), the tarball
// installed with `ws` into an empty directory outside the repository, and the package README's
// example run there with node, as written, against a real server. Then the browser bundle from
// that install, loaded in headless Chromium, trading against the same server. One file, so the
// package is built once (two files would build into the same dist/ at the same time).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, crc32 as zlibCrc32 } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, SYM, type Recorded } from '../support/e2e.js';
import { startTestServer, TEST_FUNDING, type TestServer } from '../support/test-server.js';

const PACKAGE_DIR = fileURLToPath(new URL('../../packages/client/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without blocking the event loop: the server under test lives in this process. */
function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function runOk(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** The body of the first fenced block of `lang` after the heading `heading`. */
function fencedBlock(markdown: string, heading: string, lang: string): string {
  const section = markdown.indexOf(`\n${heading}\n`);
  if (section < 0) throw new Error(`README has no ${heading}`);
  const open = `\n\`\`\`${lang}\n`;
  const start = markdown.indexOf(open, section);
  const end = markdown.indexOf('\n```\n', start + open.length);
  if (start < 0 || end < 0) throw new Error(`README has no ${lang} block under ${heading}`);
  return markdown.slice(start + open.length, end + 1);
}

/** A line with every number as #, so the README's sample output and a real run compare. */
const shape = (line: string): string => line.replace(/\d+(\.\d+)?/g, '#');

const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
let server: TestServer;
let work: string;
let app: string;
const clients: Recorded[] = [];

beforeAll(async () => {
  server = await startTestServer();
  work = mkdtempSync(join(tmpdir(), 'spotwire-client-pkg-'));
  await runOk('npm', ['pack', '--pack-destination', work], PACKAGE_DIR);
  const tarballs = readdirSync(work).filter((name) => name.endsWith('.tgz'));
  expect(tarballs).toEqual(['spotwire-client-0.1.0.tgz']);
  app = join(work, 'bot');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-bot', private: true, type: 'module' }));
  await runOk('npm', ['install', join(work, tarballs[0]!), 'ws', '--no-audit', '--no-fund', '--prefer-offline'], app);
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.client.close();
  await server?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships ESM, declarations and the browser bundle, and nothing from the server', () => {
    const installed = join(app, 'node_modules', '@spotwire', 'client');
    const files = readdirSync(join(installed, 'dist'));
    expect(files).toContain('index.js');
    expect(files).toContain('index.d.ts');
    expect(files).toContain('spotwire-client.browser.js');
    expect(files.filter((f) => f.startsWith('validate'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toEqual(['msgpackr']);
  });

  it('is the size its README says, within 10%', () => {
    const documented = /: ([\d.]+) KiB, ([\d.]+) KiB\s+gzipped/.exec(readme);
    expect(documented).not.toBeNull();
    const bundle = readFileSync(join(app, 'node_modules', '@spotwire', 'client', 'dist', 'spotwire-client.browser.js'));
    const kib = (bytes: number): number => bytes / 1024;
    expect(Math.abs(kib(bundle.length) / Number(documented![1]) - 1)).toBeLessThan(0.1);
    expect(Math.abs(kib(gzipSync(bundle, { level: 9 }).length) / Number(documented![2]) - 1)).toBeLessThan(0.1);
  });

  it("runs the README's example as written against a real server", async () => {
    const example = fencedBlock(readme, '## Example', 'js');
    writeFileSync(join(app, 'bot.mjs'), example);
    const result = await run('node', ['bot.mjs'], app, { SPOTWIRE_URL: server.url, SPOTWIRE_TOKEN: 'token-alice' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');

    const funded = TEST_FUNDING.USD!;
    const usd = (units: number): string => `${(units / 1e8).toFixed(8)} USD`;
    const id = /^ack: order (\d+) \(readme-\d+\) accepted$/.exec(lines.find((l) => l.startsWith('ack:')) ?? '')?.[1];
    expect(id).toBeDefined();
    expect(lines).toEqual([
      'logged in as alice',
      'BTC-USD: pxDecimals 2, qtyDecimals 6',
      'px 5000000 = 50000.00 USD, qty 10000 = 0.010000 BTC',
      `${usd(funded)} available; the order holds 500.00000000 USD`,
      `exec new order ${id}: filled 0, leaves 10000`,
      `balance USD: ${usd(funded - 50_000_000_000)} available, 500.00000000 USD on hold`,
      expect.stringMatching(/^ack: order \d+ \(readme-\d+\) accepted$/),
      'on hold now: 500.00000000 USD',
      `exec canceled order ${id}: filled 0, leaves 0`,
      `balance USD: ${usd(funded)} available, 0.00000000 USD on hold`,
      'canceled; on hold now: 0.00000000 USD',
    ]);
    // The README shows what a run prints; it must be this run, numbers aside.
    expect(fencedBlock(readme, '## Example', 'text').trimEnd().split('\n').map(shape)).toEqual(lines.map(shape));

    // It cleaned up: no order left, nothing held.
    const alice = await connect(server.url, 'token-alice');
    clients.push(alice);
    expect((await alice.client.orders()).orders).toEqual([]);
    const balances = (await alice.client.balances()).balances;
    expect(balances.find((b) => b.asset === 'USD')).toEqual({ asset: 'USD', available: funded, hold: 0 });
  }, 60_000);
});

describe('the browser bundle in headless Chromium', () => {
  let browser: Browser;
  let http: Server;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM}: apt-get install -y chromium`);
    const bundle = readFileSync(join(app, 'node_modules', '@spotwire', 'client', 'dist', 'spotwire-client.browser.js'));
    http = createServer((req, res) => {
      if (req.url === '/spotwire-client.browser.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>spotwire</title>');
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('computes CRC-32 as zlib does, logs in, keeps a book in sync and places and cancels an order', async () => {
    const address = http.address();
    if (address === null || typeof address === 'string') throw new Error('no http address');
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`http://127.0.0.1:${address.port}/`);

    const samples = ['', '101:5,102:1,100:3,99:7', '5000000:10000', 'Ünïcødé ✓ 𝄞', 'x'.repeat(1000)];
    // A string, not a function: what runs in the page is exactly this JavaScript.
    const script = `(async () => {
      const { SpotwireClient, crc32 } = await import('/spotwire-client.browser.js');
      const utf8 = new TextEncoder();
      const crcs = ${JSON.stringify(samples)}.map((s) => crc32(utf8.encode(s)));
      const client = await SpotwireClient.connect(${JSON.stringify(server.url)});
      const execs = [];
      client.onExec((e) => execs.push(e.status));
      const { account } = await client.login('token-bob');
      let onUpdate = () => {};
      const book = await client.subscribeBook('BTC-USD', { depth: 10, onUpdate: (b) => onUpdate(b) });
      const until = (ok) => new Promise((resolve) => {
        if (ok(book)) return resolve();
        onUpdate = (b) => { if (ok(b)) { onUpdate = () => {}; resolve(); } };
      });
      const ack = await client.place({ sym: 'BTC-USD', side: 'buy', kind: 'limit', px: 4_000_000, qty: 20_000, post: true, cid: 'browser-1' });
      await until((b) => b.bestBid?.[0] === 4_000_000);
      const bidWhileOpen = book.bestBid;
      await client.cancel('BTC-USD', ack.id);
      await until((b) => b.bestBid === undefined);
      const result = { crcs, account, ackId: ack.id, bidWhileOpen, execs, synced: book.synced, resyncs: client.resyncs, badFrames: client.badFrames };
      client.close();
      return result;
    })()`;
    const result = (await page.evaluate(script)) as {
      crcs: number[];
      account: string;
      ackId: number;
      bidWhileOpen: [number, number];
      execs: string[];
      synced: boolean;
      resyncs: number;
      badFrames: number;
    };

    expect(pageErrors).toEqual([]);
    expect(result.crcs).toEqual(samples.map((s) => zlibCrc32(s)));
    expect(result.account).toBe('bob');
    expect(result.ackId).toBeGreaterThan(0);
    expect(result.bidWhileOpen).toEqual([4_000_000, 20_000]);
    expect(result.execs).toEqual(['new', 'canceled']);
    // Every book message passed its seq and checksum test in the browser.
    expect(result).toMatchObject({ synced: true, resyncs: 0, badFrames: 0 });

    const bob = await connect(server.url, 'token-bob');
    clients.push(bob);
    expect((await bob.client.orders(SYM)).orders).toEqual([]);
  }, 60_000);
});
