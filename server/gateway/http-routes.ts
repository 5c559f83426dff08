// The gateway's plain HTTP side: the page (or the JSON about) at `/`, `/health`, `/metrics`, the
// page's static files, and 404 for the rest. Registered after `/ws`, whose route takes precedence.
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { ServerMetrics } from '../metrics.js';
import { acceptsHtml, sendStatic, type StaticSite } from './static-site.js';

export interface HttpRouteDeps {
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  /** `ok` false: 503 "unavailable"; `degraded` (a sink behind a failure, trading goes on): 200 "degraded". */
  readonly health: () => { ok: boolean; degraded?: boolean; detail: Record<string, unknown> };
  /** The JSON `GET /` answers to a client that does not ask for HTML, or with ?format=json (about.ts). */
  readonly about: () => Record<string, unknown>;
  /** The trading page (web/dist); null when it was not built: `GET /` is then the JSON for everyone. */
  readonly site: StaticSite | null;
}

export function addHttpRoutes(app: TemplatedApp, deps: HttpRouteDeps, connectionCount: () => number): void {
  app.get('/', (res, req) => {
    const index = deps.site?.lookup('/');
    if (index !== undefined && req.getQuery('format') !== 'json' && acceptsHtml(req.getHeader('accept')))
      return sendStatic(res, req, index);
    const body = JSON.stringify(deps.about());
    res.cork(() => res.writeHeader('content-type', 'application/json').writeHeader('vary', 'Accept').end(body));
  });
  app.get('/health', (res) => {
    const { ok, degraded, detail } = deps.health();
    const status = !ok ? 'unavailable' : degraded === true ? 'degraded' : 'ok';
    const body = JSON.stringify({ status, connections: connectionCount(), ...detail });
    res.cork(() => {
      res
        .writeStatus(ok ? '200 OK' : '503 Service Unavailable')
        .writeHeader('content-type', 'application/json')
        .end(body);
    });
  });
  app.get('/metrics', (res) => serveMetrics(res, deps));
  app.get('/*', (res, req) => {
    const file = deps.site?.lookup(req.getUrl());
    if (file !== undefined) return sendStatic(res, req, file);
    res.cork(() => res.writeStatus('404 Not Found').end('not found'));
  });
  app.any('/*', (res) => {
    res.cork(() => res.writeStatus('404 Not Found').end('not found'));
  });
}

function serveMetrics(res: HttpResponse, { metrics, logger }: HttpRouteDeps): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const { registry } = metrics;
  registry.metrics().then(
    (text) => {
      if (!aborted) res.cork(() => res.writeHeader('content-type', registry.contentType).end(text));
    },
    (error: unknown) => {
      logger.error({ err: error }, 'metrics collection failed');
      if (!aborted) res.cork(() => res.writeStatus('500 Internal Server Error').end('metrics failed'));
    },
  );
}
