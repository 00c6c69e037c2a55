import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { startProxy } from '../src/proxy/app.js';
import type { RunningProxy } from '../src/proxy/config.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { eventually, LONG } from './helpers/long.js';
import { captureLogger, proxyConfig, REPORT_TOKEN } from './helpers/proxy.js';
import { tlsRequest } from './helpers/tls-client.js';

const MODERN = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IE8_XP = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An upstream that records what it received and answers according to the path. */
function upstreamServer(seen: Seen[]): http.Server {
  return http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/slow') return void setTimeout(() => res.end('slow'), 2_000);
      if (req.url === '/delayed') return void setTimeout(() => res.end('done'), 500);
      res.setHeader('x-upstream', 'yes');
      res.setHeader('connection', 'keep-alive, x-hop');
      res.setHeader('x-hop', 'must not pass');
      res.statusCode = req.url?.startsWith('/created') ? 201 : 200;
      res.end(JSON.stringify({ path: req.url, body }));
    });
  });
}

describe('standalone proxy', () => {
  const seen: Seen[] = [];
  let upstream: http.Server;
  let proxy: RunningProxy;
  let ca: string;
  let httpsPort: number;
  let httpPort: number;
  const logger = captureLogger();

  beforeAll(async () => {
    ca = (await testCertificate()).cert;
    upstream = upstreamServer(seen);
    const upstreamPort = await listenOn(upstream);
    const config = await proxyConfig(`http://127.0.0.1:${upstreamPort}`, { timeouts: { headers: 2000, request: 60_000, keepAlive: 5000, upstreamHeaders: 700, upstreamBody: 10_000, shutdownGrace: 5000 } });
    proxy = await startProxy(config, logger);
    httpsPort = Number(new URL(proxy.urls.https).port);
    httpPort = Number(new URL(proxy.urls.http!).port);
  });
  afterAll(async () => {
    await proxy?.close(100);
    await closeServer(upstream);
  });

  it('passes status, headers and body through, without hop-by-hop headers', async () => {
    const response = await tlsRequest({ port: httpsPort, ca, version: 'TLSv1.3', method: 'POST', path: '/created?x=1', body: 'hello upstream', headers: { 'user-agent': MODERN, 'content-type': 'text/plain' } });
    expect(response.status).toBe(201);
    expect(JSON.parse(response.body)).toEqual({ path: '/created?x=1', body: 'hello upstream' });
    expect(response.headers['x-upstream']).toBe('yes');
    expect(response.headers['x-hop']).toBeUndefined();
    const request = seen.at(-1)!;
    expect(request.headers.host).toBe(`127.0.0.1:${httpsPort}`);
    expect(request.headers['x-tls-protocol']).toBe('TLSv1.3');
    expect(request.headers['x-tls-cipher']).toBe('TLS_AES_256_GCM_SHA384');
    expect(request.headers['x-forwarded-proto']).toBe('https');
    expect(request.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(request.headers.forwarded).toBe(`for=127.0.0.1;host="127.0.0.1:${httpsPort}";proto=https`);
    expect(request.headers['x-legacy-client']).toBeUndefined();
  });

  it('removes spoofed TLS and forwarding headers sent by an untrusted client', async () => {
    await tlsRequest({
      port: httpsPort, ca, version: 'TLSv1.2', path: '/spoof',
      headers: { 'user-agent': MODERN, 'x-tls-protocol': 'TLSv1.3', 'x-tls-cipher': 'FAKE', 'x-legacy-client': '0', 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6', 'x-real-ip': '6.6.6.6', 'x-forwarded-host': 'evil.example' },
    });
    const request = seen.at(-1)!;
    expect(request.headers['x-tls-protocol']).toBe('TLSv1.2');
    expect(request.headers['x-tls-cipher']).not.toBe('FAKE');
    expect(request.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(request.headers['x-forwarded-host']).toBe(`127.0.0.1:${httpsPort}`);
    expect(request.headers['x-real-ip']).toBeUndefined();
    expect(JSON.stringify(request.headers)).not.toContain('6.6.6.6');
  });

  it('sends a TLS 1.0 client to the fallback page and never to the site', async () => {
    const before = seen.length;
    const response = await tlsRequest({ port: httpsPort, ca, version: 'TLSv1', path: '/account', headers: { 'user-agent': MODERN } });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/legacy-browser');
    const page = await tlsRequest({ port: httpsPort, ca, version: 'TLSv1', path: '/legacy-browser' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Proxy Test Ltd');
    expect(seen.length).toBe(before);
  });

  it('answers 502 with a small page when the upstream refuses, and 504 when it is too slow', async () => {
    const slow = await tlsRequest({ port: httpsPort, ca, version: 'TLSv1.3', path: '/slow' });
    expect(slow.status).toBe(504);
    expect(slow.body).toContain('took too long');
    expect(slow.body).not.toMatch(/127\.0\.0\.1|UND_ERR|ECONN/);

    const dead = net.createServer();
    const deadPort = await listenOn(dead);
    await closeServer(dead);
    const config = await proxyConfig(`http://127.0.0.1:${deadPort}`, { httpListen: null });
    const refused = await startProxy(config, captureLogger());
    try {
      const response = await tlsRequest({ port: Number(new URL(refused.urls.https).port), ca, version: 'TLSv1.3', path: '/' });
      expect(response.status).toBe(502);
      expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    } finally {
      await refused.close(100);
    }
  });

  it('forwards WebSocket upgrades', async () => {
    const wsUpstream = http.createServer();
    const wss = new WebSocketServer({ server: wsUpstream });
    wss.on('connection', (socket, req) => {
      socket.send(`tls=${req.headers['x-tls-protocol']}`);
      socket.on('message', (data) => socket.send(`echo:${data.toString()}`));
    });
    const port = await listenOn(wsUpstream);
    const running = await startProxy(await proxyConfig(`http://127.0.0.1:${port}`, { httpListen: null }), captureLogger());
    try {
      const client = new WebSocket(`wss://localhost:${new URL(running.urls.https).port}/socket`, { ca, headers: { 'user-agent': MODERN } });
      const messages: string[] = [];
      await new Promise<void>((resolve, reject) => {
        client.on('message', (data) => {
          messages.push(data.toString());
          if (messages.length === 1) client.send('ping');
          if (messages.length === 2) resolve();
        });
        client.on('error', reject);
      });
      expect(messages).toEqual(['tls=TLSv1.3', 'echo:ping']);
      client.close();
    } finally {
      wss.close();
      await running.close(100);
      await closeServer(wsUpstream);
    }
  });

  describe('plain-HTTP listener', () => {
    it('redirects to HTTPS', async () => {
      const response = await httpGet(httpPort, '/path?q=1', { host: `localhost:${httpPort}`, 'user-agent': MODERN });
      expect(response.status).toBe(301);
      expect(response.headers.location).toBe(`https://localhost:${httpsPort}/path?q=1`);
    });

    it('passes ACME http-01 challenges to the site', async () => {
      const response = await httpGet(httpPort, '/.well-known/acme-challenge/tok123', { host: 'example.com', 'user-agent': 'Let\'s Encrypt validation server' });
      expect(response.status).toBe(200);
      expect(seen.at(-1)!.url).toBe('/.well-known/acme-challenge/tok123');
      expect(seen.at(-1)!.headers['x-forwarded-proto']).toBe('http');
    });

    it('shows IE on Windows XP the fallback page instead of a redirect into a certain TLS error', async () => {
      const response = await httpGet(httpPort, '/', { host: 'example.com', 'user-agent': IE8_XP });
      expect(response.status).toBe(200);
      expect(response.body).toContain('too old to connect securely');
      expect(Buffer.byteLength(response.body)).toBeGreaterThan(512);
    });

    it('refuses a Host header that could inject a redirect', async () => {
      const response = await rawHttp(httpPort, 'GET / HTTP/1.1\r\nHost: evil.com/@x\r\n\r\n');
      expect(response).toMatch(/^HTTP\/1\.1 400/);
    });
  });

  it('answers /health without a token and guards the report', async () => {
    expect((await tlsRequest({ port: httpsPort, ca, version: 'TLSv1.3', path: '/_legacy-tls/health' })).status).toBe(200);
    expect((await tlsRequest({ port: httpsPort, ca, version: 'TLSv1.3', path: '/_legacy-tls/report.json' })).status).toBe(401);
    const report = await tlsRequest({ port: httpsPort, ca, version: 'TLSv1.3', path: '/_legacy-tls/report.json', headers: { authorization: `Bearer ${REPORT_TOKEN}` } });
    expect(report.status).toBe(200);
    const w = JSON.parse(report.body).windows['24h'];
    expect(w.requests.byAction.redirected).toBeGreaterThanOrEqual(1);
  });

  it('lets a request in flight finish on close, then stops', async () => {
    const seenHere: Seen[] = [];
    const up = upstreamServer(seenHere);
    const port = await listenOn(up);
    const running = await startProxy(await proxyConfig(`http://127.0.0.1:${port}`, { httpListen: null }), captureLogger());
    const proxyPort = Number(new URL(running.urls.https).port);
    const inFlight = tlsRequest({ port: proxyPort, ca, version: 'TLSv1.3', path: '/delayed' });
    // In flight once the upstream has it (a fixed sleep could end mid-handshake on a loaded machine).
    await eventually(() => expect(seenHere).toHaveLength(1), 10_000, 10);
    const closed = running.close(5_000);
    const response = await inFlight;
    await closed;
    expect(response.status).toBe(200);
    expect(response.body).toBe('done');
    await expect(tlsRequest({ port: proxyPort, ca, version: 'TLSv1.3', path: '/' })).rejects.toThrow(/ECONNREFUSED/);
    await closeServer(up);
  });
});

describe('streaming large bodies', () => {
  // Twice the memory bound below is enough to catch a proxy that buffers; 1 GiB with LONG_TESTS=1.
  const MiBs = LONG ? 1024 : 256;
  it(`moves ${MiBs} MiB up and ${MiBs} MiB down with flat memory`, async () => {
    const bytes = MiBs * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 97);
    const up = http.createServer((req, res) => {
      if (req.method === 'POST') {
        let received = 0;
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => res.end(String(received)));
        return;
      }
      res.writeHead(200, { 'content-length': bytes });
      Readable.from((function* () { for (let i = 0; i < MiBs; i++) yield chunk; })()).pipe(res);
    });
    const port = await listenOn(up);
    const running = await startProxy(await proxyConfig(`http://127.0.0.1:${port}`, { httpListen: null }), captureLogger());
    const proxyPort = Number(new URL(running.urls.https).port);
    const ca = (await testCertificate()).cert;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    try {
      const uploaded = await new Promise<string>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', servername: 'localhost', port: proxyPort, method: 'POST', path: '/upload', ca, agent: false, headers: { 'content-length': bytes } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        Readable.from((function* () { for (let i = 0; i < MiBs; i++) yield chunk; })()).pipe(req);
      });
      expect(Number(uploaded)).toBe(bytes);
      const downloaded = await new Promise<number>((resolve, reject) => {
        https.get({ host: '127.0.0.1', servername: 'localhost', port: proxyPort, path: '/download', ca, agent: false }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
        }).on('error', reject);
      });
      expect(downloaded).toBe(bytes);
      // Client, proxy and upstream share this process: all three together stay far below what was moved.
      expect(peak - baseline).toBeLessThan(128 * 1024 * 1024);
    } finally {
      clearInterval(sampler);
      await running.close(100);
      await closeServer(up);
    }
  }, 120_000);
});

function httpGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      out += c;
      socket.end();
    });
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
  });
}
