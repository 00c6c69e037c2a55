import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyTlsServer, InvalidOptionError, renderFallbackPage, type FallbackMode, type LegacyTlsServer, type Verdict } from '../src/index.js';
import { legacyTlsFallback, type LegacyTlsFallbackExpressOptions } from '../src/express/index.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { LEGACY_VERSIONS, TLS_VERSIONS, tlsRequest } from './helpers/tls-client.js';
import { CHROME, expectAppResponse, expectRedirect, HTML, IE8, NO_STORE, PAGE_TEXT } from './helpers/fallback.js';


interface Site {
  app: express.Express;
  /** `res.locals.legacyTls` of every request, right after the middleware classified it. */
  verdicts: (Verdict | undefined)[];
  hits: string[];
  errors: Error[];
}

/** An Express app with the middleware in front of a tiny site and an error handler. */
function site(options: LegacyTlsFallbackExpressOptions = {}): Site {
  const verdicts: (Verdict | undefined)[] = [];
  const hits: string[] = [];
  const errors: Error[] = [];
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const middleware = legacyTlsFallback(options);
  // The verdict is set synchronously, before the (async) decision: record it whoever answers.
  app.use((req, res, next) => {
    void middleware(req, res, next);
    verdicts.push(res.locals.legacyTls);
  });
  app.use((req, res) => {
    hits.push(`${req.method} ${req.path}`);
    res.set('x-app', 'yes').type('text/plain').send('the site');
  });
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(error);
    res.status(500).type('text/plain').send(`handled: ${error.message}`);
  });
  return { app, verdicts, hits, errors };
}

// Plain HTTP on 127.0.0.1; every server is closed after its test.
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

async function serve(options: LegacyTlsFallbackExpressOptions = {}) {
  const s = site(options);
  const server = http.createServer(s.app);
  servers.push(server);
  const port = await listenOn(server);
  return { ...s, http: request(`http://127.0.0.1:${port}`) };
}

describe('Express: the verdict on res.locals.legacyTls', () => {
  it('is legacy by user agent for IE 8 and not legacy for Chrome', async () => {
    const s = await serve({ mode: 'observe' });
    await s.http.get('/').set('user-agent', IE8).expect(200);
    await s.http.get('/').set('user-agent', CHROME).expect(200);
    expect(s.verdicts).toEqual([
      {
        legacy: true,
        reasons: ['user-agent'],
        tls: { protocol: null, cipher: null, servername: null, source: 'none' },
        client: { browser: 'IE', version: '8.0', os: 'Windows XP', bot: false, kind: 'browser' },
      },
      expect.objectContaining({ legacy: false, reasons: [], client: expect.objectContaining({ browser: 'Chrome' }) }),
    ]);
  });

  it('is set on requests the middleware answers itself', async () => {
    const s = await serve();
    await s.http.get('/a').set('user-agent', IE8).redirects(0);
    await s.http.get('/legacy-browser').set('user-agent', CHROME);
    await s.http.post('/a').set('user-agent', IE8);
    expect(s.verdicts.map((v) => v?.legacy)).toEqual([true, false, true]);
    expect(s.hits).toEqual([]);
  });
});

describe('Express: redirect mode', () => {
  it('sends legacy GET and HEAD to the fallback page with an uncached 302', async () => {
    const s = await serve();
    expectRedirect(await s.http.get('/account?x=1').set('user-agent', IE8).redirects(0));
    expectRedirect(await s.http.head('/account').set('user-agent', IE8).redirects(0));
    expect(s.hits).toEqual([]);
  });

  it('leaves modern clients to the app', async () => {
    const s = await serve();
    expectAppResponse(await s.http.get('/account').set('user-agent', CHROME));
    expectAppResponse(await s.http.post('/account').set('user-agent', CHROME).send({ a: 1 }));
    expect(s.hits).toEqual(['GET /account', 'POST /account']);
  });

  it('redirects to fallbackUrl, and never redirects it when it is on this host', async () => {
    const s = await serve({ fallbackUrl: 'https://www.example.com/old-browser', serverNames: ['www.example.com'] });
    expectRedirect(await s.http.get('/account').set('host', 'www.example.com').set('user-agent', IE8).redirects(0), 'https://www.example.com/old-browser');
    expectAppResponse(await s.http.get('/old-browser').set('host', 'www.example.com').set('user-agent', IE8).redirects(0));
    // Not a serverName: the Host header a client sends decides nothing.
    const other = await serve({ fallbackUrl: 'https://help.example.com/' });
    expectRedirect(await other.http.get('/admin').set('host', 'help.example.com').set('user-agent', IE8).redirects(0), 'https://help.example.com/');
  });
});

