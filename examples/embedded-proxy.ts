/**
 * The standalone proxy's request handling inside a server of your own: `createProxyHandler` gives the
 * classification, fallback page, report and forwarding; the listeners, certificates and shutdown stay
 * yours. Run it with `npm run example:embedded` (an upstream on http://127.0.0.1:3000, or UPSTREAM=…).
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { createLegacyTlsServer, TrafficStats, type LegacyTlsServerOptions } from '../src/index.js';
import { createProxyHandler, resolveProxyConfig, type ProxyLogger } from '../src/proxy/index.js';

export function createEmbeddedProxy(upstream: string, serverOptions: LegacyTlsServerOptions = {}, logger: ProxyLogger = consoleLogger) {
  // One description of every option: defaults filled in and checked here, once.
  const config = resolveProxyConfig({ upstream, reportToken: process.env.LEGACY_TLS_REPORT_TOKEN, page: { organisation: 'Example Ltd', email: 'help@example.com' } });
  const stats = new TrafficStats();
  let httpsPort = 443;
  const handler = createProxyHandler(config, { stats, logger, httpsPort: () => httpsPort });

  const server = createLegacyTlsServer({ ...serverOptions, minVersion: config.minTls, stats }, handler.handleRequest);
  server.on('upgrade', handler.handleUpgrade);
  server.on('listening', () => {
    const address = server.address();
    if (address && typeof address === 'object') httpsPort = address.port;
  });
  // Plain HTTP beside it: redirects to HTTPS, ACME challenges, the page for clients that cannot do TLS.
  const httpServer = http.createServer(handler.handlePlainHttp);

  const close = async () => {
    await Promise.all([server, httpServer].map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    await handler.close();
    await stats.close();
  };
  return { server, httpServer, stats, close };
}

const consoleLogger: ProxyLogger = {
  info: (message, fields) => console.log(message, fields ?? ''),
  warn: (message, fields) => console.warn(message, fields ?? ''),
  error: (message, fields) => console.error(message, fields ?? ''),
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { server, httpServer, close } = createEmbeddedProxy(process.env.UPSTREAM ?? 'http://127.0.0.1:3000');
  server.listen(Number(process.env.PORT ?? 8443), 'localhost', () => console.log(`proxy on https://localhost:${(server.address() as { port: number }).port}/`));
  httpServer.listen(Number(process.env.HTTP_PORT ?? 8080), 'localhost');
  const stop = () => void close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
