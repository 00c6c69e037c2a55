/**
 * Issue 10, items 1-3 and the report-token and forwarding-header items: a TLS 1.0 client (or a plain
 * HTTP one) must never reach the site's own pages through a path that the proxy reads as allowed and the
 * site reads otherwise. Guards against path traversal / normalisation mismatch between a filter and the
 * server behind it (CWE-22, CWE-706, CWE-436), trust in a client-supplied Host (CWE-290), and a secret
 * leaking to the upstream (CWE-200).
 *
 * The upstream here normalises paths the way lenient servers do (decodes every percent-encoding, several
 * times; backslashes as slashes; `;params` dropped; dot segments removed) and serves a private page at
 * `/admin`. Every attack is sent as raw bytes over a real TLS 1.0 (or plain TCP) connection.
 */
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { startProxy } from '../src/proxy/app.js';
import type { ProxyConfig, RunningProxy } from '../src/proxy/config.js';
import { createKoaExample } from '../examples/koa-app.js';
import { createExpressExample } from '../examples/express-app.js';
import { normalisePath, isWithin, normalisePrefix, touches } from '../src/http/request-path.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { captureLogger, proxyConfig, type ProxyOverrides, REPORT_TOKEN } from './helpers/proxy.js';
import { parseResponses, rawTcp, rawTls, type ParsedResponse, type RawExchange } from './helpers/hostile-raw.js';

const MODERN = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const PRIVATE = 'PRIVATE ADMIN PAGE';
const FAST_TIMEOUTS: Partial<ProxyConfig['timeouts']> = { headers: 3000, request: 10_000, keepAlive: 2000, upstreamHeaders: 1500, upstreamBody: 3000, shutdownGrace: 200 };

/** Paths that start with an allowed prefix and that a lenient server reads as `/admin`. */
const TRAVERSALS = [
  '/legacy-browser/../admin',
  '/legacy-browser/%2e%2e/admin',
  '/legacy-browser/%2E%2E/admin',
  '/legacy-browser/..%2fadmin',
  '/legacy-browser/%2e%2e%2fadmin',
  '/legacy-browser/%252e%252e%252fadmin',
  '/legacy-browser\\..\\admin',
  '/legacy-browser/..%5cadmin',
  '/legacy-browser/..;/admin',
  '/legacy-browser/x/..;/..;/admin',
  '/legacy-browser;x/../admin',
  '//legacy-browser/../admin',
  '/legacy-browser/./../admin',
  '/legacy-browser//../../admin',
  '/.well-known/acme-challenge/../../admin',
  '/.well-known/acme-challenge/..%2f..%2fadmin',
  '/.well-known/acme-challenge/%2e%2e/%2e%2e/admin',
  '/_legacy-tls/../admin',
  '/_legacy-tls/%2e%2e/admin',
  '/_legacy-tls/..;/admin',
];

/** How a lenient server reads a request target: written apart from the package's own normaliser. */
function asLenientServerReads(target: string): string {
  let p = target.split('?')[0] ?? '';
  for (let round = 0; round < 3; round++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      decoded = p.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
    if (decoded === p) break;
    p = decoded;
  }
  p = p.replace(/\\/g, '/').split('/').map((segment) => segment.split(';')[0]).join('/');
  return path.posix.normalize(p.startsWith('/') ? p : `/${p}`);
}

interface Seen {
  method: string;
  url: string;
  reads: string;
  headers: http.IncomingHttpHeaders;
  upgrade: boolean;
}

