/**
 * Pieces of the proxy scenario group: the upstream every proxy forwards to, a minimal reverse proxy on
 * http-proxy (what a user could write in ten lines), and the adapter for the package's own proxy.
 *
 * nginx's proxy configuration is generated in nginx.ts (`nginxProxyConfig`).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { Server } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { pathToFileURL } from 'node:url';
import httpProxy from 'http-proxy';
import { createLegacyTlsServer } from '../src/index.js';
import type { ProxyConfig, ProxyLogger, RunningProxy } from '../src/proxy/config.js';
import { REPO_DIR } from './processes.js';

/** Size of the upstream's response body. */
export const UPSTREAM_BODY_BYTES = 1024;

/** Plain-HTTP upstream answering every request with 1 KiB. */
export function createUpstream(): http.Server {
  const body = Buffer.alloc(UPSTREAM_BODY_BYTES, 'x');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

/**
 * The simplest TLS-terminating reverse proxy on http-proxy: same legacy-capable TLS server as the
 * package's, a keep-alive agent to the upstream, and the visitor's protocol in `X-TLS-Protocol`.
 */
export function createHttpProxyMinimal(options: { cert: string; key: string; upstream: string }): Server {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ target: options.upstream, agent, xfwd: true });
  proxy.on('proxyReq', (proxyReq, req) => {
    proxyReq.setHeader('x-tls-protocol', (req.socket as TLSSocket).getProtocol?.() ?? 'none');
  });
  proxy.on('error', (_error, _req, res: http.ServerResponse | Duplex) => {
    if (res instanceof http.ServerResponse) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway');
    } else res.destroy();
  });
  return createLegacyTlsServer({ cert: options.cert, key: options.key, logger: { warn: () => undefined } }, (req, res) => proxy.web(req, res));
}

export interface OurProxyEntry {
  file: string;
  exportName: string;
}

const PROXY_EXPORT = /export\s+(?:async\s+)?(?:function\s*\*?\s*|const\s+|let\s+)((?:start|create|run|serve|listen)\w*Proxy\w*)\b/g;

/**
 * Finds the package's own reverse proxy: a `start…Proxy`-like export of a file under src/proxy/.
 * `null` until someone writes it. Reads the sources instead of importing them, so a half-written
 * module cannot break the rest of the run.
 */
export async function findOurProxy(): Promise<OurProxyEntry | null> {
  const dir = path.join(REPO_DIR, 'src', 'proxy');
  let files: string[];
  try {
    files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  } catch {
    return null;
  }
  // index.ts first: that is where the public entry would be.
  files.sort((a, b) => Number(b === 'index.ts') - Number(a === 'index.ts') || a.localeCompare(b));
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    for (const match of text.matchAll(PROXY_EXPORT)) {
      if (match[1]) return { file: path.join(dir, file), exportName: match[1] };
    }
  }
  return null;
}

/**
 * Starts the package's proxy in this process and returns its port.
 *
 * EXTENSION POINT: written against `startProxy(config: ProxyConfig, logger: ProxyLogger)` of
 * src/proxy/app.ts as it stood when this was written; the type import below makes `npm run typecheck`
 * point here when that API changes. Settings are the CLI's defaults, except: loopback, port 0, no
 * plain-HTTP listener, quiet logger, a long keep-alive (the load generators hold connections open).
 */
export async function startOurProxy(
  entry: OurProxyEntry,
  options: { certFile: string; keyFile: string; upstream: string; stateDir: string },
): Promise<{ port: number; close: () => Promise<void> }> {
  const module = (await import(pathToFileURL(entry.file).href)) as Record<string, unknown>;
  const start = module[entry.exportName];
  if (entry.exportName !== 'startProxy' || typeof start !== 'function') {
    throw new Error(`${entry.file} exports ${entry.exportName}, not startProxy(config, logger): adapt startOurProxy() in bench/proxy.ts`);
  }
  const config: ProxyConfig = {
    upstream: new URL(options.upstream),
    upstreamInsecure: false,
    changeOrigin: false,
    listen: { host: '127.0.0.1', port: 0 },
    httpListen: null,
    certificates: [{ certFile: options.certFile, keyFile: options.keyFile }],
    stateDir: options.stateDir,
    minTls: 'TLSv1',
    mode: 'redirect',
    fallbackUrl: undefined,
    fallbackPageFile: undefined,
    page: {},
    exclude: [],
    statsFile: path.join(options.stateDir, 'stats.json'),
    reportToken: randomBytes(24).toString('hex'),
    reportPrefix: '/_legacy-tls',
    trustedHeader: undefined,
    trustedProxies: [],
    workers: 1,
    timeouts: { headers: 10_000, request: 60_000, keepAlive: 60_000, upstreamHeaders: 30_000, upstreamBody: 60_000, shutdownGrace: 1000 },
    maxConnections: 10_000,
    logFormat: 'json',
  };
  const quiet: ProxyLogger = { info: () => undefined, warn: () => undefined, error: (message, fields) => console.error(message, fields ?? '') };
  const running = await (start as (config: ProxyConfig, logger: ProxyLogger) => Promise<RunningProxy>)(config, quiet);
  const port = Number(new URL(running.urls.https).port);
  if (!Number.isInteger(port) || port === 0) throw new Error(`startProxy() returned no usable https URL (${running.urls.https}): adapt startOurProxy() in bench/proxy.ts`);
  return { port, close: () => running.close(1000) };
}
