import http from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import { resolveServerOptions } from '../tls/options.js';
import type { TrafficStats } from '../stats/traffic-stats.js';
import type { StatsSource } from '../stats/types.js';
import { createLegacyTlsServer } from '../tls/server.js';
import { readCertificateFiles, watchCertificateFiles, type CertificatePem } from './certificates.js';
import type { ProxyConfig, ProxyLogger, RunningProxy } from './config.js';
import { ClosedConnectionLog } from './handshake-log.js';
import { createProxyHandler } from './handler.js';
import { createProxyStats, statsOpened } from './stats.js';
import { createFront, describeFront } from './front.js';
import { defaultSelfSignedCertificate } from '../tls/self-signed.js';

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
  const stats = runtime?.stats ?? createProxyStats(config, toLibraryLogger(logger), 300_000);
  const ownsStats = runtime?.ownsStats ?? true;
  try {
    // Rejects when another process writes the same stats file, or Redis refuses us: refuse to start rather than lose counts.
    if (ownsStats) await statsOpened(stats, config);
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
  let certificates = await readCertificates();
  // The TLS server does not listen when a front listener hands it its connections, so it cannot wait
  // for its generated certificate in listen(): generate it here.
  if ((config.passThrough !== null || config.acceptProxyProtocol.length > 0) && certificates.cert === undefined) {
    const pair = await defaultSelfSignedCertificate();
    certificates = { cert: [pair.cert], key: [pair.key] };
  }
  let httpsPort = 443;
  const handler = createProxyHandler(config, { stats, reportSource, logger, ...(certificates.cert && { certificates: certificates.cert }), httpsPort: () => httpsPort });

  const server = createLegacyTlsServer(
    {
      ...certificates,
      minVersion: config.minTls,
      stats,
      ...(ticketKeys && { ticketKeys }),
      logger: toLibraryLogger(logger),
      maxConnections: config.maxConnections,
      maxHandshakesPerAddress: config.maxHandshakesPerAddress,
      handshakeTimeout: config.timeouts.handshake,
      clientHelloTimeout: config.timeouts.clientHello,
    },
    handler.handleRequest,
  );
  applyLimits(server, config);
  const closedConnections = new ClosedConnectionLog((message, fields) => logger.warn(message, fields));
  server.on('handshakeFailure', (failure) => closedConnections.record(failure));
  server.on('upgrade', handler.handleUpgrade);

  const front = createFront(config, server, stats, logger);
  const frontConnections = new Set<Socket>();
  if (front) {
    front.server.maxConnections = config.maxConnections;
    front.server.on('connection', (socket: Socket) => {
      frontConnections.add(socket);
      socket.once('close', () => frontConnections.delete(socket));
    });
    await listen(front.server, config.listen.host, config.listen.port);
    httpsPort = (front.server.address() as AddressInfo).port;
    // Node's HTTP server starts enforcing its header and request timeouts on 'listening'; this one
    // gets its connections from the front listener and never listens itself.
    server.emit('listening');
    logger.info(`front listener: ${describeFront(config)}`);
  } else {
    await listen(server, config.listen.host, config.listen.port);
    httpsPort = (server.address() as AddressInfo).port;
  }

  let httpServer: http.Server | undefined;
  if (config.httpListen) {
    httpServer = http.createServer(handler.handlePlainHttp);
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
    cut() {
      for (const socket of frontConnections) socket.destroy();
      server.closeAllConnections();
      httpServer?.closeAllConnections();
    },
    close(graceMs = config.timeouts.shutdownGrace) {
      closing ??= (async () => {
        unwatchCertificates();
        await Promise.all([drain(server, graceMs), httpServer && drain(httpServer, graceMs), front && drainFront(front.server, frontConnections, graceMs)]);
        closedConnections.flush();
        await handler.close();
        if (ownsStats) await stats.close();
      })();
      return closing;
    },
  };
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

function listen(server: Server, host: string, port: number): Promise<void> {
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

/** Stop accepting; relayed connections get the grace to finish, then are cut. */
async function drainFront(server: Server, connections: Set<Socket>, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const timer = setTimeout(() => {
    for (const socket of connections) socket.destroy();
  }, graceMs);
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
