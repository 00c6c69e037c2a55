import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalisePath } from '../http/request-path.js';
import { splitTarget } from '../request-target.js';
import { resolveReportOptions, type LegacyTlsReportOptions } from './options.js';
import { registerLegacyTlsMetrics } from './formats/prometheus.js';
import { createTokenCheck, isLoopback } from './auth.js';
import { findSite, renderDashboard, type SiteFilter } from './formats/html.js';
import { CSV_TABLES, renderCsv } from './formats/csv.js';
import { buildReport, WINDOWS, type WindowName } from './document.js';

export interface ReportRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Raw query string without `?`. */
  query: string;
  authorization: string | undefined;
  remoteAddress: string | undefined;
}

export interface ReportResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const DASHBOARD_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * The report endpoints, framework-neutral: `{prefix}/` (dashboard), `{prefix}/report.json`,
 * `{prefix}/report.csv?table=…` (one table, see formats/csv.ts),
 * `{prefix}/metrics`, and `{prefix}/health` (no token, for load balancers). Returns `null` for any
 * other path, so the caller hands the request on.
 */
export function createReportResponder(options: LegacyTlsReportOptions): (request: ReportRequest) => Promise<ReportResponse | null> {
  const resolved = resolveReportOptions(options);
  const { stats, prefix } = resolved;
  const registry = registerLegacyTlsMetrics(stats, resolved.registry, { readiness: resolved.readiness });
  const tokenMatches = resolved.token === undefined ? undefined : createTokenCheck(resolved.token);
  if (!tokenMatches) {
    resolved.warn(`legacy-tls-fallback: no report token set; ${prefix}/ is served to loopback clients only. Set \`token\` to open it to others.`);
  }

  const routes: Record<string, 'dashboard' | 'json' | 'csv' | 'metrics' | 'health'> = {
    [`${prefix}/`]: 'dashboard',
    [`${prefix}/report.json`]: 'json',
    [`${prefix}/report.csv`]: 'csv',
    [`${prefix}/metrics`]: 'metrics',
    [`${prefix}/health`]: 'health',
  };

  return async (request) => {
    // Routed on the normalised path: `//_legacy-tls/report.json` is the report, not somebody else's page.
    const path = normalisePath(request.path)?.path;
    if (path === prefix) return respond(308, 'text/plain; charset=utf-8', `See ${prefix}/`, { location: `${prefix}/` });
    const route = path === undefined ? undefined : routes[path];
    if (!route) return null;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return respond(405, 'text/plain; charset=utf-8', 'Method Not Allowed', { allow: 'GET, HEAD' });
    }
    if (route === 'health') return respond(200, 'text/plain; charset=utf-8', 'ok\n');
    if (tokenMatches) {
      if (!tokenMatches(request.authorization)) {
        return respond(401, 'text/plain; charset=utf-8', 'A valid report token is needed (Authorization: Bearer <token>, or the token as the Basic password).\n', {
          'www-authenticate': 'Basic realm="legacy-tls-fallback report", charset="UTF-8", Bearer realm="legacy-tls-fallback report"',
        });
      }
    } else if (!isLoopback(request.remoteAddress)) {
      return respond(403, 'text/plain; charset=utf-8', 'The report has no token configured, so it is served on loopback only.\n');
    }

    // Right after a restart the file may still be loading: an empty report (or counters back at 0 in
    // /metrics) for that moment would be wrong. A refused file (another writer) still gets a report.
    if (stats.ready) await Promise.resolve(stats.ready).catch(() => undefined);
    await stats.refresh?.();
    if (route === 'metrics') return respond(200, registry.contentType, await registry.metrics());
    const query = new URLSearchParams(request.query);
    const window = query.get('window') ?? '24h';
    if (!(WINDOWS as readonly string[]).includes(window)) {
      return respond(400, 'text/plain; charset=utf-8', `Unknown window; use one of ${WINDOWS.join(', ')}.\n`);
    }
    const table = query.get('table');
    if (route === 'csv' && !(CSV_TABLES as readonly (string | null)[]).includes(table)) {
      return respond(400, 'text/plain; charset=utf-8', `Unknown or missing table; use ?table= one of ${CSV_TABLES.join(', ')} (and &window= one of ${WINDOWS.join(', ')}).\n`);
    }
    const report = buildReport(stats.snapshot(), stats.now(), stats.storageStatus(), { plan: stats.sitesPlan?.(), readiness: resolved.readiness });
    if (route === 'json') return respond(200, 'application/json; charset=utf-8', `${JSON.stringify(report, null, 2)}\n`);
    if (route === 'csv') {
      // `table` and `window` were checked against closed lists above: safe in a file name.
      return respond(200, 'text/csv; charset=utf-8; header=present', renderCsv(report, window as WindowName, table as string) ?? '', {
        'content-disposition': `attachment; filename="legacy-tls-${table}-${window}.csv"`,
      });
    }
    // `?host=` or `?group=` narrows the dashboard to one site the report knows; anything else is refused.
    const host = query.get('host');
    const group = query.get('group');
    let filter: SiteFilter | undefined;
    if (host !== null || group !== null) {
      filter = host !== null ? { scope: 'host', name: host } : { scope: 'group', name: group as string };
      if ((host !== null && group !== null) || filter.name.length > 300 || !findSite(report, filter)) {
        return respond(400, 'text/plain; charset=utf-8', `Unknown ${filter.scope}; use one the dashboard links to (one of host= or group=).\n`);
      }
    }
    return respond(200, 'text/html; charset=utf-8', renderDashboard(report, window as WindowName, `${prefix}/`, filter), {
      'content-security-policy': DASHBOARD_CSP,
    });
  };
}

function respond(status: number, type: string, body: string, headers: Record<string, string> = {}): ReportResponse {
  return { status, headers: { ...COMMON_HEADERS, 'content-type': type, ...headers }, body };
}

/** Splits a Node request into what the responder needs. */
export function reportRequestOf(req: IncomingMessage): ReportRequest {
  return {
    method: req.method ?? 'GET',
    ...splitTarget(req.url),
    authorization: req.headers.authorization,
    remoteAddress: req.socket.remoteAddress,
  };
}

/**
 * For plain `node:http` servers and anything else: answers report requests and resolves `true`, or
 * resolves `false` without touching `res` so the caller can hand the request on.
 */
export function legacyTlsReportHandler(options: LegacyTlsReportOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const responder = createReportResponder(options);
  return async (req, res) => {
    const response = await responder(reportRequestOf(req));
    if (!response) return false;
    res.writeHead(response.status, { 'content-length': Buffer.byteLength(response.body), ...response.headers });
    res.end(req.method === 'HEAD' ? undefined : response.body);
    return true;
  };
}
