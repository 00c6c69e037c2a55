/**
 * Pieces of the proxy scenario group: the upstream every proxy forwards to, a minimal reverse proxy on
 * http-proxy (what a user could write in ten lines), and the adapter for the package's own proxy.
 *
 * nginx's proxy configuration is generated in nginx.ts (`nginxProxyConfig`).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';
import { createLegacyTlsServer } from '../src/index.js';
import { resolveProxyConfig, type ProxyLogger, type RunningProxy } from '../src/proxy/config.js';
import { startProxy } from '../src/proxy/app.js';
import { startCluster } from '../src/proxy/cluster.js';

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
  const server = createLegacyTlsServer({ cert: options.cert, key: options.key, logger: { warn: () => undefined } }, (req, res) => proxy.web(req, res));
  server.keepAliveTimeout = 60_000;
  return server;
}

/**
 * The floor for any Node proxy: the same TLS server, an undici pool to the upstream and nothing else
 * (no classification, no stats, no header rewriting, no error pages). What the baseline calls
 * "Node proxy on undici stream"; it shows how much of the package proxy's cost is Node's own.
 */
export function createUndiciMinimal(options: { cert: string; key: string; upstream: string }): Server {
  const pool = new Pool(options.upstream, { connections: 128, pipelining: 1 });
  const server = createLegacyTlsServer({ cert: options.cert, key: options.key, logger: { warn: () => undefined } }, (req, res) => {
    pool.stream(
      { path: req.url ?? '/', method: 'GET', headers: { ...req.headers, 'x-tls-protocol': (req.socket as TLSSocket).getProtocol() ?? 'none' } },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, headers as http.OutgoingHttpHeaders);
        return res;
      },
      (error) => {
        if (error && !res.headersSent) {
          res.writeHead(502);
          res.end();
        }
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

/**
 * Starts the package's proxy (one process, or `workers` node:cluster workers) and returns its port.
 * The configuration comes from `resolveProxyConfig`, so it has the proxy's own defaults except for what
 * is given here: loopback, port 0, no plain-HTTP listener, the given certificate and stats file, a long
 * keep-alive (the load generators hold connections open) and a short shutdown.
 */
export async function startOurProxy(options: { certFile: string; keyFile: string; upstream: string; stateDir: string; workers: number }): Promise<{ port: number; close: () => Promise<void> }> {
  const config = resolveProxyConfig({
    upstream: options.upstream,
    listen: '127.0.0.1:0',
    httpListen: 'off',
    cert: [options.certFile],
    key: [options.keyFile],
    statsFile: path.join(options.stateDir, 'stats.json'),
    workers: options.workers,
    keepAliveTimeout: 60_000,
    shutdownGrace: 1000,
    // The same token in every cluster worker: they each build this config.
    reportToken: process.env.BENCH_REPORT_TOKEN ?? randomBytes(24).toString('hex'),
  });
  const quiet: ProxyLogger = { info: () => undefined, warn: () => undefined, error: (message, fields) => console.error(message, fields ?? '') };
  const running: RunningProxy = options.workers > 1 ? await startCluster(config, quiet, options.workers) : await startProxy(config, quiet);
  return { port: Number(new URL(running.urls.https).port), close: () => running.close(1000) };
}
