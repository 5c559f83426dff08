// The trading page over HTTP as a browser and a cache meet it: `GET /` is the page for a client
// that asks for HTML and the service's JSON for any other (or with ?format=json); hashed assets
// are immutable for a year, index.html is revalidated (ETag, 304); gzip when asked; the right
// content types; and no request path reaches a file outside the build, however it is spelled.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticSite, acceptsHtml } from '../../server/gateway/static-site.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A GET with the path sent exactly as written (fetch would normalize `..` away). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
let server: TestServer;
let port: number;

beforeAll(async () => {
  server = await startTestServer();
  port = server.server.port;
});
afterAll(async () => {
  await server.stop();
});

/** The built page's script and stylesheet, as index.html names them. */
async function assets(): Promise<{ script: string; style: string }> {
  const html = (await get(port, '/', { accept: BROWSER_ACCEPT })).body.toString();
  const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  const style = /<link rel="stylesheet" crossorigin href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
  if (script === undefined || style === undefined) throw new Error(`index.html names no hashed assets:\n${html}`);
  return { script, style };
}

describe('GET /', () => {
  it('is the page for a browser, revalidated on every use', async () => {
    const answer = await get(port, '/', { accept: BROWSER_ACCEPT });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['cache-control']).toBe('no-cache');
    expect(answer.body.toString()).toContain('<div id="app"></div>');
    const again = await get(port, '/', { accept: BROWSER_ACCEPT, 'if-none-match': String(answer.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('is the JSON for a client that does not ask for HTML, or asks for ?format=json', async () => {
    for (const [path, headers] of [
      ['/', {}],
      ['/', { accept: 'application/json' }],
      ['/', { accept: '*/*' }],
      ['/?format=json', { accept: BROWSER_ACCEPT }],
    ] as const) {
      const answer = await get(port, path, headers);
      expect(answer.headers['content-type'], `${path} ${JSON.stringify(headers)}`).toBe('application/json');
      expect(answer.headers.vary).toBe('Accept');
      expect(JSON.parse(answer.body.toString())).toMatchObject({ service: 'spotwire', http: { health: '/health' } });
    }
  });
});

describe('the assets', () => {
  it('have hashed names, a year immutable, their content types, and gzip when asked', async () => {
    const { script, style } = await assets();
    expect(script).toMatch(/^\/assets\/index-[\w-]{8,}\.js$/);
    const js = await get(port, script);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    expect(js.headers['content-encoding']).toBeUndefined();
    const zipped = await get(port, script, { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(zipped.body).equals(js.body)).toBe(true);
    expect(zipped.body.length).toBeLessThan(js.body.length / 2);
    const css = await get(port, style);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await get(port, '/favicon.svg');
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answer 404 to any path outside the build, however it is spelled', async () => {
    const { script } = await assets();
    const name = script.slice('/assets/'.length);
    for (const path of [
      '/../package.json',
      '/assets/../../package.json',
      '/%2e%2e/package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/..%5c..%5cpackage.json',
      '//etc/passwd',
      '/assets//etc/passwd',
      `/assets/../assets/${name}`,
      `/assets/./${name}`,
      `/assets/${name}%00.html`,
      '/web/dist/index.html',
      '/server/server.ts',
      '/package.json',
      '/.gitignore',
      '/assets/',
    ]) {
      const answer = await get(port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.toString(), path).toBe('not found');
    }
  });
});

describe('StaticSite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'spotwire-site-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'export {};');
    writeFileSync(join(dir, '.env'), 'SECRET=1');
    writeFileSync(join(dir, 'outside.txt'), 'x');
    symlinkSync('/etc/hostname', join(dir, 'assets', 'linked.txt'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds only the regular files of the build: no dot-files, no symlinks out', () => {
    const site = StaticSite.load(dir)!;
    expect(site.lookup('/')?.contentType).toBe('text/html; charset=utf-8');
    expect(site.lookup('/assets/app-abc123.js')?.cacheControl).toBe('public, max-age=31536000, immutable');
    expect(site.lookup('/outside.txt')?.cacheControl).toBe('no-cache');
    expect(site.lookup('/.env')).toBeUndefined();
    expect(site.lookup('/assets/linked.txt')).toBeUndefined();
    expect(site.size).toBe(3);
  });

  it('is null without an index.html: the page was not built', () => {
    expect(StaticSite.load(join(dir, 'assets'))).toBeNull();
  });

  it('tells a browser from a data client by Accept', () => {
    expect(acceptsHtml(BROWSER_ACCEPT)).toBe(true);
    expect(acceptsHtml('application/xhtml+xml')).toBe(true);
    expect(acceptsHtml('*/*')).toBe(false);
    expect(acceptsHtml('application/json')).toBe(false);
    expect(acceptsHtml('text/htmlx')).toBe(false);
    expect(acceptsHtml('')).toBe(false);
  });
});
