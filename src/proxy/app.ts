import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { FallbackEngine, isAcmeChallenge, type Decision, type FallbackResponse } from '../fallback/engine.js';
import { normalisePath, normalisePrefix, touches, type NormalisedPath } from '../http/request-path.js';
import { resolveFallbackOptions, type FallbackOptions } from '../fallback/options.js';
import { resolveServerOptions } from '../tls/options.js';
import { splitTarget } from '../request-target.js';
import { createTokenCheck } from '../report/auth.js';
import { createReportResponder } from '../report/handler.js';
import { TrafficStats, type StatsSource } from '../stats/traffic-stats.js';
import { createLegacyTlsServer, type LegacyTlsServer } from '../tls/server.js';
import { compileTrustedProxies } from '../tls/trusted-proxies.js';
import { readCertificateFiles, watchCertificateFiles, type CertificatePem } from './certificates.js';
import type { ProxyConfig, ProxyLogger, RunningProxy } from './config.js';
import type { Verdict } from '../types.js';
import { Forwarder } from './forward.js';
import { ClosedConnectionLog } from './handshake-log.js';
import { originForm, type ForwardContext } from './headers.js';
import { UpstreamFailureLog } from './upstream-failures.js';
import { isHandshakeImpossible } from './xp-clients.js';

/** Hooks a cluster worker uses to share the primary's stats and keys; absent in a single process. */
export interface ProxyRuntime {
  stats: TrafficStats;
  /** What the report shows: the local stats, or the primary's merged view in a cluster. */
  reportSource: StatsSource;
  ticketKeys?: Buffer;
  /** Stats are closed by whoever owns them (the primary in a cluster). */
  ownsStats: boolean;
  /**
   * The certificates to serve, instead of reading the files: a cluster worker gets those the primary last
   * checked, so a half-renewed pair on disk never reaches it. Nothing is watched then.
   */
  certificates?: () => CertificatePem;
}

/**
 * Starts the standalone proxy in this process: the legacy-capable HTTPS listener in front of
 * `config.upstream`, the optional plain-HTTP listener, the report, and certificate reloading.
 */
export async function startProxy(config: ProxyConfig, logger: ProxyLogger, runtime?: ProxyRuntime): Promise<RunningProxy> {
  const stats = runtime?.stats ?? new TrafficStats({ statsFile: config.statsFile, logger: toLibraryLogger(logger), summaryInterval: 300_000 });
  const ownsStats = runtime?.ownsStats ?? true;
  try {
    // Rejects when another process writes the same stats file: refuse to start rather than lose counts.
    if (ownsStats) await stats.ready;
    return await startWithStats(config, logger, stats, runtime?.reportSource ?? stats, ownsStats, runtime?.ticketKeys, runtime?.certificates);
  } catch (error) {
    // A proxy that failed to start must not leave its stats timers and file behind.
    if (ownsStats) await stats.close();
    throw error;
  }
}

