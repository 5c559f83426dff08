// The trading page's files (web/dist, a Vite production bundle) served from memory. Every file is
// read, hashed and gzipped once at start, and a request is answered only by an exact match of its
// path against that list, so no request path reaches the file system and `..` can name nothing.
// Hashed assets (assets/) are cached for a year as immutable; everything else, index.html above
// all, is revalidated on every use (no-cache with an ETag), so a new build is picked up at once.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};
/** Where `npm run build -w @spotwire/web` (run by the root `prepare` on npm ci) puts the page. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));
export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';
/** Files smaller than this go out as they are: gzip would not pay for its header. */
const GZIP_MIN_BYTES = 1024;

export interface StaticFile {
  readonly body: Buffer;
  readonly gzipped: Buffer | null;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly etag: string;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Dot-files are never part of a build: nothing like .env can be served by mistake.
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export class StaticSite {
  private constructor(private readonly files: ReadonlyMap<string, StaticFile>) {}

  /** The site in `dir`, or null when it has no index.html (the page was not built). */
  static load(dir: string): StaticSite | null {
    if (!existsSync(join(dir, 'index.html'))) return null;
    const files = new Map<string, StaticFile>();
    for (const path of filesUnder(dir)) {
      const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
      const body = readFileSync(path);
      const contentType = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
      const compressible = /^(text\/|application\/json|image\/svg)/.test(contentType) && body.length >= GZIP_MIN_BYTES;
      files.set(urlPath, {
        body,
        gzipped: compressible ? gzipSync(body, { level: 9 }) : null,
        contentType,
        cacheControl: urlPath.startsWith('/assets/') ? IMMUTABLE : REVALIDATE,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      });
    }
    return new StaticSite(files);
  }

  get size(): number {
    return this.files.size;
  }

  /** The file at exactly this URL path ("/" is index.html), or undefined. */
  lookup(urlPath: string): StaticFile | undefined {
    return this.files.get(urlPath === '/' ? '/index.html' : urlPath);
  }
}

/** True when a request's Accept header asks for a page (what browsers send), not for data. */
export function acceptsHtml(accept: string): boolean {
  return /(^|,)\s*(text\/html|application\/xhtml\+xml)\s*(;|,|$)/i.test(accept);
}

/** Answers `req` with `file`; reads every header it needs before writing (uWS's req is synchronous). */
export function sendStatic(res: HttpResponse, req: HttpRequest, file: StaticFile): void {
  const notModified = req.getHeader('if-none-match') === file.etag;
  const gzip = file.gzipped !== null && /\bgzip\b/i.test(req.getHeader('accept-encoding'));
  res.cork(() => {
    if (notModified) {
      res.writeStatus('304 Not Modified').writeHeader('etag', file.etag).writeHeader('cache-control', file.cacheControl).endWithoutBody();
      return;
    }
    res.writeHeader('content-type', file.contentType).writeHeader('cache-control', file.cacheControl).writeHeader('etag', file.etag);
    res.writeHeader('x-content-type-options', 'nosniff');
    if (file.gzipped !== null) res.writeHeader('vary', 'Accept-Encoding');
    if (gzip) res.writeHeader('content-encoding', 'gzip').end(file.gzipped!);
    else res.end(file.body);
  });
}
