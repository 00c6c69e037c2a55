/**
 * Issue 15: the page in the visitor's language, the switch-off date (Deprecation/Sunset, the one-time
 * interstitial and its continue link) and options per host and per path group, with real requests
 * through Koa and Express (plain HTTP: legacy by user agent) and a real TLS 1.0 client (SNI).
 */
import http from 'node:http';
import https from 'node:https';
import express, { type NextFunction, type Request, type Response } from 'express';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyTlsServer, type LegacyTlsServer } from '../src/index.js';
import { legacyTlsFallback as expressFallback } from '../src/express/index.js';
import { legacyTlsFallback as koaFallback } from '../src/koa/index.js';
import type { FallbackOptions } from '../src/fallback/options.js';
import { escapeHtml } from '../src/html.js';
import { continueHref, continueTarget, hasNoticeCookie, isPageNavigation } from '../src/fallback/switch-off.js';
import { MAX_CONTINUE_HREF_LENGTH } from '../src/fallback/interstitial.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { CHROME, IE8, NO_STORE } from './helpers/fallback.js';

const SWITCH_OFF = '2027-03-01';
const SWITCH_OFF_MS = Date.UTC(2027, 2, 1);
const BEFORE = Date.UTC(2027, 1, 27, 12);
const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const IE6_PAGE_ACCEPT = 'image/gif, image/x-xbitmap, image/jpeg, image/pjpeg, application/x-shockwave-flash, */*';
const DEPRECATION = `@${SWITCH_OFF_MS / 1000}`;
const SUNSET = 'Mon, 01 Mar 2027 00:00:00 GMT';
/** The options both adapters take alike (no `skip` or `onLegacy`, whose argument differs). */
type LegacyTlsFallbackOptions = Omit<FallbackOptions<never>, 'skip' | 'onLegacy'>;
const texts = (tag: string) => BUILT_IN_LANGUAGES.find((pack) => pack.tag === tag)!.texts;

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

interface Site {
  http: ReturnType<typeof request>;
  hits: string[];
}

async function koaSite(options: LegacyTlsFallbackOptions): Promise<Site> {
  const hits: string[] = [];
  const app = new Koa();
  app.silent = true;
  app.use(koaFallback(options));
  app.use((ctx) => {
    hits.push(`${ctx.method} ${ctx.path}`);
    if (ctx.path === '/broken') ctx.throw(500, 'broken');
    ctx.set('x-app', 'yes');
    ctx.type = 'text/plain';
    ctx.body = 'the site';
  });
  const handle = app.callback();
  const server = http.createServer((req, res) => void handle(req, res));
  servers.push(server);
  return { http: request(`http://127.0.0.1:${await listenOn(server)}`), hits };
}

async function expressSite(options: LegacyTlsFallbackOptions): Promise<Site> {
  const hits: string[] = [];
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(expressFallback(options));
  app.use((req, res, next) => {
    hits.push(`${req.method} ${req.path}`);
    if (req.path === '/broken') return next(new Error('broken'));
    res.set('x-app', 'yes').type('text/plain').send('the site');
  });
  app.use((_error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).type('text/plain').send('handled');
  });
  const server = http.createServer(app);
  servers.push(server);
  return { http: request(`http://127.0.0.1:${await listenOn(server)}`), hits };
}

function expectNoWarning(response: request.Response): void {
  expect(response.headers.deprecation).toBeUndefined();
  expect(response.headers.sunset).toBeUndefined();
}

function expectWarning(response: request.Response): void {
  expect(response.headers.deprecation).toBe(DEPRECATION);
  expect(response.headers.sunset).toBe(SUNSET);
}