async function startWithStats(
  config: ProxyConfig,
  logger: ProxyLogger,
  stats: TrafficStats,
  reportSource: StatsSource,
  ownsStats: boolean,
  ticketKeys: Buffer | undefined,
  givenCertificates: (() => CertificatePem) | undefined,
): Promise<RunningProxy> {
  const readCertificates = async () => pemOptions(givenCertificates ? givenCertificates() : await readCertificateFiles(config));
  const fallbackPage = config.fallbackPageFile ? await readFile(config.fallbackPageFile, 'utf8') : undefined;

  const certificates = await readCertificates();
  const fallbackOptions: FallbackOptions<IncomingMessage> = {
    mode: config.mode,
    exclude: config.exclude,
    page: fallbackPage === undefined ? config.page : () => fallbackPage,
    ...(config.fallbackUrl && { fallbackUrl: config.fallbackUrl, serverNames: serverNamesOf(config, certificates.cert) }),
    ...(config.trustedHeader && { trustedHeader: config.trustedHeader, trustedProxies: config.trustedProxies }),
    stats,
    logger: toLibraryLogger(logger),
  };
  const engine = new FallbackEngine(resolveFallbackOptions(fallbackOptions), { rejectUnreadablePaths: true });
  const trustedPeers = compileTrustedProxies(config.trustedProxies);
  const report = createReportResponder({ stats: reportSource, token: config.reportToken, prefix: config.reportPrefix, logger: toLibraryLogger(logger) });
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

  const forwardContext = (req: IncomingMessage, verdict: Verdict, proto: 'https' | 'http'): ForwardContext => ({
    verdict,
    peerAddress: req.socket.remoteAddress,
    peerTrusted: trustedPeers.has(req.socket.remoteAddress),
    trustedHeader: config.trustedHeader,
    proto,
    host: forwarder.hostFor(req),
    dropAuthorization: req.headers.authorization !== undefined && isReportCredential(req.headers.authorization),
  });

  // Validated by the report's options: always a path.
  const reportPrefix = normalisePrefix(config.reportPrefix) as NormalisedPath;
  /**
   * The report prefix belongs to the proxy: every spelling of it (`//_legacy-tls/`, `/_legacy-tls/./`,
   * `%2f`, other case) is answered here, by the report or with a 404, and never forwarded, because
   * those requests carry the report token.
   */
  const answerOwned = async (req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> => {
    const response = await report({ method: req.method ?? 'GET', path, query, authorization: req.headers.authorization, remoteAddress: req.socket.remoteAddress });
    send(req, res, response ?? NOT_FOUND);
  };
  const proceed = (req: IncomingMessage, res: ServerResponse, verdict: Verdict, decision: Decision, query: string): void => {
    engine.record(req, verdict, decision.action);
    if (decision.response) return send(req, res, decision.response);
    forwarder.forward(req, res, forwardContext(req, verdict, 'https'), pathAndQuery(decision.path, query));
  };
  // Synchronous on the common path: only report requests and onLegacy hooks need a promise.
  const handleHttps = (req: IncomingMessage, res: ServerResponse): void => {
    const fail = (error: unknown) => internalError(res, error, logger);
    try {
      if (req.method === 'OPTIONS' && req.url === '*') return send(req, res, OPTIONS_ANSWER);
      const target = splitTarget(originForm(req.url));
      const normalised = normalisePath(target.path);
      if (normalised !== null && touches(normalised, reportPrefix)) {
        answerOwned(req, res, normalised.path, target.query).catch(fail);
        return;
      }
      const verdict = engine.classify(req);
      const pending = engine.decide({ method: req.method ?? 'GET', path: target.path, accept: req.headers.accept, normalised }, verdict, req);
      if (pending instanceof Promise) pending.then((decision) => proceed(req, res, verdict, decision, target.query), fail);
      else proceed(req, res, verdict, pending, target.query);
    } catch (error) {
      fail(error);
    }
  };

  const server = createLegacyTlsServer(
    {
      ...certificates,
      minVersion: config.minTls,
      stats,
      ...(ticketKeys && { ticketKeys }),
      logger: toLibraryLogger(logger),
      maxConnections: config.maxConnections,
      ...(config.maxHandshakesPerAddress !== undefined && { maxHandshakesPerAddress: config.maxHandshakesPerAddress }),
      ...(config.timeouts.handshake !== undefined && { handshakeTimeout: config.timeouts.handshake }),
      ...(config.timeouts.clientHello !== undefined && { clientHelloTimeout: config.timeouts.clientHello }),
    },
    handleHttps,
  );
  applyLimits(server, config);
  const closedConnections = new ClosedConnectionLog((message, fields) => logger.warn(message, fields));
  server.on('handshakeFailure', (failure) => closedConnections.record(failure));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      const target = splitTarget(originForm(req.url));
      const normalised = normalisePath(target.path);
      if (normalised !== null && touches(normalised, reportPrefix)) return writeRaw(socket, NOT_FOUND);
      const verdict = engine.classify(req);
      const decision = engine.decideUpgrade({ method: req.method ?? 'GET', path: target.path, accept: req.headers.accept, normalised }, verdict);
      engine.record(req, verdict, decision.action);
      if (decision.response) return writeRaw(socket, decision.response);
      forwarder.upgrade(req, socket, head, forwardContext(req, verdict, 'https'), pathAndQuery(decision.path, target.query));
    } catch {
      socket.destroy();
    }
  });

  await listen(server, config.listen.host, config.listen.port);
  const httpsPort = (server.address() as AddressInfo).port;

  let httpServer: http.Server | undefined;
  if (config.httpListen) {
    httpServer = http.createServer((req, res) => {
      handlePlainHttp(req, res, { engine, forwarder, httpsPort, forwardContext }).catch((error: unknown) => internalError(res, error, logger));
    });
    applyLimits(httpServer, config);
    // No handshake to wait for here: Node's own limit, with the header timeout cutting silent sockets.
    httpServer.maxConnections = config.maxConnections;
    await listen(httpServer, config.httpListen.host, config.httpListen.port);
  }

  const reloadCertificates = async (): Promise<boolean> => {
    try {
      const pairs = await readCertificates();
      const resolved = resolveServerOptions({ ...pairs, minVersion: config.minTls, ...(ticketKeys && { ticketKeys }), logger: toLibraryLogger(logger) });
      // Existing connections keep their context; new handshakes get the new certificate.
      server.setSecureContext(resolved.tls);
      logger.info('certificates reloaded', { files: config.certificates.map((c) => c.certFile) });
      return true;
    } catch (error) {
      logger.error('new certificates refused, the previous ones stay in use', { error: (error as Error).message });
      return false;
    }
  };
  const unwatchCertificates = givenCertificates ? () => undefined : watchCertificateFiles(config, reloadCertificates);

  const host = urlHost(config.listen.host);
  const httpsUrl = `https://${host}:${httpsPort}`;
  const httpUrl = httpServer ? `http://${urlHost(config.httpListen!.host)}:${(httpServer.address() as AddressInfo).port}` : null;

  let closing: Promise<void> | undefined;
  return {
    urls: { https: httpsUrl, http: httpUrl, report: `${httpsUrl}${config.reportPrefix}/` },
    reloadCertificates,
    close(graceMs = config.timeouts.shutdownGrace) {
      closing ??= (async () => {
        unwatchCertificates();
        await Promise.all([drain(server, graceMs), httpServer && drain(httpServer, graceMs)]);
        closedConnections.flush();
        await forwarder.close().catch(() => undefined);
        upstreamFailures.close();
        if (ownsStats) await stats.close();
      })();
      return closing;
    },
  };
}

