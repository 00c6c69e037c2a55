import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { FallbackEngine, type FallbackResponse, type Outcome } from '../fallback/engine.js';
import { resolveFallbackOptions } from '../fallback/options.js';
import { normalisePath, normalisePrefix, touches, type NormalisedPath } from '../http/request-path.js';
import { splitTarget } from '../request-target.js';
import { createTokenCheck } from '../report/auth.js';
import { createReportResponder } from '../report/handler.js';
import type { StatsRecorder, StatsSource } from '../stats/types.js';
import type { ProxyConfig, ProxyLogger } from './config.js';
import { Forwarder } from './forward.js';
import { originForm, type ForwardContext } from './headers.js';
import { compileTrustedProxies } from '../tls/trusted-proxies.js';
import { UpstreamFailureLog } from './upstream-failures.js';

export interface ProxyHandlerOptions {
  /** Counts every request (and the upstream's failures); the report shows it unless `reportSource` is given. */
  stats: StatsRecorder & StatsSource;
  /** What the report shows: `stats` itself, or the merged numbers of a cluster or a fleet. @default stats */
  reportSource?: StatsSource;
  /** Where the handler logs: upstream failures (once a minute), configuration warnings. */
  logger: ProxyLogger;
  /** PEM certificates being served: their DNS names are this proxy's `serverNames` when none is given. @default read from `config.certificates` */
  certificates?: readonly string[];
  /** The HTTPS port the plain-HTTP listener redirects to. @default 443 */
  httpsPort?: () => number;
  /** Clock of the switch-off decisions, in milliseconds since the epoch; for tests. @default Date.now */
  now?: () => number;
}

/**
 * The proxy as a request handler, for any `http`/`https` server: `handleRequest` for its `request`
 * event, `handleUpgrade` for `upgrade`, `handlePlainHttp` for a plain-HTTP listener beside it.
 */
export interface ProxyHandler {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  handlePlainHttp(req: IncomingMessage, res: ServerResponse): void;
  /** Closes the upstream connections and writes the last log line; the servers are the caller's. */
  close(): Promise<void>;
}

/**
 * Builds the standalone proxy's request handling from a resolved configuration (`resolveProxyConfig`):
 * the report under its prefix (owned: never forwarded), the fallback engine's one call per request, and
 * the forwarder to `config.upstream`. Reads the fallback page file (and, without `serverNames`, the
 * certificate files) once, here.
 */