describe.each([
  ['Koa', koaSite],
  ['Express', expressSite],
] as const)('%s', (_name, start) => {
  describe('the page in the visitor\'s language', () => {
    it('negotiates Accept-Language with q-values and says so (Content-Language, Vary, no-store)', async () => {
      const site = await start({ mode: 'render' });
      const response = await site.http.get('/anything').set('user-agent', IE8).set('accept-language', 'fr;q=0.5, de-AT;q=0.9, en;q=0.1');
      expect(response.status).toBe(200);
      expect(response.headers['content-language']).toBe('de');
      expect(response.headers.vary).toBe('Accept-Language');
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.text).toContain('<html lang="de"');
      expect(response.text).toContain(escapeHtml(texts('de').heading));
      // UTF-8 on the wire, as the meta tag says: "ö" is two bytes, not one Latin-1 byte.
      expect(Buffer.from(response.text, 'utf8').includes(Buffer.from('möglich', 'utf8'))).toBe(true);
      expect(site.hits).toEqual([]);
    });

    it.each(BUILT_IN_LANGUAGES.map((pack) => pack.tag))('serves %s on the fallback page', async (tag) => {
      const site = await start({});
      const response = await site.http
        .get('/legacy-browser')
        .set('user-agent', IE8)
        .set('accept-language', `${tag};q=0.8, *;q=0.1`)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });
      expect(response.status).toBe(200);
      expect(response.headers['content-language']).toBe(tag);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      // The bytes on the wire: valid UTF-8, no BOM, the heading's UTF-8 bytes, and the charset declared
      // in the first 1024 bytes too, where IE 6 (and the HTML spec) look for it without the header.
      const bytes = response.body as Buffer;
      const html = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
      expect(bytes.includes(Buffer.from(escapeHtml(texts(tag).heading), 'utf8'))).toBe(true);
      expect(bytes.subarray(0, 1024).toString('latin1')).toMatch(/<meta http-equiv="Content-Type" content="text\/html; charset=utf-8"/i);
      expect(html).toContain(`lang="${tag}"`);
    });

    it('falls back to English for a language it does not offer, or junk', async () => {
      const site = await start({ mode: 'render' });
      for (const header of ['xx-YY', '*;q=abc', 'de;q=0', ',,,;;;']) {
        const response = await site.http.get('/').set('user-agent', IE8).set('accept-language', header);
        expect(response.headers['content-language'], header).toBe('en');
        expect(response.text).toContain(escapeHtml(texts('en').heading));
      }
    });

    it('varies the 426 on Accept and Accept-Language, and keeps it no-store', async () => {
      const site = await start({});
      const response = await site.http.post('/form').set('user-agent', IE8).set('accept-language', 'ja');
      expect(response.status).toBe(426);
      expect(response.headers.vary).toBe('Accept, Accept-Language');
      expect(response.headers['content-language']).toBe('ja');
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(response.text).toContain(escapeHtml(texts('ja').heading));
    });
  });

  describe('before the switch-off date', () => {
    let clock = BEFORE;
    const options = (extra: Partial<LegacyTlsFallbackOptions> = {}): LegacyTlsFallbackOptions => ({ switchOff: SWITCH_OFF, now: () => clock, ...extra });
    afterEach(() => {
      clock = BEFORE;
    });

    it('shows a browser opening a page the interstitial, whose link sets the cookie and leads back', async () => {
      const site = await start(options());
      const first = await site.http.get('/shop/basket?id=7').set('user-agent', IE8).set('accept', HTML_ACCEPT).set('accept-language', 'fr');
      expect(first.status).toBe(200);
      expectWarning(first);
      expect(first.headers['content-language']).toBe('fr');
      expect(first.headers['cache-control']).toBe(NO_STORE);
      expect(first.headers.vary).toBe('Accept, Accept-Language, Cookie');
      expect(first.text).toContain(escapeHtml(texts('fr').interstitialHeading));
      expect(first.text).not.toMatch(/<script/i);
      const href = /<p class="continue"><a href="([^"]+)"/.exec(first.text)?.[1];
      expect(href).toBe('/legacy-browser/continue?to=%2Fshop%2Fbasket%3Fid%3D7');
      expect(site.hits).toEqual([]);

      const next = await site.http.get(href!.replaceAll('&amp;', '&')).set('user-agent', IE8).redirects(0);
      expect(next.status).toBe(302);
      expect(next.headers.location).toBe('/shop/basket?id=7');
      expect(next.headers['cache-control']).toBe(NO_STORE);
      const cookie = String(next.headers['set-cookie']);
      expect(cookie).toMatch(/^legacy_tls_notice=1; Path=\/; Expires=Sun, 28 Feb 2027 12:00:00 GMT; Max-Age=86400; HttpOnly; SameSite=Lax$/);

      const then = await site.http.get('/shop/basket?id=7').set('user-agent', IE8).set('accept', HTML_ACCEPT).set('cookie', 'other=1; legacy_tls_notice=1');
      expect(then.status).toBe(200);
      expect(then.headers['x-app']).toBe('yes');
      expectWarning(then);
      expect(site.hits).toEqual(['GET /shop/basket']);
    });

    it('shows IE 6 (no Sec-Fetch, its own Accept) the interstitial for a page, never for an image', async () => {
      const site = await start(options());
      const page = await site.http.get('/').set('user-agent', IE8).set('accept', IE6_PAGE_ACCEPT);
      expect(page.text).toContain(escapeHtml(texts('en').interstitialHeading));
      const image = await site.http.get('/logo.png').set('user-agent', IE8).set('accept', '*/*');
      expect(image.headers['x-app']).toBe('yes');
      expectWarning(image);
      const xhr = await site.http.get('/data').set('user-agent', IE8).set('accept', HTML_ACCEPT).set('x-requested-with', 'XMLHttpRequest');
      expect(xhr.headers['x-app']).toBe('yes');
      expectWarning(xhr);
    });

    it('serves every other request from a legacy client with the headers only, errors included', async () => {
      const site = await start(options());
      const post = await site.http.post('/form').set('user-agent', IE8).set('accept', HTML_ACCEPT).send('a=1');
      expect(post.headers['x-app']).toBe('yes');
      expectWarning(post);
      const broken = await site.http.get('/broken').set('user-agent', IE8).set('cookie', 'legacy_tls_notice=1');
      expect(broken.status).toBe(500);
      expectWarning(broken);
      const modern = await site.http.get('/').set('user-agent', CHROME).set('accept', HTML_ACCEPT);
      expect(modern.headers['x-app']).toBe('yes');
      expectNoWarning(modern);
    });

    it('never shows bots or libraries the interstitial: they get the headers', async () => {
      const site = await start(options({ trustedHeader: 'x-tls-protocol', trustedProxies: ['loopback'] }));
      for (const userAgent of ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'curl/7.58.0']) {
        // Legacy by the connection only: plain HTTP here, so make the client legacy by a trusted header.
        const response = await site.http.get('/').set('user-agent', userAgent).set('accept', HTML_ACCEPT).set('x-tls-protocol', 'TLSv1');
        expect(response.headers['x-app'], userAgent).toBe('yes');
        expectWarning(response);
      }
    });

    it("with notice: 'headers', never shows the interstitial", async () => {
      const site = await start(options({ notice: 'headers' }));
      const response = await site.http.get('/').set('user-agent', IE8).set('accept', HTML_ACCEPT);
      expect(response.headers['x-app']).toBe('yes');
      expectWarning(response);
    });

    it('puts the date on the fallback page, before and after it', async () => {
      const site = await start(options());
      const before = await site.http.get('/legacy-browser').set('user-agent', IE8).set('accept-language', 'de');
      expectWarning(before);
      expect(before.text).toContain('Ab dem ');
      expect(before.text).toContain('2027');
      clock = SWITCH_OFF_MS;
      const after = await site.http.get('/legacy-browser').set('user-agent', IE8).set('accept-language', 'de');
      expectNoWarning(after);
      expect(after.text).toContain('Diese Anforderung gilt seit dem ');
    });

    it('applies the mode from midnight UTC of the date on (injected clock)', async () => {
      const site = await start(options());
      clock = SWITCH_OFF_MS - 1;
      expect((await site.http.get('/').set('user-agent', IE8).set('cookie', 'legacy_tls_notice=1')).headers['x-app']).toBe('yes');
      clock = SWITCH_OFF_MS;
      const after = await site.http.get('/').set('user-agent', IE8).set('cookie', 'legacy_tls_notice=1').redirects(0);
      expect(after.status).toBe(302);
      expect(after.headers.location).toBe('/legacy-browser');
      expectNoWarning(after);
      expect(site.hits).toEqual(['GET /']);
    });

    it('never leads the continue link off the site', async () => {
      const site = await start(options());
      const cases: [string, string][] = [
        ['//evil.example/x', '/'],
        ['https://evil.example/', '/'],
        ['/\\evil.example', '/'],
        ['/a/../b?c=1', '/b?c=1'],
        ['/x\r\nSet-Cookie: a=1', '/'],
        ['/ok?x=\u00e9', '/ok'],
        ['', '/'],
      ];
      for (const [to, location] of cases) {
        const response = await site.http.get(`/legacy-browser/continue?to=${encodeURIComponent(to)}`).set('user-agent', IE8).redirects(0);
        expect(response.status, to).toBe(302);
        expect(response.headers.location, to).toBe(location);
      }
    });
  });

  describe('options per host and per group', () => {
    it('switches the API host off first while the rest of the site is warned', async () => {
      const site = await start({ switchOff: SWITCH_OFF, now: () => BEFORE, hosts: { 'api.example.com': { switchOff: false } }, notice: 'headers' });
      const api = await site.http.get('/v1/x').set('host', 'API.example.com:8443').set('user-agent', IE8).redirects(0);
      expect(api.status).toBe(302);
      const www = await site.http.get('/').set('host', 'www.example.com').set('user-agent', IE8);
      expect(www.headers['x-app']).toBe('yes');
      expectWarning(www);
    });

    it('applies a group\'s options on the normalised path, segment-wise', async () => {
      const site = await start({ mode: 'redirect', groups: { '/api': { name: 'API', mode: 'observe' }, '/shop': 'Shop' } });
      expect((await site.http.get('/api/v1').set('user-agent', IE8)).headers['x-app']).toBe('yes');
      expect((await site.http.get('/api/../shop').set('user-agent', IE8).redirects(0)).status).toBe(302);
      expect((await site.http.get('/apix').set('user-agent', IE8).redirects(0)).status).toBe(302);
      expect((await site.http.get('/shop').set('user-agent', IE8).redirects(0)).status).toBe(302);
    });

    it('never lets a forged Host exempt a request: odd spellings and junk get the strictest options', async () => {
      const site = await start({ mode: 'redirect', hosts: { 'dev.example.com': { mode: 'observe' } } });
      // A configured host picks its options (the site behind routes on the same Host).
      expect((await site.http.get('/').set('host', 'dev.example.com').set('user-agent', IE8)).headers['x-app']).toBe('yes');
      for (const host of ['dev.example.com.', 'dev.example.com@www.example.com', 'dev.example.com, www.example.com', 'x'.repeat(400)]) {
        const response = await site.http.get('/').set('host', host).set('user-agent', IE8).redirects(0);
        expect(response.status, host).toBe(302);
      }
    });
  });
});

