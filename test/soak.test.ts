import http from 'node:http';
import https from 'node:https';
import { LONG } from './helpers/long.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startProxy } from '../src/proxy/app.js';
import type { RunningProxy } from '../src/proxy/config.js';
import type { TlsProtocol } from '../src/types.js';
import { captureLogger, proxyConfig, REPORT_TOKEN } from './helpers/proxy.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';

/**
 * Soak: mixed traffic through the proxy at a steady rate. `npm test` runs 8 s;
 * `LTF_SOAK_SECONDS=60 npx vitest run test/soak.test.ts` runs the full minute.
 */
const SECONDS = Number(process.env.LTF_SOAK_SECONDS ?? (LONG ? 60 : 3));
const RATE_PER_SECOND = 120;

const CLIENTS: { name: string; version: TlsProtocol; ua: string; legacy: boolean }[] = [
  { name: 'modern', version: 'TLSv1.3', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', legacy: false },
  { name: 'legacy-tls', version: 'TLSv1', ua: 'Mozilla/5.0 (Windows NT 6.1; rv:24.0) Gecko/20100101 Firefox/24.0', legacy: true },
  { name: 'legacy-ua', version: 'TLSv1.2', ua: 'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)', legacy: true },
  { name: 'bot', version: 'TLSv1.2', ua: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', legacy: false },
];

describe(`soak: ${SECONDS} s of mixed traffic through the proxy`, () => {
  let upstream: http.Server;
  let wss: WebSocketServer;
  let proxy: RunningProxy;
  let port: number;
  let ca: string;

  beforeAll(async () => {
    ca = (await testCertificate()).cert;
    upstream = http.createServer((_req, res) => res.end('x'.repeat(1024)));
    wss = new WebSocketServer({ server: upstream });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    const config = await proxyConfig(`http://127.0.0.1:${await listenOn(upstream)}`, { httpListen: null });
    proxy = await startProxy(config, captureLogger());
    port = Number(new URL(proxy.urls.https).port);
  });
  afterAll(async () => {
    await proxy?.close(100);
    wss?.close();
    await closeServer(upstream);
  });

  it('serves every request, keeps memory flat, and counts exactly what was sent', async () => {
    const agents = new Map(
      CLIENTS.map((c) => [c.name, new https.Agent({ keepAlive: true, maxSockets: 4, ca, minVersion: c.version, maxVersion: c.version, ciphers: c.version === 'TLSv1' ? 'DEFAULT:@SECLEVEL=0' : undefined })]),
    );
    const sent = new Map<string, number>(CLIENTS.map((c) => [c.name, 0]));
    const errors: string[] = [];
    let wsRoundTrips = 0;
    const memory: number[] = [];
    const end = Date.now() + SECONDS * 1000;
    const inFlight = new Set<Promise<void>>();
    let tick = 0;
    while (Date.now() < end) {
      const client = CLIENTS[tick % CLIENTS.length]!;
      tick++;
      const request = get(port, agents.get(client.name)!, client.ua).then(
        (status) => {
          const expected = client.legacy ? 302 : 200;
          if (status !== expected) errors.push(`${client.name}: ${status}`);
          sent.set(client.name, (sent.get(client.name) ?? 0) + 1);
        },
        (error: Error) => void errors.push(`${client.name}: ${error.message}`),
      );
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
      if (tick % RATE_PER_SECOND === 0) {
        memory.push(process.memoryUsage().rss);
        await websocketRoundTrip(port, ca).then(() => void wsRoundTrips++, (error: Error) => void errors.push(`ws: ${error.message}`));
      }
      await new Promise((r) => setTimeout(r, 1000 / RATE_PER_SECOND));
    }
    await Promise.all(inFlight);
    for (const agent of agents.values()) agent.destroy();

    expect(errors).toEqual([]);
    // One round trip a second was attempted; on a loaded machine the loop runs slower, never zero.
    expect(wsRoundTrips).toBeGreaterThanOrEqual(Math.floor(SECONDS / 2));
    // After the first seconds (JIT, pools, caches), resident memory stays within a few MiB.
    const warm = memory.slice(Math.min(2, memory.length - 1));
    expect(Math.max(...warm) - Math.min(...warm)).toBeLessThan(48 * 1024 * 1024);

    const report = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, servername: 'localhost', path: '/_legacy-tls/report.json', ca, agent: false, headers: { authorization: `Bearer ${REPORT_TOKEN}` } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    const w = JSON.parse(report).windows['24h'];
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    // Every WebSocket handshake is a request too (passed on TLS 1.3).
    expect(w.requests.total).toBe(total + wsRoundTrips);
    expect(w.requests.byProtocol.TLSv1).toBe(sent.get('legacy-tls'));
    expect(w.requests.byAction.redirected).toBe(sent.get('legacy-tls')! + sent.get('legacy-ua')!);
    expect(w.requests.byKind.bot).toBe(sent.get('bot'));
  }, (SECONDS + 60) * 1000);
});

function get(port: number, agent: https.Agent, userAgent: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, servername: 'localhost', path: '/', agent, headers: { 'user-agent': userAgent } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

function websocketRoundTrip(port: number, ca: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`wss://localhost:${port}/ws`, { ca, headers: { 'user-agent': CLIENTS[0]!.ua } });
    socket.on('open', () => socket.send('ping'));
    socket.on('message', () => {
      socket.close();
      resolve();
    });
    socket.on('error', reject);
  });
}