export function createProxyHandler(config: ProxyConfig, options: ProxyHandlerOptions): ProxyHandler {
  const { stats, logger } = options;
  const libraryLogger = { warn: (message: string) => logger.warn(message), info: (message: string) => logger.info(message) };
  const fallbackPage = config.fallbackPageFile === undefined ? undefined : readFileSync(config.fallbackPageFile, 'utf8');
  const engine = new FallbackEngine(
    resolveFallbackOptions<IncomingMessage>({
      mode: config.mode,
      exclude: config.exclude,
      page: fallbackPage === undefined ? config.page : () => fallbackPage,
      ...(config.switchOff !== undefined && { switchOff: config.switchOff }),
      notice: config.notice,
      ...(config.hosts !== undefined && { hosts: config.hosts }),
      ...(config.groups !== undefined && { groups: config.groups }),
      ...(options.now && { now: options.now }),
      ...(config.fallbackUrl !== undefined && { fallbackUrl: config.fallbackUrl, serverNames: serverNames(config, options.certificates) }),
      // Without a trusted header the list still says whose X-Forwarded-For names the visitor.
      ...(config.trustedHeader !== undefined && { trustedHeader: config.trustedHeader }),
      trustedProxies: config.trustedProxies,
      stats,
      logger: libraryLogger,
    }),
    { rejectUnreadablePaths: true, ...(options.httpsPort && { httpsPort: options.httpsPort }) },
  );
  const trustedPeers = compileTrustedProxies(config.trustedProxies);
  const report = createReportResponder({ stats: options.reportSource ?? stats, token: config.reportToken, prefix: config.reportPrefix, readiness: config.readiness, logger: libraryLogger });
  // Validated by the report's options: always a path.
  const reportPrefix = normalisePrefix(config.reportPrefix) as NormalisedPath;
  // The report token is a secret of this proxy: whoever sends it, it never travels on to the site.
  const isReportCredential = config.reportToken === undefined ? () => false : createTokenCheck(config.reportToken);
  const upstreamFailures = new UpstreamFailureLog(logger, config.upstream.href);
  const forwarder = new Forwarder({
    upstream: config.upstream,
    insecure: config.upstreamInsecure,
    changeOrigin: config.changeOrigin,
    upstreamHeadersTimeout: config.timeouts.upstreamHeaders,
    upstreamBodyTimeout: config.timeouts.upstreamBody,
    onUpstreamError: (status, code) => {
      stats.recordUpstreamError(status);
      upstreamFailures.count(status, code);
    },
  });

  const forwardContext = (req: IncomingMessage, outcome: Outcome, proto: 'https' | 'http'): ForwardContext => ({
    verdict: outcome.verdict,
    peerAddress: req.socket.remoteAddress,
    peerTrusted: trustedPeers.has(req.socket.remoteAddress),
    trustedHeader: config.trustedHeader,
    proto,
    host: forwarder.hostFor(req),
    dropAuthorization: req.headers.authorization !== undefined && isReportCredential(req.headers.authorization),
    responseHeaders: outcome.headers,
  });

  /**
   * The report prefix belongs to the proxy: every spelling of it (`//_legacy-tls/`, `/_legacy-tls/./`,
   * `%2f`, other case) is answered here, by the report or with a 404, and never forwarded, because
   * those requests carry the report token.
   */
  const answerOwned = async (req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> => {
    const response = await report({ method: req.method ?? 'GET', path, query, authorization: req.headers.authorization, remoteAddress: req.socket.remoteAddress });
    send(req, res, response ?? NOT_FOUND);
  };
  const proceed = (req: IncomingMessage, res: ServerResponse, outcome: Outcome, query: string): void => {
    if (outcome.response) return send(req, res, outcome.response);
    forwarder.forward(req, res, forwardContext(req, outcome, 'https'), pathAndQuery(outcome.path, query));
  };
  const fail = (res: ServerResponse, error: unknown) => {
    logger.error('request failed inside the proxy', { error: (error as Error).message });
    if (res.headersSent) res.destroy();
    else {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    }
  };

  return {
    // Synchronous on the common path: only report requests and onLegacy hooks need a promise.
    handleRequest(req, res) {
      try {
        if (req.method === 'OPTIONS' && req.url === '*') return send(req, res, OPTIONS_ANSWER);
        const target = splitTarget(originForm(req.url));
        const normalised = normalisePath(target.path);
        if (normalised !== null && touches(normalised, reportPrefix)) {
          answerOwned(req, res, normalised.path, target.query).catch((error: unknown) => fail(res, error));
          return;
        }
        const outcome = engine.handle(req, target.path, req, normalised);
        if (outcome instanceof Promise) outcome.then((settled) => proceed(req, res, settled, target.query), (error: unknown) => fail(res, error));
        else proceed(req, res, outcome, target.query);
      } catch (error) {
        fail(res, error);
      }
    },
    handleUpgrade(req, socket, head) {
      try {
        const target = splitTarget(originForm(req.url));
        const normalised = normalisePath(target.path);
        if (normalised !== null && touches(normalised, reportPrefix)) return writeRaw(socket, NOT_FOUND);
        const outcome = engine.handleUpgrade(req, target.path, normalised);
        if (outcome.response) return writeRaw(socket, outcome.response);
        forwarder.upgrade(req, socket, head, forwardContext(req, outcome, 'https'), pathAndQuery(outcome.path, target.query));
      } catch {
        socket.destroy();
      }
    },
    handlePlainHttp(req, res) {
      try {
        const target = splitTarget(req.url);
        const outcome = engine.handlePlainHttp(req, { path: target.path, originForm: originForm(req.url) });
        if (outcome.response) return send(req, res, outcome.response);
        forwarder.forward(req, res, forwardContext(req, outcome, 'http'), outcome.path ?? '/');
      } catch (error) {
        fail(res, error);
      }
    },
    async close() {
      await forwarder.close().catch(() => undefined);
      upstreamFailures.close();
    },
  };
}

const NOT_FOUND: FallbackResponse = {
  status: 404,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
  body: 'Not found.\n',
};

// `OPTIONS *` asks about the server, not a resource: answered here, never forwarded.
const OPTIONS_ANSWER: FallbackResponse = {
  status: 200,
  headers: { allow: 'OPTIONS, GET, HEAD, POST, PUT, PATCH, DELETE', 'cache-control': 'no-store' },
  body: '',
};

function pathAndQuery(path: string | undefined, query: string): string {
  return `${path ?? '/'}${query === '' ? '' : `?${query}`}`;
}

/** The configured `serverNames`, or the DNS names of the certificates served (subjectAltName). */
function serverNames(config: ProxyConfig, certificates: readonly string[] | undefined): string[] {
  if (config.serverNames.length > 0) return config.serverNames;
  const pems = certificates ?? config.certificates.map((pair) => readFileSync(pair.certFile, 'utf8'));
  const names = new Set<string>();
  for (const pem of pems) {
    for (const entry of (new X509Certificate(pem).subjectAltName ?? '').split(', ')) {
      if (entry.startsWith('DNS:')) names.add(entry.slice(4));
    }
  }
  return [...names];
}

function send(req: IncomingMessage, res: ServerResponse, response: FallbackResponse): void {
  // Spread last: `{ ...headers, more }` leaves V8's fast path on Node 20.
  res.writeHead(response.status, { 'content-length': Buffer.byteLength(response.body), ...response.headers });
  res.end(req.method === 'HEAD' ? undefined : response.body);
}

function writeRaw(socket: Duplex, response: FallbackResponse): void {
  const head = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ''}`];
  for (const [name, value] of Object.entries(response.headers)) head.push(`${name}: ${value}`);
  head.push(`content-length: ${Buffer.byteLength(response.body)}`, 'connection: close');
  socket.end(`${head.join('\r\n')}\r\n\r\n${response.body}`);
}