describe('a TLS 1.0 client whose Host names another configured host than its SNI', () => {
  let server: LegacyTlsServer;
  let port: number;
  let ca: string;
  const hits: string[] = [];

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    ca = cert;
    const app = new Koa();
    app.silent = true;
    // Global: redirect. The lenient host is dev.example.com; the certificate's name (the SNI) is not configured.
    app.use(koaFallback({ mode: 'redirect', hosts: { 'dev.example.com': { mode: 'observe' } } }));
    app.use((ctx) => {
      hits.push(ctx.path);
      ctx.body = 'the site';
    });
    server = createLegacyTlsServer({ cert, key }, app.callback());
    port = await listenOn(server);
  });
  afterAll(async () => {
    await closeServer(server);
  });

  function get(servername: string | undefined, host: string): Promise<{ status: number; location: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/',
          ...(servername !== undefined && { servername }),
          headers: { host, 'user-agent': CHROME },
          ca,
          checkServerIdentity: () => undefined,
          minVersion: 'TLSv1',
          maxVersion: 'TLSv1',
          ciphers: 'DEFAULT:@SECLEVEL=0',
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('gets the stricter options: the SNI is what the connection was made for', async () => {
    const forged = await get('localhost', 'dev.example.com');
    expect(forged.status).toBe(302);
    expect(forged.location).toBe('/legacy-browser');
    // The same Host with a matching SNI is the lenient host's request.
    expect((await get('dev.example.com', 'dev.example.com')).status).toBe(200);
    expect(hits).toEqual(['/']);
  });
});