describe.each<FallbackMode>(['redirect', 'render'])('Express: legacy requests with a body, mode %s', (mode) => {
  it.each(['post', 'put', 'delete', 'patch'] as const)('%s gets 426 with Upgrade: TLS/1.2 and never reaches the app', async (method) => {
    const s = await serve({ mode, page: { organisation: 'Acme' } });
    const response = await s.http[method]('/pay').set('user-agent', IE8).set('accept', '*/*').type('form').send('amount=1').redirects(0);
    expect(response.status).toBe(426);
    expect(response.headers.upgrade).toBe('TLS/1.2');
    expect(response.headers.location).toBeUndefined();
    expect(response.headers['content-type']).toBe(HTML);
    expect(response.text).toBe(renderFallbackPage({ organisation: 'Acme' }));
    expect(s.hits).toEqual([]);
  });

  it('answers JSON clients with small JSON', async () => {
    const s = await serve({ mode });
    const response = await s.http.post('/pay').set('user-agent', IE8).set('accept', 'application/json');
    expect(response.status).toBe(426);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(response.text)).toMatchObject({ error: 'upgrade_required', fallback: '/legacy-browser' });
  });
});

describe('Express: render and observe modes', () => {
  it('render: serves the page in place for legacy GET and HEAD', async () => {
    const s = await serve({ mode: 'render', page: { organisation: 'Acme' } });
    const get = await s.http.get('/account').set('user-agent', IE8).redirects(0);
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe(HTML);
    expect(get.headers['cache-control']).toBe(NO_STORE);
    expect(get.text).toBe(renderFallbackPage({ organisation: 'Acme' }));
    const head = await s.http.head('/account').set('user-agent', IE8).redirects(0);
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe(HTML);
    expect(s.hits).toEqual([]);
    expectAppResponse(await s.http.get('/account').set('user-agent', CHROME));
  });

  it.each(['get', 'post'] as const)('observe: never changes the response to a legacy %s, calls onLegacy(req, verdict)', async (method) => {
    const calls: [Request, Verdict][] = [];
    const s = await serve({ mode: 'observe', onLegacy: (req, verdict) => void calls.push([req, verdict]) });
    const response = await s.http[method]('/account').set('user-agent', IE8).redirects(0);
    expectAppResponse(response);
    expect(response.headers['cache-control']).toBeUndefined();
    expect(s.hits).toEqual([`${method.toUpperCase()} /account`]);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0].path).toBe('/account');
    expect(calls[0]![0].res).toBeDefined();
    expect(calls[0]![1]).toBe(s.verdicts[0]);
  });
});