interface PlainHttpContext {
  engine: FallbackEngine<IncomingMessage>;
  forwarder: Forwarder;
  httpsPort: number;
  forwardContext: (req: IncomingMessage, verdict: Verdict, proto: 'https' | 'http') => ForwardContext;
}

/**
 * The plain-HTTP listener: ACME challenges go to the site (certbot's webroot lives there), clients that
 * can never complete a handshake here (IE on Windows XP / Server 2003: RC4 and 3DES only) get the
 * fallback page in clear text rather than a redirect into a certain TLS error, and everyone else is
 * sent to HTTPS.
 */
async function handlePlainHttp(req: IncomingMessage, res: ServerResponse, context: PlainHttpContext): Promise<void> {
  const { engine, forwarder, httpsPort, forwardContext } = context;
  const target = splitTarget(req.url);
  const verdict = engine.classify(req);
  // Only GET/HEAD of exactly `/.well-known/acme-challenge/<token>` reaches the site in clear text: any
  // other spelling or method is redirected to HTTPS like everything else, where it is decided upon.
  if (isAcmeChallenge(req.method ?? 'GET', target.path)) {
    engine.record(req, verdict, 'excluded');
    forwarder.forward(req, res, forwardContext(req, verdict, 'http'), target.path);
    return;
  }
  if (isHandshakeImpossible(verdict.client)) {
    engine.record(req, verdict, 'rendered');
    return send(req, res, engine.pageResponse(200, verdict));
  }
  const host = req.headers.host ?? '';
  const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.exec(host);
  if (!match) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('A Host header is needed to redirect you to HTTPS.\n');
    return;
  }
  // Never `https://host:port` + `http://other/…`: only a path may follow the host.
  const path = originForm(req.url);
  const location = `https://${match[1]}${httpsPort === 443 ? '' : `:${httpsPort}`}${path.startsWith('/') ? path : '/'}`;
  const readOnly = req.method === 'GET' || req.method === 'HEAD';
  // 301 is what every client understands for http→https; 308 keeps the method and body of the rest.
  res.writeHead(readOnly ? 301 : 308, { location, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'max-age=3600' });
  res.end(`Moved to ${location}\n`);
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

