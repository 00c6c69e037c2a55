/**
 * Hostile clients and hostile upstreams against the standalone proxy, over real sockets, with raw bytes
 * so that malformed requests really reach the server's parser. Guards against:
 * - HTTP request smuggling / desynchronisation between client, proxy and upstream (CWE-444);
 * - HTTP header injection / response splitting through options or request data (CWE-113, CWE-93);
 * - open redirects through the fallback redirect or the HTTP→HTTPS redirect (CWE-601);
 * - cross-site scripting through echoed user agents (CWE-79);
 * - spoofed TLS facts and forwarding chains from untrusted peers (CWE-290, CWE-348);
 * - ReDoS on user agents (CWE-1333);
 * - resource exhaustion: slowloris, connection floods, handshake floods, socket leaks (CWE-400, CWE-770, CWE-772).
 */
import type http from 'node:http';
import net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy } from '../src/proxy/app.js';
import type { ProxyConfig, RunningProxy } from '../src/proxy/config.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { captureLogger, proxyConfig, type ProxyOverrides, REPORT_TOKEN } from './helpers/proxy.js';
import { handshake } from './helpers/tls-client.js';
import {
  openSocketCount,
  parseResponses,
  rawTcp,
  rawTls,
  recordingUpstream,
  sleep,
  tricklingWriter,
  type ParsedResponse,
  type RawExchange,
  type SeenRequest,
} from './helpers/hostile-raw.js';

const MODERN = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
/** Legacy by user agent alone (IE < 11), whatever TLS version it arrives with. */
const IE8_WIN7 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)';
const IE8_XP = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';
const XSS = '<script>alert("ua")</script>"><img src=x onerror=alert(1)>';
/** Node's default `--max-http-header-size`. */
const MAX_HEADER_SIZE = 16 * 1024;

const FAST_TIMEOUTS: Partial<ProxyConfig['timeouts']> = { headers: 3000, request: 10_000, keepAlive: 2000, upstreamHeaders: 1500, upstreamBody: 3000, shutdownGrace: 200 };

type HeaderList = [string, string][];