describe('Express: the fallback page and paths never redirected', () => {
  it.each([
    [IE8, 'get', '/legacy-browser'],
    [IE8, 'head', '/legacy-browser/'],
    [CHROME, 'get', '/legacy-browser/'],
    [CHROME, 'head', '/legacy-browser'],
  ] as const)('serves the page to %s, %s %s', async (ua, method, path) => {
    const s = await serve({ page: { organisation: 'Acme' } });
    const response = await s.http[method](path).set('user-agent', ua).redirects(0);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(HTML);
    expect(response.headers['cache-control']).toBe(NO_STORE);
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    if (method === 'get') expect(response.text).toBe(renderFallbackPage({ organisation: 'Acme' }));
    expect(s.hits).toEqual([]);
  });

  it('passes assets below the page, ACME challenges and excluded paths to the app', async () => {
    const s = await serve({ exclude: ['/api', /^\/static\//g], fallbackPath: '/api/old-browser' });
    for (const path of ['/api/old-browser/logo.png', '/.well-known/acme-challenge/t', '/api', '/api/x', '/static/a.css', '/static/a.css', '/static/a.css']) {
      expectAppResponse(await s.http.get(path).set('user-agent', IE8).redirects(0));
    }
    expectRedirect(await s.http.get('/apix').set('user-agent', IE8).redirects(0), '/api/old-browser');
    const page = await s.http.get('/api/old-browser').set('user-agent', IE8).redirects(0);
    expect(page.status).toBe(200);
    expect(page.text).toContain(PAGE_TEXT);
  });

  it('leaves a request alone when skip(req) returns true', async () => {
    const s = await serve({ skip: (req) => req.get('x-monitor') === '1' });
    expectAppResponse(await s.http.get('/status').set('user-agent', IE8).set('x-monitor', '1').redirects(0));
    expectRedirect(await s.http.get('/status').set('user-agent', IE8).redirects(0));
  });

  it('serves a page function, with null for a preview', async () => {
    const calls: (Verdict | null)[] = [];
    const s = await serve({ mode: 'render', page: (verdict) => (calls.push(verdict), `<p>${verdict ? 'legacy' : 'preview'}</p>`) });
    expect((await s.http.get('/x').set('user-agent', IE8)).text).toBe('<p>legacy</p>');
    expect((await s.http.get('/legacy-browser').set('user-agent', CHROME)).text).toBe('<p>preview</p>');
    expect(calls[0]).toMatchObject({ legacy: true });
    expect(calls[1]).toBeNull();
  });
});

describe('Express: onLegacy', () => {
  it('is awaited before the response is decided', async () => {
    const s = await serve({
      onLegacy: async (req) => {
        await delay(30);
        req.res!.set('x-on-legacy', 'done');
      },
    });
    const response = await s.http.get('/').set('user-agent', IE8).redirects(0);
    expectRedirect(response);
    expect(response.headers['x-on-legacy']).toBe('done');
  });

  it.each([
    ['throws', () => { throw new Error('analytics down'); }],
    ['rejects', async () => Promise.reject(new Error('analytics down'))],
  ])('goes to the Express error handler when it %s', async (_label, onLegacy) => {
    const s = await serve({ onLegacy });
    const response = await s.http.get('/').set('user-agent', IE8).redirects(0);
    expect(response.status).toBe(500);
    expect(response.text).toBe('handled: analytics down');
    expect(response.headers.location).toBeUndefined();
    expect(s.errors.map((e) => e.message)).toEqual(['analytics down']);
    expect(s.hits).toEqual([]);
  });

  it('sends a throwing skip to the Express error handler too', async () => {
    const s = await serve({ skip: () => { throw new Error('skip broke'); } });
    const response = await s.http.get('/').set('user-agent', IE8).redirects(0);
    expect(response.status).toBe(500);
    expect(response.text).toBe('handled: skip broke');
  });
});

describe('Express: trusted header', () => {
  it('believes the header only from trusted peers', async () => {
    const trusted = await serve({ trustedHeader: 'x-tls-protocol', trustedProxies: ['loopback'] });
    expectRedirect(await trusted.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1').redirects(0));
    expect(trusted.verdicts[0]).toMatchObject({ legacy: true, reasons: ['tls-version'], tls: { protocol: 'TLSv1', source: 'header' } });

    const untrusted = await serve({ trustedHeader: 'x-tls-protocol', trustedProxies: ['10.0.0.0/8'] });
    expectAppResponse(await untrusted.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1').redirects(0));
    expect(untrusted.verdicts[0]).toMatchObject({ legacy: false, tls: { protocol: null, source: 'none' } });
  });
});

describe('Express: option validation', () => {
  it.each([
    [{ mode: 'redirekt' }, 'mode', '"redirekt"'],
    [{ fallbackPath: '//evil.com' }, 'fallbackPath', '"//evil.com"'],
    [{ fallbackpath: '/x' }, 'fallbackpath', 'did you mean `fallbackPath`'],
    [{ trustedHeader: 'x-tls-protocol' }, 'trustedProxies', '`trustedHeader`'],
  ])('throws InvalidOptionError for %j', (options, option, text) => {
    let error: unknown;
    try {
      legacyTlsFallback(options as LegacyTlsFallbackExpressOptions);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as InvalidOptionError).message).toContain(text);
  });
});

// Real TLS clients at each protocol version against a real Express app, in every mode.
describe.each<FallbackMode>(['redirect', 'render', 'observe'])('Express, mode %s, over real TLS', (mode) => {
  let server: LegacyTlsServer;
  let port: number;
  let ca: string;
  let s: Site;

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    ca = cert;
    s = site({ mode, page: { organisation: 'Acme & Co' } });
    server = createLegacyTlsServer({ cert, key }, s.app);
    port = await listenOn(server);
  });
  afterAll(() => closeServer(server));

  it.each(TLS_VERSIONS)('GET over %s reaches the right outcome', async (version) => {
    const hitsBefore = s.hits.length;
    const response = await tlsRequest({ port, ca, version, path: '/account', headers: { 'user-agent': CHROME } });
    expect(response.protocol).toBe(version);
    const legacy = LEGACY_VERSIONS.has(version);
    expect(s.verdicts.at(-1)).toMatchObject({ legacy, reasons: legacy ? ['tls-version'] : [], tls: { protocol: version, source: 'socket', servername: 'localhost' } });
    expect(s.verdicts.at(-1)!.tls.cipher).toBe(response.cipher);
    if (!legacy || mode === 'observe') {
      expect(response.status).toBe(200);
      expect(response.body).toBe('the site');
      expect(s.hits.length).toBe(hitsBefore + 1);
    } else if (mode === 'redirect') {
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe('/legacy-browser');
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(s.hits.length).toBe(hitsBefore);
    } else {
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe(HTML);
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(response.body).toBe(renderFallbackPage({ organisation: 'Acme & Co' }));
      expect(s.hits.length).toBe(hitsBefore);
    }
  });

  it.each(TLS_VERSIONS)('POST over %s is refused on legacy TLS, never redirected', async (version) => {
    const hitsBefore = s.hits.length;
    const response = await tlsRequest({
      port,
      ca,
      version,
      method: 'POST',
      path: '/pay',
      body: 'amount=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': CHROME },
    });
    expect(response.protocol).toBe(version);
    expect(response.headers.location).toBeUndefined();
    if (LEGACY_VERSIONS.has(version) && mode !== 'observe') {
      expect(response.status).toBe(426);
      expect(response.headers.upgrade).toBe('TLS/1.2');
      expect(JSON.parse(response.body)).toMatchObject({ error: 'upgrade_required', fallback: '/legacy-browser' });
      expect(s.hits.length).toBe(hitsBefore);
    } else {
      expect(response.status).toBe(200);
      expect(response.body).toBe('the site');
      expect(s.hits.at(-1)).toBe('POST /pay');
    }
  });

  it.each(TLS_VERSIONS)('serves the fallback page itself over %s', async (version) => {
    const response = await tlsRequest({ port, ca, version, path: '/legacy-browser' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(HTML);
    expect(response.body).toContain(PAGE_TEXT);
  });
});
