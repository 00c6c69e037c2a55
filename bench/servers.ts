/**
 * Child-process entry: starts ONE server variant on 127.0.0.1, port 0, and prints
 * `{"variant": …, "port": …, "pid": …}` as the first line of stdout.
 *
 *   node --import tsx bench/servers.ts <variant>
 *
 * Environment: BENCH_CERT_FILE / BENCH_KEY_FILE (PEM; generated when absent), BENCH_UPSTREAM (URL of
 * the upstream, for the proxy variants). The process exits on SIGTERM/SIGINT or when its stdin
 * closes (the parent went away), closing the server first so `--cpu-prof` can write its profile.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo, Server } from 'node:net';
import Koa from 'koa';
import { createLegacyTlsServer, generateSelfSignedCertificate, TrafficStats } from '../src/index.js';
import { legacyTlsFallback } from '../src/koa/index.js';
import cluster from 'node:cluster';
import { createHttpProxyMinimal, createUndiciMinimal, createUpstream, startOurProxy } from './proxy.js';

export const SERVER_VARIANTS = [
  /** Koa on createLegacyTlsServer, `ctx.body = 'hello'`: the baseline. */
  'koa-bare',
  /** koa-bare + one middleware that only calls next(): what any middleware costs (control). */
  'koa-noop',
  /** The same + `legacyTlsFallback({ stats: new TrafficStats() })`. */
  'koa-fallback',
  /** koa-fallback whose server also counts handshakes (`createLegacyTlsServer({ stats })`). */
  'koa-fallback-server-stats',
  /** The same with the ClientHello census off (`clientHelloCensus: false`): what the census costs. */
  'koa-fallback-server-stats-no-census',
  /** Plain `https.createServer` with Node's defaults and the same certificate: what Node costs without the package. */
  'https-bare',
  /** Plain-HTTP upstream answering 1 KiB (proxy group). */
  'upstream',
  /** http-proxy based minimal TLS-terminating proxy to BENCH_UPSTREAM (proxy group). */
  'http-proxy',
  /** The least a Node proxy can do: TLS server + undici pool, nothing else (proxy group reference). */
  'undici-minimal',
  /** The package's own proxy from src/proxy (proxy group). */
  'proxy-ours',
  'proxy-ours-workers',
] as const;
export type ServerVariant = (typeof SERVER_VARIANTS)[number];

export interface ServerInfo {
  variant: ServerVariant;
  port: number;
  pid: number;
}

const quiet = { warn: () => undefined };

async function pems(): Promise<{ cert: string; key: string }> {
  const certFile = process.env.BENCH_CERT_FILE;
  const keyFile = process.env.BENCH_KEY_FILE;
  if (certFile && keyFile) return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  return generateSelfSignedCertificate(['localhost']);
}

function koaApp(variant: ServerVariant, stats: TrafficStats | undefined): Koa {
  const app = new Koa();
  if (variant === 'koa-noop') app.use((_ctx, next) => next());
  else if (variant !== 'koa-bare') app.use(legacyTlsFallback({ stats }));
  app.use((ctx) => {
    ctx.body = 'hello';
  });
  return app;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

async function start(variant: ServerVariant): Promise<{ port: number; close: () => Promise<void> }> {
  const upstream = process.env.BENCH_UPSTREAM ?? '';
  switch (variant) {
    case 'koa-bare':
    case 'koa-noop':
    case 'koa-fallback':
    case 'koa-fallback-server-stats':
    case 'koa-fallback-server-stats-no-census': {
      const { cert, key } = await pems();
      const stats = variant === 'koa-bare' || variant === 'koa-noop' ? undefined : new TrafficStats();
      const serverStats = variant.startsWith('koa-fallback-server-stats') ? stats : undefined;
      const census = variant !== 'koa-fallback-server-stats-no-census';
      const server = createLegacyTlsServer({ cert, key, logger: quiet, clientHelloCensus: census, ...(serverStats && { stats: serverStats }) }, koaApp(variant, stats).callback());
      server.keepAliveTimeout = 60_000;
      const port = await listen(server);
      return { port, close: async () => closeServer(server).then(() => stats?.close()) };
    }
    case 'https-bare': {
      const server = https.createServer({ ...(await pems()) }, (_req, res) => res.end('hello'));
      server.keepAliveTimeout = 60_000;
      return { port: await listen(server), close: () => closeServer(server) };
    }
    case 'upstream': {
      const server = createUpstream();
      return { port: await listen(server), close: () => closeServer(server) };
    }
    case 'http-proxy': {
      if (!upstream) throw new Error('http-proxy needs BENCH_UPSTREAM');
      const server = createHttpProxyMinimal({ ...(await pems()), upstream });
      return { port: await listen(server), close: () => closeServer(server) };
    }
    case 'undici-minimal': {
      if (!upstream) throw new Error('undici-minimal needs BENCH_UPSTREAM');
      const server = createUndiciMinimal({ ...(await pems()), upstream });
      return { port: await listen(server), close: () => closeServer(server) };
    }
    case 'proxy-ours':
    case 'proxy-ours-workers': {
      if (!upstream) throw new Error(`${variant} needs BENCH_UPSTREAM`);
      const certFile = process.env.BENCH_CERT_FILE;
      const keyFile = process.env.BENCH_KEY_FILE;
      if (!certFile || !keyFile) throw new Error(`${variant} needs BENCH_CERT_FILE and BENCH_KEY_FILE`);
      const stateDir = await mkdtemp(path.join(os.tmpdir(), 'ltf-bench-proxy-'));
      const workers = variant === 'proxy-ours-workers' ? 2 : 1;
      const running = await startOurProxy({ certFile, keyFile, upstream, stateDir, workers });
      return { port: running.port, close: () => running.close().finally(() => rm(stateDir, { recursive: true, force: true })) };
    }
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

async function main(): Promise<void> {
  const variant = process.argv[2] as ServerVariant | undefined;
  if (variant === undefined || !SERVER_VARIANTS.includes(variant)) {
    throw new Error(`usage: servers.ts <${SERVER_VARIANTS.join('|')}>`);
  }
  // A cluster worker runs this file again: it serves, and leaves stdin/stdout to the primary.
  if (cluster.isWorker) {
    await start(variant);
    return;
  }
  const running = await start(variant);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    void running.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  const info: ServerInfo = { variant, port: running.port, pid: process.pid };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