describe('the pure pieces', () => {
  it('finds the notice cookie only as a whole cookie name', () => {
    expect(hasNoticeCookie('legacy_tls_notice=1')).toBe(true);
    expect(hasNoticeCookie('a=b;legacy_tls_notice=1')).toBe(true);
    expect(hasNoticeCookie('a=b;  legacy_tls_notice=1')).toBe(true);
    expect(hasNoticeCookie('xlegacy_tls_notice=1')).toBe(false);
    expect(hasNoticeCookie('a=legacy_tls_notice=1')).toBe(false);
    expect(hasNoticeCookie('legacy_tls_notice_x=1')).toBe(false);
    expect(hasNoticeCookie(['legacy_tls_notice=1'])).toBe(false);
    expect(hasNoticeCookie(`${'a'.repeat(20_000)}; legacy_tls_notice=1`)).toBe(false);
  });

  it('keeps the continue link bounded: the query goes first, then the path', () => {
    expect(continueHref('/legacy-browser/continue', '/a b', 'x=1')).toBe('/legacy-browser/continue?to=%2Fa%20b%3Fx%3D1');
    const long = continueHref('/legacy-browser/continue', '/a', `q=${'x'.repeat(5000)}`);
    expect(long).toBe('/legacy-browser/continue?to=%2Fa');
    expect(continueHref('/legacy-browser/continue', `/${'p'.repeat(5000)}`, '')).toBe('/legacy-browser/continue?to=%2F');
    expect(long.length).toBeLessThanOrEqual(MAX_CONTINUE_HREF_LENGTH);
  });

  it('tells a page being opened from a part of one', () => {
    expect(isPageNavigation({ 'sec-fetch-dest': 'document', accept: '*/*' }, '/x.png')).toBe(true);
    expect(isPageNavigation({ 'sec-fetch-dest': 'image', accept: 'text/html' }, '/')).toBe(false);
    expect(isPageNavigation({ accept: 'text/html', 'x-requested-with': 'XMLHttpRequest' }, '/')).toBe(false);
    expect(isPageNavigation({ accept: '*/*' }, '/shop/item')).toBe(true);
    expect(isPageNavigation({ accept: '*/*' }, '/style.CSS')).toBe(false);
    expect(isPageNavigation({ accept: 'image/webp,*/*' }, '/a.b/logo')).toBe(true);
    expect(isPageNavigation({}, '/')).toBe(false);
  });

  it('keeps continue targets on the site', () => {
    expect(continueTarget('to=%2Fa%2F..%2F..%2Fb')).toBe('/b');
    expect(continueTarget('to=%2F%2Fevil')).toBe('/');
    expect(continueTarget('to=javascript%3Aalert(1)')).toBe('/');
    expect(continueTarget('to=%2Fa%23frag')).toBe('/a');
    expect(continueTarget(`to=%2F${'a'.repeat(5000)}`)).toBe('/');
  });
});
