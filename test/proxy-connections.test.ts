/**
 * The proxy's HTTPS listener under a descriptor-exhaustion attack (CWE-400, CWE-770): silent TCP
 * connections used to be held 120 s each, and `--max-connections` full of them locked out every client.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy } from '../src/proxy/app.js';
import { EVICT_AFTER_MS } from '../src/tls/options.js';
import type { ProxyConfig } from '../src/proxy/config.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { captureLogger, proxyConfig } from './helpers/proxy.js';
import { openSilent, type SilentSocket } from './helpers/raw-sockets.js';
import { tlsRequest } from './helpers/tls-client.js';

const TIMEOUTS: Partial<ProxyConfig['timeouts']> = { headers: 2000, request: 10_000, keepAlive: 2000, upstreamHeaders: 2000, upstreamBody: 2000, shutdownGrace: 500, handshake: 3000, clientHello: 2000 };

describe('the proxy with --max-connections full of silent sockets', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  let ca: string;

  beforeAll(async () => {
    ca = (await testCertificate()).cert;
    upstream = http.createServer((_req, res) => res.end('from upstream'));
    upstreamUrl = `http://127.0.0.1:${await listenOn(upstream)}`;
  });
  afterAll(() => closeServer(upstream));

  it('still serves a real client, closes every silent socket, and says so in one log line', async () => {
    const logger = captureLogger();
    const config = await proxyConfig(upstreamUrl, { httpListen: null, maxConnections: 5, maxHandshakesPerAddress: 0, timeouts: TIMEOUTS });
    const proxy = await startProxy(config, logger);
    const port = Number(new URL(proxy.urls.https).port);
    const silent: SilentSocket[] = [];
    try {
      for (let i = 0; i < 5; i++) silent.push(await openSilent(port));
      // Every slot is held, long enough to look stalled: the client gets one by the oldest being closed.
      await new Promise((r) => setTimeout(r, EVICT_AFTER_MS + 100));
      const response = await tlsRequest({ port, ca, version: 'TLSv1.2' });
      expect(response.status).toBe(200);
      expect(response.body).toBe('from upstream');
      await Promise.all(silent.map((s) => s.closed));
    } finally {
      for (const s of silent) s.socket.destroy();
      await proxy.close(100);
    }
    const lines = logger.lines.filter((l) => l.message.includes('closed before finishing the TLS handshake'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', fields: { closed: 5, timeout: 4, evicted: 1, 'connection-limit': 0 } });
    expect(lines[0]!.message).toMatch(/^5 connections closed before finishing the TLS handshake in the last \d+ s: 4 timeout, 1 evicted$/);
  }, 20_000);

  it('refuses one address past --max-handshakes-per-address', async () => {
    const logger = captureLogger();
    const config = await proxyConfig(upstreamUrl, { httpListen: null, maxHandshakesPerAddress: 2, timeouts: TIMEOUTS });
    const proxy = await startProxy(config, logger);
    const port = Number(new URL(proxy.urls.https).port);
    const silent: SilentSocket[] = [];
    try {
      silent.push(await openSilent(port), await openSilent(port));
      const third = await openSilent(port);
      silent.push(third);
      await third.closed;
      expect(silent.slice(0, 2).some((s) => s.isClosed())).toBe(false);
    } finally {
      for (const s of silent) s.socket.destroy();
      await proxy.close(100);
    }
    expect(logger.lines.find((l) => l.message.includes('closed before finishing'))?.fields).toMatchObject({ 'connection-limit': 1 });
  });
});