/** Host names the certificates name (DNS entries of subjectAltName), unless given with --server-name. */
function serverNamesOf(config: ProxyConfig, certs: string[] | undefined): string[] {
  if (config.serverNames.length > 0) return config.serverNames;
  const names = new Set<string>();
  for (const pem of certs ?? []) {
    for (const entry of (new X509Certificate(pem).subjectAltName ?? '').split(', ')) {
      if (entry.startsWith('DNS:')) names.add(entry.slice(4));
    }
  }
  return [...names];
}

function send(req: IncomingMessage, res: ServerResponse, response: FallbackResponse): void {
  // Spread last: `{ ...headers, more }` leaves V8's fast path on Node 20 (about 1 µs a request).
  res.writeHead(response.status, { 'content-length': Buffer.byteLength(response.body), ...response.headers });
  res.end(req.method === 'HEAD' ? undefined : response.body);
}

function writeRaw(socket: Duplex, response: FallbackResponse): void {
  const head = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ''}`];
  for (const [name, value] of Object.entries(response.headers)) head.push(`${name}: ${value}`);
  head.push(`content-length: ${Buffer.byteLength(response.body)}`, 'connection: close');
  socket.end(`${head.join('\r\n')}\r\n\r\n${response.body}`);
}

function internalError(res: ServerResponse, error: unknown, logger: ProxyLogger): void {
  logger.error('request failed inside the proxy', { error: (error as Error).message });
  if (res.headersSent) res.destroy();
  else {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Internal error\n');
  }
}

function applyLimits(server: http.Server, config: ProxyConfig): void {
  server.headersTimeout = config.timeouts.headers;
  server.requestTimeout = config.timeouts.request;
  server.keepAliveTimeout = config.timeouts.keepAlive;
  // Slow bodies are cut too: a socket idle for longer than the header timeout is closed.
  server.timeout = Math.max(config.timeouts.headers, config.timeouts.keepAlive) * 2;
  // Node enforces the headers and request timeouts only when it checks, every connectionsCheckingInterval
  // (30 s by default, read at listen()): without this a slowloris holds its socket ~30 s whatever they say.
  (server as http.Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(30_000, Math.max(250, Math.floor(config.timeouts.headers / 4)));
}

/** No pairs configured: no `cert`/`key` options, so the library generates a self-signed certificate. */
function pemOptions(pem: CertificatePem): { cert?: string[]; key?: string[] } {
  return pem.cert.length === 0 ? {} : pem;
}

function listen(server: http.Server | LegacyTlsServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting; idle keep-alive connections go now, busy ones when done or when the grace runs out. */
async function drain(server: http.Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function toLibraryLogger(logger: ProxyLogger): { warn(message: string): void; info(message: string): void } {
  return { warn: (message) => logger.warn(message), info: (message) => logger.info(message) };
}