/** Raw HTTP/1.1 request text; `Host: localhost` and `Connection: close` unless given. */
function httpText(method: string, target: string, headers: HeaderList = [], body = ''): string {
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  const lines = [`${method} ${target} HTTP/1.1`];
  if (!names.has('host')) lines.push('Host: localhost');
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (!names.has('connection')) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

function only(exchange: RawExchange, methods?: string[]): ParsedResponse {
  const responses = parseResponses(exchange.bytes, methods);
  expect(responses, `one response expected, got: ${JSON.stringify(exchange.text.slice(0, 300))}`).toHaveLength(1);
  return responses[0]!;
}

function header(response: ParsedResponse, name: string): string | undefined {
  return response.headers.get(name)?.join(', ');
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function upstreamFor(seen: SeenRequest[]): Promise<{ server: http.Server; port: number }> {
  const server = recordingUpstream(seen);
  const port = await listenOn(server);
  cleanups.push(() => closeServer(server));
  return { server, port };
}

async function proxyFor(upstream: string, overrides: ProxyOverrides = {}): Promise<{ proxy: RunningProxy; httpsPort: number; httpPort: number | null }> {
  const proxy = await startProxy(await proxyConfig(upstream, { timeouts: FAST_TIMEOUTS, ...overrides }), captureLogger());
  cleanups.push(() => proxy.close(50));
  return { proxy, httpsPort: Number(new URL(proxy.urls.https).port), httpPort: proxy.urls.http ? Number(new URL(proxy.urls.http).port) : null };
}

let ca: string;
const seen: SeenRequest[] = [];
let httpsPort: number;
let httpPort: number;

beforeAll(async () => {
  ca = (await testCertificate()).cert;
  const { port } = await upstreamFor(seen);
  const started = await proxyFor(`http://127.0.0.1:${port}`);
  httpsPort = started.httpsPort;
  httpPort = started.httpPort!;
});

/** A plain request on a new connection still gets through to the site. */
async function expectStillServing(port = httpsPort): Promise<void> {
  const response = only(await rawTls(port, ca, httpText('GET', '/still-ok', [['User-Agent', MODERN]])));
  expect(response.status).toBe(200);
  expect(JSON.parse(response.body.toString())).toMatchObject({ ok: true, path: '/still-ok' });
}

function expectNoEcho(exchange: RawExchange, ...needles: string[]): void {
  for (const needle of [...needles, '<script>', 'onerror=']) expect(exchange.text).not.toContain(needle);
}

// -------------------------------------------------------------------------------------------------
describe('1. hostile user agents', () => {
  it('serves a user agent just under the header-size limit normally and classifies it', async () => {
    const fill = (ua: string, path: string) => {
      const bare = httpText('GET', path, [['User-Agent', ua]]);
      return `${ua} ${'a'.repeat(MAX_HEADER_SIZE - 128 - bare.length)}`;
    };
    const modern = fill(MODERN, '/ua-big');
    const started = Date.now();
    const passed = await rawTls(httpsPort, ca, httpText('GET', '/ua-big', [['User-Agent', modern]]));
    const response = only(passed);
    expect(response.status).toBe(200);
    const request = seen.find((r) => r.url === '/ua-big');
    expect(request?.headers['user-agent']).toBe(modern);
    expect(request?.headers['x-tls-protocol']).toBe('TLSv1.3');

    // The same size, but an old IE: classified as legacy by its user agent, sent to the fallback page.
    const legacy = only(await rawTls(httpsPort, ca, httpText('GET', '/ua-big-legacy', [['User-Agent', fill(IE8_WIN7, '/ua-big-legacy')]])));
    expect(legacy.status).toBe(302);
    expect(header(legacy, 'location')).toBe('/legacy-browser');
    expect(seen.some((r) => r.url === '/ua-big-legacy')).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('answers 431 for a user agent just over the limit, and keeps serving', async () => {
    const exchange = await rawTls(httpsPort, ca, httpText('GET', '/ua-too-big', [['User-Agent', `${MODERN} ${'a'.repeat(MAX_HEADER_SIZE)}`]]));
    expect(exchange.closed).toBe(true);
    expect(only(exchange).status).toBe(431);
    expect(seen.some((r) => r.url === '/ua-too-big')).toBe(false);
    await expectStillServing();
  });

  it('refuses control characters in the user agent with a clean 400, never a hang', async () => {
    for (const c of ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x7f', '\r', '\x1f']) {
      const code = `0x${c.charCodeAt(0).toString(16)}`;
      const path = `/ua-ctl-${c.charCodeAt(0)}`;
      const exchange = await rawTls(httpsPort, ca, httpText('GET', path, [['User-Agent', `Mozilla/5.0 A${c}B ${XSS}`]]), { maxMs: 3_000 });
      expect(exchange.closed, `${code} left the connection hanging`).toBe(true);
      expect(exchange.ms, code).toBeLessThan(1_000);
      expect(only(exchange).status, code).toBe(400);
      expect(seen.some((r) => r.url === path)).toBe(false);
      expectNoEcho(exchange);
    }
    await expectStillServing();
  });

  it('passes invalid UTF-8 bytes in the user agent through unchanged', async () => {
    const bytes = Buffer.from([0xc3, 0x28, 0xff]);
    const raw = (path: string, ua: string) => Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${ua}`, 'latin1'), bytes, Buffer.from('\r\nConnection: close\r\n\r\n')]);
    const response = only(await rawTls(httpsPort, ca, raw('/ua-bytes', 'Mozilla/5.0 ')));
    expect(response.status).toBe(200);
    const request = seen.find((r) => r.url === '/ua-bytes');
    expect(Buffer.from(request?.headers['user-agent'] ?? '', 'latin1').subarray(-3)).toEqual(bytes);

    const legacy = only(await rawTls(httpsPort, ca, raw('/ua-bytes-legacy', 'Mozilla/5.0 '), { version: 'TLSv1' }));
    expect(legacy.status).toBe(302);
    expect(header(legacy, 'location')).toBe('/legacy-browser');
  });

  it('never echoes markup from the user agent, in any answer or in the report', async () => {
    const exchanges: RawExchange[] = [];
    // Modern browser: reaches the site.
    exchanges.push(await rawTls(httpsPort, ca, httpText('GET', '/ua-xss', [['User-Agent', `${MODERN} ${XSS}`]])));
    expect(only(exchanges[0]!).status).toBe(200);
    expect(seen.some((r) => r.url === '/ua-xss')).toBe(true);
    // Old IE over TLS 1.3, and anything over TLS 1.0: redirected, then shown the page.
    exchanges.push(await rawTls(httpsPort, ca, httpText('GET', '/ua-xss-legacy', [['User-Agent', `${IE8_WIN7} ${XSS}`]])));
    expect(only(exchanges[1]!).status).toBe(302);
    exchanges.push(await rawTls(httpsPort, ca, httpText('GET', '/', [['User-Agent', XSS]]), { version: 'TLSv1' }));
    expect(only(exchanges[2]!).status).toBe(302);
    exchanges.push(await rawTls(httpsPort, ca, httpText('GET', '/legacy-browser', [['User-Agent', `${IE8_WIN7} ${XSS}`]]), { version: 'TLSv1' }));
    expect(only(exchanges[3]!).status).toBe(200);
    // A POST from a legacy client: 426 with the page.
    exchanges.push(await rawTls(httpsPort, ca, httpText('POST', '/form', [['User-Agent', XSS], ['Content-Length', '3']], 'a=1'), { version: 'TLSv1' }));
    expect(only(exchanges[4]!).status).toBe(426);
    exchanges.push(await rawTls(httpsPort, ca, httpText('POST', '/form', [['User-Agent', XSS], ['Content-Length', '3'], ['Accept', 'application/json']], 'a=1'), { version: 'TLSv1' }));
    expect(only(exchanges[5]!).status).toBe(426);
    // IE on XP over plain HTTP: the page in clear text.
    exchanges.push(await rawTcp(httpPort, httpText('GET', '/', [['User-Agent', `${IE8_XP} ${XSS}`]])));
    expect(only(exchanges[6]!).status).toBe(200);
    // The dashboard and JSON report, which show what was classified.
    const auth: HeaderList = [['Authorization', `Bearer ${REPORT_TOKEN}`]];
    exchanges.push(await rawTls(httpsPort, ca, httpText('GET', '/_legacy-tls/', auth)));
    expect(only(exchanges[7]!).status).toBe(200);
    exchanges.push(await rawTls(httpsPort, ca, httpText('GET', '/_legacy-tls/report.json', auth)));
    expect(only(exchanges[8]!).status).toBe(200);
    exchanges.push(await rawTls(httpsPort, ca, httpText('GET', '/_legacy-tls/metrics', auth)));
    expect(only(exchanges[9]!).status).toBe(200);
    for (const exchange of exchanges) expectNoEcho(exchange, 'alert(', '<img');
  });

  it('classifies adversarial user agents in linear time (ReDoS)', async () => {
    const hostile = [
      `Mozilla/5.0 (${';'.repeat(8000)})`,
      '('.repeat(8000),
      `Mozilla/5.0 (Windows NT 10.0${' '.repeat(8000)}) AppleWebKit/537.36`,
      `${'Mozilla/5.0 '.repeat(1000)}`,
      `Opera/9.80 ${'Version/'.repeat(1000)}`,
      `${'\t '.repeat(4000)}MSIE 6.0`,
      `Mozilla/5.0 (Linux; Android 4.${'4'.repeat(8000)})`,
    ];
    const started = Date.now();
    for (const [i, ua] of hostile.entries()) {
      const response = only(await rawTls(httpsPort, ca, httpText('GET', `/redos-${i}`, [['User-Agent', ua]])));
      expect([200, 302]).toContain(response.status);
    }
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

// -------------------------------------------------------------------------------------------------
describe('2. header injection through options', () => {
  it('refuses a fallbackUrl with CR, LF, tab or a space in the host at start-up', async () => {
    for (const fallbackUrl of [
      'https://help.example/\r\nSet-Cookie: a=b',
      'https://help.example/\nLocation: https://evil.example/',
      'https://help.example/\rx',
      'https://help.example/\tx',
      'https://help example/',
      ' https://help.example/\u0000',
    ]) {
      const config = await proxyConfig('http://127.0.0.1:9', { fallbackUrl, timeouts: FAST_TIMEOUTS });
      await expect(startProxy(config, captureLogger()), JSON.stringify(fallbackUrl)).rejects.toThrow(/fallbackUrl/);
    }
  });

  // A space in the path is not refused: the URL parser percent-encodes it, so it can never split a header.
  it('refuses a spaced fallbackUrl path, or at least never sends a raw space in Location', async () => {
    const config = await proxyConfig('http://127.0.0.1:9', { fallbackUrl: 'https://help.example/old browser', httpListen: null, timeouts: FAST_TIMEOUTS });
    let running: RunningProxy | undefined;
    try {
      running = await startProxy(config, captureLogger());
    } catch (error) {
      expect((error as Error).message).toMatch(/fallbackUrl/);
      return;
    }
    cleanups.push(() => running.close(50));
    const response = only(await rawTls(Number(new URL(running.urls.https).port), ca, httpText('GET', '/'), { version: 'TLSv1' }));
    expect(response.status).toBe(302);
    expect(header(response, 'location')).toBe('https://help.example/old%20browser');
  });

  it('keeps CR/LF in page fields inside the HTML (as <br>), never in a header', async () => {
    const { port } = await upstreamFor([]);
    const page = {
      organisation: 'Org\r\nX-Injected-Org: 1',
      address: 'Street 1\r\nSet-Cookie: injected=1',
      hours: 'Mon-Fri\nX-Injected-Hours: 1',
      message: 'Hello\r\n<script>alert(1)</script>',
    };
    const { httpsPort: port2, httpPort: plain } = await proxyFor(`http://127.0.0.1:${port}`, { page });
    const exchanges = [
      await rawTls(port2, ca, httpText('GET', '/legacy-browser', [['User-Agent', MODERN]])),
      await rawTls(port2, ca, httpText('GET', '/', [['User-Agent', MODERN]]), { version: 'TLSv1' }),
      await rawTls(port2, ca, httpText('POST', '/form', [['User-Agent', MODERN], ['Content-Length', '0']]), { version: 'TLSv1' }),
      await rawTcp(plain!, httpText('GET', '/', [['User-Agent', IE8_XP]])),
    ];
    const [preview, redirect, refused, xp] = exchanges.map((e) => only(e));
    expect(preview!.status).toBe(200);
    expect(redirect!.status).toBe(302);
    expect(header(redirect!, 'location')).toBe('/legacy-browser');
    expect(refused!.status).toBe(426);
    expect(xp!.status).toBe(200);
    for (const response of [preview!, redirect!, refused!, xp!]) {
      expect(response.headers.has('set-cookie')).toBe(false);
      expect(response.headers.has('x-injected-org')).toBe(false);
      expect(response.headers.has('x-injected-hours')).toBe(false);
      expect(response.head).not.toMatch(/injected/i);
    }
    for (const response of [preview!, refused!, xp!]) {
      const html = response.body.toString('utf8');
      expect(html).toContain('Street 1<br>\nSet-Cookie: injected=1');
      expect(html).toContain('Mon-Fri<br>\nX-Injected-Hours: 1');
      expect(html).toContain('Hello<br>\n&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.toContain('<script>');
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('3. open redirects', () => {
  it.each([
    '//evil.example/x',
    '/\\evil.example',
    '/\\/evil.example/',
    '/%2F%2Fevil.example',
    '/%5C%5Cevil.example',
    '///evil.example/x',
    '/.//evil.example',
    '/x?next=//evil.example',
    '/%0d%0aLocation:%20https://evil.example/',
    'http://evil.example/x',
    'https://evil.example//legacy-browser',
  ])('a TLS 1.0 client asking for %s is sent to /legacy-browser only', async (target) => {
    const before = seen.length;
    const exchange = await rawTls(httpsPort, ca, httpText('GET', target, [['User-Agent', MODERN]]), { version: 'TLSv1' });
    const response = only(exchange);
    // Node may refuse a target outright; anything else must be the fixed redirect, or the page itself
    // (`//legacy-browser` normalises to it).
    if (response.status === 200) expect(response.body.toString()).toContain('too old to connect securely');
    else if (response.status !== 400) {
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toEqual(['/legacy-browser']);
    }
    expect(exchange.text).not.toMatch(/evil\.example/);
    expect(seen.length).toBe(before);
  });

  it('redirects plain HTTP to HTTPS on the Host asked for', async () => {
    const response = only(await rawTcp(httpPort, httpText('GET', '/x?y=1', [['Host', 'evil.example']])));
    expect(response.status).toBe(301);
    expect(header(response, 'location')).toBe(`https://evil.example:${httpsPort}/x?y=1`);
  });

  it.each([
    ['@', 'good.example@evil.example'],
    ['/', 'evil.example/x'],
    ['\\', 'evil.example\\x'],
    ['space', 'evil.example x'],
    ['tab', 'evil.example\tx'],
    ['bare CR', 'evil.example\rLocation: https://evil.example/'],
    ['empty', ''],
    ['userinfo', 'user:pass@evil.example'],
    ['quote', 'evil.example"'],
    ['percent', 'evil%2eexample'],
  ])('answers 400 to a Host with %s in it', async (_label, host) => {
    const exchange = await rawTcp(httpPort, httpText('GET', '/x', [['Host', host]]), { maxMs: 3_000 });
    expect(exchange.closed).toBe(true);
    const response = only(exchange);
    expect(response.status).toBe(400);
    expect(response.headers.has('location')).toBe(false);
  });

  it('answers 400 to a bare LF in Host', async () => {
    const exchange = await rawTcp(httpPort, 'GET /x HTTP/1.1\r\nHost: evil.example\nLocation: https://attacker.example/\r\nConnection: close\r\n\r\n', { maxMs: 3_000 });
    expect(only(exchange).status).toBe(400);
    expect(exchange.text).not.toContain('attacker.example');
  });

  it('answers 400 without a Host at all', async () => {
    const response = only(await rawTcp(httpPort, 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(response.status).toBe(400);
  });

  it('never builds the HTTPS redirect from an absolute-form request target', async () => {
    for (const [target, path] of [['http://evil.example/x?q=1', '/x?q=1'], ['https://evil.example@localhost/x', '/x'], ['http://evil.example', '/'], ['*', '/']] as const) {
      const exchange = await rawTcp(httpPort, httpText(target === '*' ? 'OPTIONS' : 'GET', target, [['Host', 'localhost']]));
      const response = only(exchange);
      if (response.status === 400) continue;
      expect([301, 308]).toContain(response.status);
      expect(header(response, 'location')).toBe(`https://localhost:${httpsPort}${path}`);
    }
  });

  it('forwards an absolute-form request target to the site in origin form, so both agree on the host', async () => {
    for (const [target, path] of [['http://evil.example/abs?q=1', '/abs?q=1'], ['https://evil.example@localhost/abs2', '/abs2']] as const) {
      const response = only(await rawTls(httpsPort, ca, httpText('GET', target, [['User-Agent', MODERN]])));
      expect(response.status).toBe(200);
      const request = seen.at(-1)!;
      expect(request.url).toBe(path);
      expect(request.headers.host).toBe('localhost');
      expect(request.rawHeaders.join('\n')).not.toContain('evil.example');
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('4. spoofed TLS and forwarding headers', () => {
  const spoofs: HeaderList = [
    ['X-TLS-Protocol', 'TLSv1'],
    ['X-TLS-Cipher', 'FAKE-CIPHER'],
    ['X-Legacy-Client', '0'],
    ['X-Forwarded-For', '6.6.6.6'],
    ['X-Forwarded-Proto', 'http'],
    ['X-Forwarded-Host', 'evil.example'],
    ['X-Forwarded-Port', '6666'],
    ['X-Real-IP', '6.6.6.6'],
    ['Forwarded', 'for=6.6.6.6;host=evil.example;proto=http'],
    ['CloudFront-Viewer-TLS', 'TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake'],
    ['X-Amzn-TLS-Version', 'TLSv1.3'],
  ];

  it('replaces or removes every one of them before the upstream sees the request', async () => {
    const response = only(await rawTls(httpsPort, ca, httpText('GET', '/spoofed', [['User-Agent', MODERN], ...spoofs]), { version: 'TLSv1.2' }));
    expect(response.status).toBe(200);
    const request = seen.find((r) => r.url === '/spoofed')!;
    expect(request.headers['x-tls-protocol']).toBe('TLSv1.2');
    expect(request.headers['x-tls-cipher']).not.toBe('FAKE-CIPHER');
    expect(request.headers['x-legacy-client']).toBeUndefined();
    expect(request.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(request.headers['x-forwarded-proto']).toBe('https');
    expect(request.headers['x-forwarded-host']).toBe('localhost');
    expect(request.headers['x-forwarded-port']).toBeUndefined();
    expect(request.headers['x-real-ip']).toBeUndefined();
    expect(request.headers.forwarded).toBe('for=127.0.0.1;host=localhost;proto=https');
    expect(request.headers['cloudfront-viewer-tls']).toBeUndefined();
    expect(request.headers['x-amzn-tls-version']).toBeUndefined();
    const all = request.rawHeaders.join('\n');
    expect(all).not.toMatch(/6\.6\.6\.6|evil\.example|FAKE-CIPHER|6666/);
    // Exactly one of each header the proxy sets.
    for (const name of ['x-tls-protocol', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'host']) {
      expect(request.rawHeaders.filter((_, i) => i % 2 === 0 && request.rawHeaders[i]!.toLowerCase() === name), name).toHaveLength(1);
    }
  });

  it('removes spoofed headers on the plain-HTTP path to the site too (ACME)', async () => {
    const response = only(await rawTcp(httpPort, httpText('GET', '/.well-known/acme-challenge/spoof', [['Host', 'localhost'], ...spoofs])));
    expect(response.status).toBe(200);
    const request = seen.find((r) => r.url === '/.well-known/acme-challenge/spoof')!;
    expect(request.headers['x-tls-protocol']).toBeUndefined();
    expect(request.headers['x-forwarded-proto']).toBe('http');
    expect(request.headers['cloudfront-viewer-tls']).toBeUndefined();
    expect(request.rawHeaders.join('\n')).not.toMatch(/6\.6\.6\.6|evil\.example|FAKE-CIPHER/);
  });

  it('sends one Host upstream when a client sends two', async () => {
    const exchange = await rawTls(httpsPort, ca, 'GET /two-hosts HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    const response = only(exchange);
    if (response.status === 400) return;
    const request = seen.find((r) => r.url === '/two-hosts')!;
    expect(request.rawHeaders.filter((_, i) => i % 2 === 0 && request.rawHeaders[i]!.toLowerCase() === 'host')).toHaveLength(1);
    expect(request.headers.host).toBe('localhost');
    expect(request.rawHeaders.join('\n')).not.toContain('evil.example');
  });

  it('still sends a TLS 1.0 client claiming TLS 1.3 to the fallback page', async () => {
    const before = seen.length;
    for (const [name, value] of [['X-TLS-Protocol', 'TLSv1.3'], ['CloudFront-Viewer-TLS', 'TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake'], ['X-Legacy-Client', '0']] as const) {
      const response = only(await rawTls(httpsPort, ca, httpText('GET', '/account', [['User-Agent', MODERN], [name, value]]), { version: 'TLSv1' }));
      expect(response.status).toBe(302);
      expect(header(response, 'location')).toBe('/legacy-browser');
    }
    expect(seen.length).toBe(before);
  });

  it('with a trusted header, duplicated disagreeing lines are legacy (fail closed), never forwarded, and no crash', async () => {
    const here: SeenRequest[] = [];
    const { port } = await upstreamFor(here);
    const { httpsPort: trusting } = await proxyFor(`http://127.0.0.1:${port}`, { trustedHeader: 'x-tls-protocol', trustedProxies: ['loopback'], httpListen: null });
    // Believed from loopback: a single TLSv1 line makes the request legacy.
    const single = only(await rawTls(trusting, ca, httpText('GET', '/single', [['User-Agent', MODERN], ['X-TLS-Protocol', 'TLSv1']])));
    expect(single.status).toBe(302);

    for (const lines of [
      ['TLSv1', 'TLSv1.3'],
      ['TLSv1.3', 'TLSv1'],
      ['TLSv1', 'TLSv1, TLSv1.2'],
      ['TLSv1', 'TLSv1', 'TLSv1', 'TLSv1', 'TLSv1'],
      ['TLSv1\u0000', ''],
    ]) {
      const headers: HeaderList = [['User-Agent', MODERN], ...lines.map((v): [string, string] => ['X-TLS-Protocol', v])];
      const exchange = await rawTls(trusting, ca, httpText('GET', '/dup', headers));
      const response = only(exchange);
      if (lines.some((l) => l.includes('\u0000'))) {
        expect(response.status).toBe(400);
        continue;
      }
      // Disagreeing values, or five agreeing copies (more than any proxy chain adds): unreadable, so
      // legacy. A front proxy that appends instead of setting must not let any client past.
      expect(response.status, JSON.stringify(lines)).toBe(302);
      expect(here.some((r) => r.url === '/dup')).toBe(false);
    }
    await expectStillServing(trusting);
  });
});

// -------------------------------------------------------------------------------------------------
describe('5. request smuggling', () => {
  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n';
  const attempts: [string, string][] = [
    ['Content-Length with Transfer-Encoding: chunked', `POST /cl-te HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
    ['Transfer-Encoding: chunked with Content-Length (TE.CL)', `POST /te-cl HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${smuggled}\r\n0\r\n\r\n`],
    ['obs-fold', `GET /fold HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n${smuggled}`],
    ['obs-fold of Transfer-Encoding', `POST /fold-te HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${smuggled}`],
    ['two different Content-Length', `POST /two-cl HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 44\r\n\r\nhello${smuggled}`],
    ['Content-Length list', `POST /cl-list HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5, 44\r\n\r\nhello${smuggled}`],
    ['Transfer-Encoding: chunked, identity', `POST /te-identity HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`],
    ['Transfer-Encoding: xchunked', `POST /xchunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${smuggled}`],
    ['Transfer-Encoding with a space before the colon', `POST /te-space HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${smuggled}`],
    ['bad chunk size', `POST /bad-chunk HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${smuggled}\r\n0\r\n\r\n`],
    ['chunk size overflow', `POST /chunk-overflow HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\n${smuggled}\r\n0\r\n\r\n`],
    ['negative Content-Length', `POST /negative HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n${smuggled}`],
    ['bare LF line endings', `POST /lf HTTP/1.1\nHost: localhost\nContent-Length: 5\nTransfer-Encoding: chunked\n\n0\n\n${smuggled}`],
  ];

  it.each(attempts)('%s: refused or passed as one request, never desynchronised', async (_label, text) => {
    const before = seen.length;
    const exchange = await rawTls(httpsPort, ca, text, { maxMs: 3_000 });
    expect(exchange.closed).toBe(true);
    const responses = parseResponses(exchange.bytes);
    expect(responses.length).toBeGreaterThanOrEqual(1);
    expect(responses.length, exchange.text.slice(0, 400)).toBeLessThanOrEqual(1);
    const arrived = seen.slice(before);
    expect(arrived.map((r) => r.url)).not.toContain('/smuggled');
    expect(arrived.length).toBeLessThanOrEqual(1);
    expect(seen.some((r) => r.url === '/smuggled')).toBe(false);
    if (responses[0]!.status !== 400) expect(arrived.length).toBe(1);
    else expect(arrived.every((r) => !r.complete || r.body === '')).toBe(true);
    await expectStillServing();
  });

  it.each([
    ['CL.TE', 'POST /cl-te HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['obs-fold', 'GET /fold HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n'],
    ['two Content-Length', 'POST /two-cl HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
    ['chunked, identity', 'POST /te-identity HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
    ['xchunked', 'POST /xchunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
    ['bad chunk size', 'POST /bad-chunk HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n'],
  ])('%s is answered 400 by the parser', async (_label, text) => {
    const exchange = await rawTls(httpsPort, ca, text, { maxMs: 3_000 });
    expect(exchange.closed).toBe(true);
    expect(only(exchange).status).toBe(400);
  });

  it('forwards a body that looks like a request as a body, with its framing', async () => {
    const body = `${smuggled}`;
    const first = `POST /carrier HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const chunked = `POST /carrier-chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const last = 'GET /after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
    const exchange = await rawTls(httpsPort, ca, first + chunked + last);
    const responses = parseResponses(exchange.bytes, ['POST', 'POST', 'GET']);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(responses.map((r) => (JSON.parse(r.body.toString()) as { path: string }).path)).toEqual(['/carrier', '/carrier-chunked', '/after']);
    expect(seen.find((r) => r.url === '/carrier')?.body).toBe(body);
    expect(seen.find((r) => r.url === '/carrier-chunked')?.body).toBe(body);
    expect(seen.some((r) => r.url === '/smuggled')).toBe(false);
  });
});

// -------------------------------------------------------------------------------------------------
describe('6. slowloris and connection limits', () => {
  let slowPort: number;
  const slowSeen: SeenRequest[] = [];

  beforeAll(async () => {
    const { port } = await upstreamFor(slowSeen);
    ({ httpsPort: slowPort } = await proxyFor(`http://127.0.0.1:${port}`, {
      httpListen: null,
      timeouts: { headers: 1000, request: 1500, keepAlive: 1000, upstreamHeaders: 5000, upstreamBody: 5000, shutdownGrace: 100 },
    }));
  });

  it('cuts a client that sends its headers one byte every 200 ms', async () => {
    const writer = tricklingWriter(`${'x'.repeat(100)}\r\n\r\n`, 200, 'GET /slow-headers HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const exchange = await rawTls(slowPort, ca, writer, { maxMs: 5_000 });
    expect(exchange.closed, 'the slow client was never cut').toBe(true);
    expect(exchange.ms).toBeLessThan(3_500);
    if (exchange.bytes.length > 0) expect(only(exchange).status).toBe(408);
    expect(slowSeen.some((r) => r.url === '/slow-headers')).toBe(false);
  });

  it('cuts a client that sends its body one byte every 200 ms', async () => {
    const head = 'POST /slow-body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n';
    const exchange = await rawTls(slowPort, ca, tricklingWriter('b'.repeat(1000), 200, head), { maxMs: 5_000 });
    expect(exchange.closed, 'the slow body was never cut').toBe(true);
    expect(exchange.ms).toBeLessThan(3_500);
    if (exchange.bytes.length > 0) expect(only(exchange).status).toBe(408);
    // Whatever reached the upstream never completed.
    expect(slowSeen.filter((r) => r.url === '/slow-body' && r.complete)).toHaveLength(0);
    await expectStillServing(slowPort);
  });

  it('refuses connections over maxConnections, and serves again once some close', async () => {
    const { port } = await upstreamFor([]);
    const { httpsPort: limited } = await proxyFor(`http://127.0.0.1:${port}`, { httpListen: null, maxConnections: 5 });
    const sockets: TLSSocket[] = [];
    const results: ('open' | 'closed')[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const socket = tls.connect({ host: '127.0.0.1', port: limited, servername: 'localhost', ca });
        sockets.push(socket);
        socket.on('error', () => undefined);
        results.push(
          await new Promise<'open' | 'closed'>((resolve) => {
            const timer = setTimeout(() => resolve('open'), 1_000);
            socket.once('secureConnect', () => {
              clearTimeout(timer);
              resolve('open');
            });
            socket.once('close', () => {
              clearTimeout(timer);
              resolve('closed');
            });
          }),
        );
      }
      expect(results.filter((r) => r === 'open')).toHaveLength(5);
      expect(results.slice(5)).toEqual(['closed', 'closed', 'closed']);
      expect(sockets.slice(5).every((s) => s.destroyed)).toBe(true);

      // One of the first five still gets an answer.
      const first = sockets[0]!;
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        first.setEncoding('latin1');
        first.on('data', (c: string) => (text += c));
        first.on('close', () => resolve(text));
        first.write(httpText('GET', '/within-limit'));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);

      for (const socket of sockets) socket.destroy();
      await sleep(100);
      await expectStillServing(limited);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

// -------------------------------------------------------------------------------------------------
describe('7. handshake floods', () => {
  it('counts 200 plain-text and 100 no-shared-cipher handshakes in flat memory, and keeps serving', async () => {
    const { port } = await upstreamFor([]);
    const { httpsPort: flooded } = await proxyFor(`http://127.0.0.1:${port}`, { httpListen: null });
    type Windows = Record<string, { handshakeFailures: { byReason: Record<string, number> } }>;
    const report = async (): Promise<Windows> => {
      const response = only(await rawTls(flooded, ca, httpText('GET', '/_legacy-tls/report.json', [['Authorization', `Bearer ${REPORT_TOKEN}`]])));
      expect(response.status).toBe(200);
      return (JSON.parse(response.body.toString()) as { windows: Windows }).windows;
    };
    const plainText = () => rawTcp(flooded, 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', { maxMs: 3_000 });
    const ecdsaOnly = () => handshake({ port: flooded, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    const flood = async (plain: number, cipher: number) => {
      for (let i = 0; i < plain; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, plain - i) }, plainText));
        expect(batch.every((e) => e.closed)).toBe(true);
      }
      for (let i = 0; i < cipher; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, cipher - i) }, ecdsaOnly));
        expect(batch.every((r) => r.error !== undefined)).toBe(true);
      }
    };

    // A first small flood, so that the report already holds every key it will ever hold.
    await flood(10, 10);
    const sizeBefore = JSON.stringify(await report()).length;
    const rssBefore = process.memoryUsage().rss;
    await flood(200, 100);
    await sleep(100);
    const rssAfter = process.memoryUsage().rss;
    const windows = await report();
    const failures = windows['24h']!.handshakeFailures.byReason;
    expect(failures['not-tls']).toBeGreaterThanOrEqual(210);
    expect(failures['no-shared-cipher']).toBeGreaterThanOrEqual(110);
    // Counters, not a list of failures: 300 more failures change a few digits, not the report's shape.
    expect(Math.abs(JSON.stringify(windows).length - sizeBefore)).toBeLessThan(256);
    expect(rssAfter - rssBefore).toBeLessThan(30 * 1024 * 1024);
    await expectStillServing(flooded);
  });
});

// -------------------------------------------------------------------------------------------------
describe('8. upstream faults', () => {
  /** A raw TCP upstream answering every request with `reply` (a function of the request head). */
  async function rawUpstream(reply: (socket: net.Socket, head: string) => void): Promise<{ server: net.Server; port: number; open: () => number }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          const complete = head;
          head = '';
          reply(socket, complete);
        }
      });
    });
    const port = await listenOn(server);
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    });
    return { server, port, open: () => sockets.size };
  }

  it('cuts the client response when the upstream dies in the middle of a body', async () => {
    const { port } = await rawUpstream((socket, head) => {
      if (head.startsWith('GET /cut-length')) {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(100)}`);
      } else {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${'y'.repeat(100)}\r\n`);
      }
      setTimeout(() => socket.destroy(), 50);
    });
    const { httpsPort: faulty } = await proxyFor(`http://127.0.0.1:${port}`, { httpListen: null });

    const withLength = await rawTls(faulty, ca, httpText('GET', '/cut-length'));
    expect(withLength.closed).toBe(true);
    const [cutLength] = parseResponses(withLength.bytes);
    // Either no response at all or a 200 whose body is visibly short: never a complete-looking one.
    if (cutLength) {
      expect(cutLength.status).toBe(200);
      expect(cutLength.complete).toBe(false);
      expect(cutLength.body.length).toBeLessThan(1000);
    }

    const chunked = await rawTls(faulty, ca, httpText('GET', '/cut-chunked'));
    expect(chunked.closed).toBe(true);
    const [cutChunked] = parseResponses(chunked.bytes);
    if (cutChunked) {
      expect(cutChunked.status).toBe(200);
      expect(cutChunked.complete).toBe(false);
    }
    expect(chunked.text).not.toMatch(/\r\n0\r\n\r\n$/);
  });

  // The upstream answers before it has read the body (an early 401/413, a download answering a GET
  // with a body), then fails while the client is still uploading: the proxy must cut that one
  // connection, not crash the whole process.
  it('survives an upstream that fails mid-response while the client is still sending its body', async () => {
    const { port } = await rawUpstream((socket, head) => {
      if (head.startsWith('GET /still-ok')) {
        const body = '{"ok":true,"path":"/still-ok"}';
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        return;
      }
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(100)}`);
      setTimeout(() => socket.destroy(), 50);
    });
    const { httpsPort: faulty } = await proxyFor(`http://127.0.0.1:${port}`, { httpListen: null });
    const uncaught: Error[] = [];
    const onUncaught = (error: Error) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (const text of [
        'POST /cut-upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\nabc',
        'POST /cut-upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
        'GET /cut-upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\nabc',
      ]) {
        const exchange = await rawTls(faulty, ca, text, { maxMs: 3_000 });
        expect(exchange.closed).toBe(true);
        const [cut] = parseResponses(exchange.bytes);
        if (cut) expect(cut.complete).toBe(false);
      }
      await sleep(200);
      expect(uncaught.map((e) => e.stack ?? e.message)).toEqual([]);
      await expectStillServing(faulty);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('answers 502 when the upstream answers garbage, without leaking sockets', async () => {
    const garbage = await rawUpstream((socket) => socket.write('HELLO\r\n\r\n'));
    const { httpsPort: faulty } = await proxyFor(`http://127.0.0.1:${garbage.port}`, { httpListen: null });
    const response = only(await rawTls(faulty, ca, httpText('GET', '/garbage')));
    expect(response.status).toBe(502);
    expect(response.body.toString()).not.toMatch(/HELLO|127\.0\.0\.1|HPE_|UND_ERR/);

    await sleep(200);
    const baseline = openSocketCount();
    for (let i = 0; i < 50; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, j) => rawTls(faulty, ca, httpText('GET', `/garbage-${i + j}`))));
      expect(batch.map((e) => only(e).status)).toEqual(Array(10).fill(502));
    }
    await sleep(300);
    expect(garbage.open(), 'upstream sockets the proxy left open').toBeLessThanOrEqual(1);
    expect(openSocketCount()).toBeLessThanOrEqual(baseline + 2);
  });

  it('answers 502 while the upstream is down and recovers when it is back, without leaking sockets', async () => {
    const here: SeenRequest[] = [];
    let upstream = recordingUpstream(here);
    const port = await listenOn(upstream);
    cleanups.push(() => closeServer(upstream));
    const { httpsPort: proxied } = await proxyFor(`http://127.0.0.1:${port}`, { httpListen: null });

    expect(only(await rawTls(proxied, ca, httpText('GET', '/up'))).status).toBe(200);
    await closeServer(upstream);
    await sleep(50);
    expect(only(await rawTls(proxied, ca, httpText('GET', '/down'))).status).toBe(502);

    await sleep(200);
    const baseline = openSocketCount();
    for (let i = 0; i < 50; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => rawTls(proxied, ca, httpText('GET', '/down'))));
      expect(batch.map((e) => only(e).status)).toEqual(Array(10).fill(502));
    }
    await sleep(300);
    expect(openSocketCount()).toBeLessThanOrEqual(baseline + 2);

    upstream = recordingUpstream(here);
    await new Promise<void>((resolve, reject) => {
      upstream.once('error', reject);
      upstream.listen(port, '127.0.0.1', () => resolve());
    });
    const back = only(await rawTls(proxied, ca, httpText('GET', '/back')));
    expect(back.status).toBe(200);
    expect(here.map((r) => r.url)).toEqual(['/up', '/back']);
  });
});