/** A site that serves a private page at `/admin` (however the path is spelt) and WebSockets at `/ws`. */
function normalisingUpstream(seen: Seen[]): http.Server {
  const server = http.createServer((req, res) => {
    const reads = asLenientServerReads(req.url ?? '/');
    seen.push({ method: req.method ?? '', url: req.url ?? '', reads, headers: req.headers, upgrade: false });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(reads === '/admin' ? PRIVATE : `site page ${reads}`);
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    const reads = asLenientServerReads(req.url ?? '/');
    seen.push({ method: req.method ?? '', url: req.url ?? '', reads, headers: req.headers, upgrade: true });
    if (reads === '/ws' || reads === '/admin') {
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n${reads === '/admin' ? PRIVATE : 'ws open'}`);
    } else {
      // This path does not upgrade: the site says so with an ordinary answer.
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nno websocket');
    }
  });
  return server;
}

function request(method: string, target: string, headers: [string, string][] = [], body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: localhost', ...headers.map(([n, v]) => `${n}: ${v}`)];
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`, 'Content-Type: application/x-www-form-urlencoded');
  if (!headers.some(([n]) => n.toLowerCase() === 'connection')) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const UPGRADE: [string, string][] = [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'websocket'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
];

function first(exchange: RawExchange): ParsedResponse {
  const [response] = parseResponses(exchange.bytes);
  expect(response, `no response: ${JSON.stringify(exchange.text.slice(0, 200))}`).toBeDefined();
  return response!;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

let ca: string;

async function site(): Promise<{ seen: Seen[]; url: string; server: http.Server }> {
  const seen: Seen[] = [];
  const server = normalisingUpstream(seen);
  const port = await listenOn(server);
  cleanups.push(() => closeServer(server));
  return { seen, url: `http://127.0.0.1:${port}`, server };
}

async function proxy(upstream: string, overrides: ProxyOverrides = {}): Promise<{ proxy: RunningProxy; https: number; http: number }> {
  const running = await startProxy(await proxyConfig(upstream, { timeouts: FAST_TIMEOUTS, ...overrides }), captureLogger());
  cleanups.push(() => running.close(50));
  return { proxy: running, https: Number(new URL(running.urls.https).port), http: Number(new URL(running.urls.http!).port) };
}

beforeAll(async () => {
  ca = (await testCertificate()).cert;
});

describe('normalisePath', () => {
  it.each([
    ['/', '/'],
    ['//a///b//', '/a/b/'],
    ['/a/./b/../c', '/a/c'],
    ['/a/..', '/'],
    ['/..', '/'],
    ['/%7euser/%41%2d%5F', '/~user/A-_'],
    ['/a%2fb', '/a%2Fb'],
    ['/caf\u00c3\u00a9', '/caf%C3%A9'],
    ['/legacy-browser\\..\\admin', '/admin'],
    ['/legacy-browser/%2e%2E/admin', '/admin'],
  ])('normalises %s to %s', (raw, expected) => {
    expect(normalisePath(raw)?.path).toBe(expected);
  });

  it.each(['', 'admin', '*', '/%', '/%zz', '/%4', '/%00', '/%0d%0a', '/a\u0000b', '/a b', `/${'a'.repeat(9000)}`])('refuses %j', (raw) => {
    expect(normalisePath(raw)).toBeNull();
  });

  it('reads every traversal as outside the prefix it starts with', () => {
    for (const target of TRAVERSALS) {
      const normalised = normalisePath(target);
      if (normalised === null) continue;
      for (const prefix of ['/legacy-browser', '/.well-known/acme-challenge', '/_legacy-tls']) {
        expect(isWithin(normalised, normalisePrefix(prefix)!), `${target} within ${prefix}`).toBe(false);
      }
      expect(asLenientServerReads(target)).toBe('/admin');
    }
  });

  it('keeps real assets within the prefix, and sees near-misses of an owned prefix in any case or encoding', () => {
    const prefix = normalisePrefix('/legacy-browser')!;
    for (const asset of ['/legacy-browser/logo.png', '/legacy-browser//css/site.css', '/legacy-browser/%7Ex.png', '/legacy-browser/x..y.png']) {
      expect(isWithin(normalisePath(asset)!, prefix), asset).toBe(true);
    }
    const report = normalisePrefix('/_legacy-tls')!;
    for (const nearMiss of ['//_legacy-tls/report.json', '/_legacy-tls/./report.json', '/_legacy-tls%2freport.json', '/_LEGACY-TLS/report.json', '/x/../_legacy-tls/metrics', '/_legacy-tls%252fmetrics']) {
      expect(touches(normalisePath(nearMiss)!, report), nearMiss).toBe(true);
    }
    expect(touches(normalisePath('/_legacy-tlsx')!, report)).toBe(false);
  });
});

describe('proxy: a TLS 1.0 client never reaches /admin through an allowed prefix (issue 10, item 1)', () => {
  let upstream: Awaited<ReturnType<typeof site>>;
  let ports: Awaited<ReturnType<typeof proxy>>;
  beforeAll(async () => {
    upstream = await site();
    ports = await proxy(upstream.url);
  });

  const reachedAdmin = () => upstream.seen.filter((s) => s.reads === '/admin');

  it.each(TRAVERSALS)('GET %s', async (target) => {
    const exchange = await rawTls(ports.https, ca, request('GET', target, [['User-Agent', MODERN]]), { version: 'TLSv1' });
    expect(exchange.text).not.toContain(PRIVATE);
    const response = first(exchange);
    expect([302, 400, 404]).toContain(response.status);
    expect(reachedAdmin()).toEqual([]);
  });

  it.each(TRAVERSALS)('POST %s', async (target) => {
    const exchange = await rawTls(ports.https, ca, request('POST', target, [['User-Agent', MODERN]], 'amount=100&to=attacker'), { version: 'TLSv1' });
    expect(exchange.text).not.toContain(PRIVATE);
    expect([400, 404, 426]).toContain(first(exchange).status);
    expect(reachedAdmin()).toEqual([]);
  });

  it.each(TRAVERSALS)('WebSocket upgrade %s', async (target) => {
    const exchange = await rawTls(ports.https, ca, request('GET', target, UPGRADE), { version: 'TLSv1' });
    expect(exchange.text).not.toContain(PRIVATE);
    expect([400, 404, 426]).toContain(first(exchange).status);
    expect(reachedAdmin()).toEqual([]);
  });

  it('still lets a legacy client GET the fallback page and its assets, forwarding the normalised path', async () => {
    const before = upstream.seen.length;
    const asset = first(await rawTls(ports.https, ca, request('GET', '/legacy-browser//css/./site.css', [['User-Agent', MODERN]]), { version: 'TLSv1' }));
    expect(asset.status).toBe(200);
    expect(upstream.seen.slice(before).map((s) => s.url)).toEqual(['/legacy-browser/css/site.css']);
    const page = first(await rawTls(ports.https, ca, request('GET', '/legacy-browser', [['User-Agent', MODERN]]), { version: 'TLSv1' }));
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('too old to connect securely');
  });

  it('refuses every other method under the allowed prefixes with 426, and every upgrade', async () => {
    for (const [method, target] of [['POST', '/legacy-browser/contact'], ['PUT', '/legacy-browser/logo.png'], ['DELETE', '/.well-known/acme-challenge/abc']] as const) {
      const response = first(await rawTls(ports.https, ca, request(method, target, [['User-Agent', MODERN]], 'x=1'), { version: 'TLSv1' }));
      expect(response.status, `${method} ${target}`).toBe(426);
    }
    const upgrade = first(await rawTls(ports.https, ca, request('GET', '/legacy-browser/ws', UPGRADE), { version: 'TLSv1' }));
    expect(upgrade.status).toBe(426);
    expect(upstream.seen.filter((s) => s.method !== 'GET' || s.upgrade)).toEqual([]);
  });

  it('answers 400 to a path that cannot be normalised, for every client, and forwards nothing', async () => {
    const before = upstream.seen.length;
    for (const version of ['TLSv1', 'TLSv1.3'] as const) {
      for (const target of ['/legacy-browser/%zz/../admin', '/legacy-browser/%00/../admin', '/a%0d%0aSet-Cookie:x']) {
        const response = first(await rawTls(ports.https, ca, request('GET', target, [['User-Agent', MODERN]]), { version }));
        expect(response.status, `${version} ${target}`).toBe(400);
      }
    }
    expect(upstream.seen.length).toBe(before);
  });

  it('forwards a modern client the normalised path, so the site and the proxy agree', async () => {
    const before = upstream.seen.length;
    const response = first(await rawTls(ports.https, ca, request('GET', '/shop//item/./42/../43?q=%2e', [['User-Agent', MODERN]])));
    expect(response.status).toBe(200);
    expect(upstream.seen.slice(before).map((s) => s.url)).toEqual(['/shop/item/43?q=%2e']);
  });
});

describe('the Koa and Express examples: a TLS 1.0 client never reaches the app through /legacy-browser/ (issue 10, item 1)', () => {
  it.each(['koa', 'express'] as const)('%s', async (framework) => {
    const { cert, key } = await testCertificate();
    const server = framework === 'koa' ? createKoaExample({ cert, key, logger: { warn: () => undefined } }).server : createExpressExample({ cert, key, logger: { warn: () => undefined } }).server;
    const port = await listenOn(server);
    cleanups.push(() => closeServer(server));
    for (const target of TRAVERSALS.filter((t) => !t.startsWith('/_legacy-tls'))) {
      const get = await rawTls(port, ca, request('GET', target.replace('admin', 'account'), [['User-Agent', MODERN]]), { version: 'TLSv1' });
      expect(get.text, target).not.toContain('Welcome to the site');
      expect([302, 400, 404]).toContain(first(get).status);
    }
    const post = await rawTls(port, ca, request('POST', '/legacy-browser/x', [['User-Agent', MODERN]], 'a=1'), { version: 'TLSv1' });
    expect(post.text).not.toContain('Welcome to the site');
    expect(first(post).status).toBe(426);
    const modern = first(await rawTls(port, ca, request('GET', '/', [['User-Agent', MODERN]])));
    expect(modern.body.toString()).toContain('Welcome to the site');
  });

  it('hands the app the normalised path of an asset it lets a legacy client fetch', async () => {
    const { cert, key } = await testCertificate();
    const { createLegacyTlsServer } = await import('../src/index.js');
    const { legacyTlsFallback } = await import('../src/express/index.js');
    const app = express();
    const paths: string[] = [];
    app.use(legacyTlsFallback());
    app.use((req, res) => {
      paths.push(req.path);
      res.send('asset');
    });
    const server = createLegacyTlsServer({ cert, key, logger: { warn: () => undefined } }, app);
    const port = await listenOn(server);
    cleanups.push(() => closeServer(server));
    expect(first(await rawTls(port, ca, request('GET', '/legacy-browser//img/../logo.png', [['User-Agent', MODERN]]), { version: 'TLSv1' })).status).toBe(200);
    expect(paths).toEqual(['/legacy-browser/logo.png']);
  });
});

describe('plain HTTP: only GET/HEAD of one ACME token reaches the site in clear text (issue 10, item 2)', () => {
  let upstream: Awaited<ReturnType<typeof site>>;
  let ports: Awaited<ReturnType<typeof proxy>>;
  beforeAll(async () => {
    upstream = await site();
    ports = await proxy(upstream.url);
  });

  it('forwards a real challenge token', async () => {
    const response = first(await rawTcp(ports.http, request('GET', '/.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0')));
    expect(response.status).toBe(200);
    expect(upstream.seen.at(-1)?.url).toBe('/.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0');
  });

  it.each([
    ['GET', '/.well-known/acme-challenge/../../admin'],
    ['GET', '/.well-known/acme-challenge/..%2f..%2fadmin'],
    ['GET', '/.well-known/acme-challenge/%2e%2e/%2e%2e/admin'],
    ['GET', '/.well-known/acme-challenge/tok/../../../admin'],
    ['GET', '/.well-known/acme-challenge/tok;x'],
    ['GET', '/.well-known/acme-challenge/'],
    ['POST', '/.well-known/acme-challenge/../../admin'],
    ['POST', '/.well-known/acme-challenge/token'],
    ['PUT', '/.well-known/acme-challenge/token'],
  ])('%s %s is redirected to HTTPS, never forwarded', async (method, target) => {
    const before = upstream.seen.length;
    const exchange = await rawTcp(ports.http, request(method, target, [['User-Agent', MODERN]], method === 'GET' ? '' : 'x=1'));
    expect(exchange.text).not.toContain(PRIVATE);
    expect([301, 308, 400]).toContain(first(exchange).status);
    expect(upstream.seen.length).toBe(before);
  });
});

describe('fallbackUrl is on this site by configuration, never by the Host header (issue 10, item 3)', () => {
  it('redirects a TLS 1.0 client sending Host: help.example.com on every path and method, with --change-origin', async () => {
    const upstream = await site();
    const ports = await proxy(upstream.url, { fallbackUrl: 'https://help.example.com/', changeOrigin: true });
    for (const target of ['/', '/admin', '/account/settings', '/help']) {
      const get = first(await rawTls(ports.https, ca, request('GET', target, [['Host', 'help.example.com'], ['User-Agent', MODERN]]).replace('Host: localhost\r\n', ''), { version: 'TLSv1' }));
      expect(get.status, target).toBe(302);
      expect(get.headers.get('location')).toEqual(['https://help.example.com/']);
      const post = first(await rawTls(ports.https, ca, request('POST', target, [['Host', 'help.example.com'], ['User-Agent', MODERN]], 'a=1').replace('Host: localhost\r\n', ''), { version: 'TLSv1' }));
      expect(post.status, target).toBe(426);
    }
    expect(upstream.seen).toEqual([]);
  });

  it('exempts the fallback URL path when the certificate names its host, and nothing else', async () => {
    const upstream = await site();
    // The test certificate is for localhost: a fallback URL there is on this site.
    const ports = await proxy(upstream.url, { fallbackUrl: 'https://localhost/old-browser' });
    expect(first(await rawTls(ports.https, ca, request('GET', '/old-browser/', [['User-Agent', MODERN]]), { version: 'TLSv1' })).status).toBe(200);
    expect(first(await rawTls(ports.https, ca, request('GET', '/old-browser/../admin', [['User-Agent', MODERN]]), { version: 'TLSv1' })).status).toBe(302);
    expect(upstream.seen.map((s) => s.url)).toEqual(['/old-browser/']);
  });

  it('refuses at start a fallback URL at the root of a host this proxy answers for', async () => {
    const config = await proxyConfig('http://127.0.0.1:9', { fallbackUrl: 'https://localhost/', timeouts: FAST_TIMEOUTS });
    await expect(startProxy(config, captureLogger())).rejects.toThrow(/root of localhost/);
  });
});

describe('the report prefix belongs to the proxy, and the report token never reaches the site (issue 10, low)', () => {
  let upstream: Awaited<ReturnType<typeof site>>;
  let ports: Awaited<ReturnType<typeof proxy>>;
  beforeAll(async () => {
    upstream = await site();
    ports = await proxy(upstream.url);
  });

  it.each([
    '//_legacy-tls/report.json',
    '/_legacy-tls/./report.json',
    '/_legacy-tls%2freport.json',
    '/_legacy-tls%2Freport.json',
    '/_LEGACY-TLS/report.json',
    '/_Legacy-Tls/metrics',
    '/x/../_legacy-tls/report.json',
    '/_legacy-tls/nothing-here',
  ])('answers %s itself and forwards nothing', async (target) => {
    const exchange = await rawTls(ports.https, ca, request('GET', target, [['User-Agent', MODERN], ['Authorization', `Bearer ${REPORT_TOKEN}`]]));
    expect([200, 404]).toContain(first(exchange).status);
    expect(upstream.seen).toEqual([]);
  });

  it('serves the report on the normalised spelling', async () => {
    const response = first(await rawTls(ports.https, ca, request('GET', '//_legacy-tls/./report.json', [['Authorization', `Bearer ${REPORT_TOKEN}`]])));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toMatchObject({ schema: 'legacy-tls-fallback/report' });
  });

  it('strips the report token from any request forwarded, Bearer or Basic, and keeps other credentials', async () => {
    const basic = `Basic ${Buffer.from(`anyone:${REPORT_TOKEN}`).toString('base64')}`;
    for (const authorization of [`Bearer ${REPORT_TOKEN}`, basic]) {
      expect(first(await rawTls(ports.https, ca, request('GET', '/account', [['User-Agent', MODERN], ['Authorization', authorization]]))).status).toBe(200);
      expect(upstream.seen.at(-1)?.headers.authorization).toBeUndefined();
    }
    expect(first(await rawTls(ports.https, ca, request('GET', '/account', [['User-Agent', MODERN], ['Authorization', 'Bearer the-sites-own-token']]))).status).toBe(200);
    expect(upstream.seen.at(-1)?.headers.authorization).toBe('Bearer the-sites-own-token');
  });
});

describe('headers that name the client to the site are stripped from untrusted clients (issue 10, low)', () => {
  it('strips every one, and their underscore spellings', async () => {
    const upstream = await site();
    const ports = await proxy(upstream.url);
    const forged: [string, string][] = [
      ['True-Client-IP', '10.0.0.1'],
      ['X-Client-IP', '10.0.0.1'],
      ['CF-Connecting-IP', '10.0.0.1'],
      ['X-Real-IP', '10.0.0.1'],
      ['X-Forwarded-Ssl', 'on'],
      ['X-Forwarded-Scheme', 'https'],
      ['X-Forwarded-Server', 'internal'],
      ['X-Forwarded-Prefix', '/admin'],
      ['X-Original-URL', '/admin'],
      ['X-Rewrite-URL', '/admin'],
      ['X_Forwarded_For', '10.0.0.1'],
      ['X_TLS_Protocol', 'TLSv1.3'],
      ['X_Legacy_Client', '0'],
    ];
    expect(first(await rawTls(ports.https, ca, request('GET', '/page', [['User-Agent', MODERN], ...forged]))).status).toBe(200);
    const received = upstream.seen.at(-1)!.headers;
    for (const [name] of forged) expect(received[name.toLowerCase()], name).toBeUndefined();
    // Ours, set from the connection itself.
    expect(received['x-tls-protocol']).toBe('TLSv1.3');
    expect(received['x-forwarded-for']).toBe('127.0.0.1');
  });
});

describe('OPTIONS * and upgrades the site declines are answered properly, not as upstream failures (issue 10, low)', () => {
  it('answers OPTIONS * itself, passes on the site\'s own refusal of an upgrade, and counts no upstream error', async () => {
    const upstream = await site();
    const ports = await proxy(upstream.url);
    const options = first(await rawTls(ports.https, ca, request('OPTIONS', '*', [['User-Agent', MODERN]])));
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')?.[0]).toMatch(/GET/);

    const declined = first(await rawTls(ports.https, ca, request('GET', '/no-socket-here', UPGRADE)));
    expect(declined.status).toBe(404);
    expect(declined.body.toString()).toBe('no websocket');

    const opened = await rawTls(ports.https, ca, request('GET', '/ws', UPGRADE));
    expect(opened.text).toMatch(/^HTTP\/1\.1 101 /);
    expect(opened.text).toContain('ws open');

    const metrics = first(await rawTls(ports.https, ca, request('GET', '/_legacy-tls/metrics', [['Authorization', `Bearer ${REPORT_TOKEN}`]])));
    expect(metrics.body.toString()).not.toMatch(/legacy_tls_upstream_errors_total\{/);
    expect(upstream.seen.filter((s) => s.url === '*')).toEqual([]);
  });

  it('still answers 502 and counts it when the site cannot be reached for an upgrade', async () => {
    const dead = http.createServer();
    const port = await listenOn(dead);
    await closeServer(dead);
    const ports = await proxy(`http://127.0.0.1:${port}`);
    const response = first(await rawTls(ports.https, ca, request('GET', '/ws', UPGRADE)));
    expect(response.status).toBe(502);
    const metrics = first(await rawTls(ports.https, ca, request('GET', '/_legacy-tls/metrics', [['Authorization', `Bearer ${REPORT_TOKEN}`]])));
    expect(metrics.body.toString()).toMatch(/legacy_tls_upstream_errors_total\{status="502"\} 1/);
  });
});


describe('an unreadable trusted header fails closed (issue 10, item 6)', () => {
  it('treats SSLv3, none, junk and disagreeing values from a trusted peer as legacy, logs once, and tells the site in observe mode', async () => {
    const upstream = await site();
    const logger = captureLogger();
    const running = await startProxy(
      await proxyConfig(upstream.url, { trustedHeader: 'x-tls-protocol', trustedProxies: ['loopback'], timeouts: FAST_TIMEOUTS }),
      logger,
    );
    cleanups.push(() => running.close(50));
    const port = Number(new URL(running.urls.https).port);
    for (const value of ['SSLv3', 'none', 'TLSv1.4', 'TLSv1.3, TLSv1', 'x'.repeat(200)]) {
      const response = first(await rawTls(port, ca, request('GET', '/account', [['User-Agent', MODERN], ['X-TLS-Protocol', value]])));
      expect(response.status, value).toBe(302);
    }
    expect(upstream.seen).toEqual([]);
    const warnings = logger.lines.filter((l) => l.level === 'warn' && /x-tls-protocol/.test(l.message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/fail closed/);

    const observing = await startProxy(
      await proxyConfig(upstream.url, { mode: 'observe', trustedHeader: 'x-tls-protocol', trustedProxies: ['loopback'], timeouts: FAST_TIMEOUTS }),
      captureLogger(),
    );
    cleanups.push(() => observing.close(50));
    expect(first(await rawTls(Number(new URL(observing.urls.https).port), ca, request('GET', '/account', [['User-Agent', MODERN], ['X-TLS-Protocol', 'SSLv3']]))).status).toBe(200);
    expect(upstream.seen.at(-1)?.headers['x-legacy-client']).toBe('1');
    expect(upstream.seen.at(-1)?.headers['x-tls-protocol']).toBeUndefined();
  });
});
