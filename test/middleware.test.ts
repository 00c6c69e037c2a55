/**
 * The middleware's behaviour, checked for Koa and for Express alike: every test below runs once per
 * framework (test/helpers/adapters.ts puts both behind the same harness).
 */
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, renderFallbackPage, type FallbackMode, type Verdict } from '../src/index.js';
import { legacyTlsFallback } from '../src/koa/index.js';
import { legacyTlsFallback as expressFallback } from '../src/express/index.js';
import { ADAPTERS } from './helpers/adapters.js';
import { CHROME, expectAppResponse, expectRedirect, HTML, IE8, NO_STORE, PAGE_TEXT } from './helpers/fallback.js';

// Plain HTTP: the TLS protocol is null, so legacy-ness comes from the user agent (or a trusted header).
const NO_TLS = { protocol: null, cipher: null, servername: null, source: 'none' };

/** A GET written byte for byte, so repeated header lines really arrive as separate lines. Returns the status line. */
function rawGet(port: number, headerLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => resolve(response.split('\r\n', 1)[0] ?? ''));
    socket.on('error', reject);
    socket.end(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...headerLines, '', ''].join('\r\n'));
  });
}

describe.each(ADAPTERS)('$name', (adapter) => {
  const { start } = adapter;
  afterEach(() => adapter.close());

  describe('the verdict on ctx.state.legacyTls', () => {
    it('marks IE 8 legacy by user agent, with the plain-HTTP facts', async () => {
      const site = await start({ mode: 'observe' });
      await site.http.get('/').set('user-agent', IE8).expect(200);
      expect(site.verdicts).toEqual([
        {
          legacy: true,
          reasons: ['user-agent'],
          tls: NO_TLS,
          client: { browser: 'IE', version: '8.0', os: 'Windows XP', bot: false, kind: 'browser' },
        },
      ]);
    });

    it('marks a current Chrome not legacy', async () => {
      const site = await start();
      await site.http.get('/').set('user-agent', CHROME).expect(200);
      expect(site.verdicts).toHaveLength(1);
      expect(site.verdicts[0]).toMatchObject({ legacy: false, reasons: [], tls: NO_TLS, client: { browser: 'Chrome', kind: 'browser' } });
    });

    it('treats a request without a user agent as unknown, not legacy', async () => {
      const site = await start();
      const response = await site.http.get('/').unset('user-agent');
      expectAppResponse(response);
      expect(site.verdicts[0]).toMatchObject({ legacy: false, reasons: [], client: { browser: null, kind: 'unknown' } });
    });

    it.each([
      ['redirected', IE8, '/account'],
      ['passed', CHROME, '/account'],
      ['the fallback page (legacy)', IE8, '/legacy-browser'],
      ['the fallback page (preview)', CHROME, '/legacy-browser'],
      ['an asset below the fallback page', IE8, '/legacy-browser/logo.png'],
      ['an ACME challenge', IE8, '/.well-known/acme-challenge/token'],
      ['an excluded path', IE8, '/api/orders'],
    ])('is set on every request: %s', async (_label, ua, path) => {
      const site = await start({ exclude: ['/api'] });
      await site.http.get(path).set('user-agent', ua);
      expect(site.verdicts).toHaveLength(1);
      expect(site.verdicts[0]).toMatchObject({ legacy: ua === IE8, tls: NO_TLS });
    });

    it('is also set on refused (426) requests', async () => {
      const site = await start();
      await site.http.post('/form').set('user-agent', IE8).expect(426);
      expect(site.verdicts[0]).toMatchObject({ legacy: true, reasons: ['user-agent'] });
    });

    it('follows userAgents overrides: { IE: false } and false turn the IE rule off', async () => {
      for (const userAgents of [{ IE: false as const }, false as const]) {
        const site = await start({ userAgents });
        expectAppResponse(await site.http.get('/').set('user-agent', IE8));
        expect(site.verdicts[0]).toMatchObject({ legacy: false, reasons: [] });
      }
    });

    it('follows userAgents overrides that raise a minimum: { Chrome: 200 } makes Chrome 131 legacy', async () => {
      const site = await start({ userAgents: { Chrome: 200 } });
      expectRedirect(await site.http.get('/').set('user-agent', CHROME));
      expect(site.verdicts[0]).toMatchObject({ legacy: true, reasons: ['user-agent'] });
    });
  });

  describe('redirect mode (the default)', () => {
    it('sends a legacy GET to the fallback page with a 302 that is never cached', async () => {
      const site = await start();
      const response = await site.http.get('/account?tab=orders').set('user-agent', IE8).redirects(0);
      expectRedirect(response);
      expect(response.status).not.toBe(301);
      expect(response.headers['content-type']).toBe(HTML);
      expect(site.hits).toEqual([]);
    });

    it('redirects a legacy HEAD the same way', async () => {
      const site = await start();
      const response = await site.http.head('/account').set('user-agent', IE8).redirects(0);
      expectRedirect(response);
      expect(site.hits).toEqual([]);
    });

    it('lands somewhere: following the redirect gives the fallback page, not another redirect', async () => {
      const site = await start({ page: { organisation: 'Acme & Co' } });
      const first = await site.http.get('/').set('user-agent', IE8).redirects(0);
      expectRedirect(first);
      const second = await site.http.get(first.headers.location!).set('user-agent', IE8).redirects(0);
      expect(second.status).toBe(200);
      expect(second.headers['content-type']).toBe(HTML);
      expect(second.text).toBe(renderFallbackPage({ organisation: 'Acme & Co' }));
      expect(site.hits).toEqual([]);
    });

    it('leaves modern GET, HEAD and POST to the app', async () => {
      const site = await start();
      expectAppResponse(await site.http.get('/account').set('user-agent', CHROME));
      const head = await site.http.head('/account').set('user-agent', CHROME);
      expect(head.status).toBe(200);
      expect(head.headers['x-app']).toBe('yes');
      expectAppResponse(await site.http.post('/account').set('user-agent', CHROME).send({ a: 1 }));
      expect(site.hits).toEqual(['GET /account', 'HEAD /account', 'POST /account']);
    });
  });

  describe.each<FallbackMode>(['redirect', 'render'])('legacy requests with a body, mode %s', (mode) => {
    it.each(['POST', 'PUT', 'DELETE', 'PATCH'] as const)('%s gets 426 Upgrade Required, never a redirect, and never reaches the app', async (method) => {
      const site = await start({ mode });
      const response = await site.http[method.toLowerCase() as 'post' | 'put' | 'delete' | 'patch']('/pay')
        .set('user-agent', IE8)
        .set('accept', 'text/html')
        .type('form')
        .send('amount=100')
        .redirects(0);
      expect(response.status).toBe(426);
      expect(response.headers.upgrade).toBe('TLS/1.2');
      expect(response.headers.location).toBeUndefined();
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(site.hits).toEqual([]);
    });

    it.each([
      ['text/html', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
      ["IE's */*", '*/*'],
      ["IE's image list", 'image/gif, image/jpeg, image/pjpeg, application/x-ms-application, */*'],
      ['no Accept at all', undefined],
      ['JSON and HTML both', 'application/json, text/html'],
    ])('answers the 426 with the HTML page for %s', async (_label, accept) => {
      const site = await start({ mode, page: { organisation: 'Acme' } });
      const req = site.http.post('/pay').set('user-agent', IE8);
      if (accept !== undefined) req.set('accept', accept);
      else req.unset('accept');
      const response = await req;
      expect(response.status).toBe(426);
      expect(response.headers['content-type']).toBe(HTML);
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      expect(response.text).toBe(renderFallbackPage({ organisation: 'Acme' }));
      expect(Buffer.byteLength(response.text)).toBeGreaterThan(512);
    });

    it.each(['application/json', 'application/problem+json', 'application/json, text/plain, */*'])('answers the 426 with small JSON for Accept: %s', async (accept) => {
      const site = await start({ mode });
      const response = await site.http.post('/api-less/pay').set('user-agent', IE8).set('accept', accept);
      expect(response.status).toBe(426);
      expect(response.headers.upgrade).toBe('TLS/1.2');
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(response.text)).toEqual({ error: 'upgrade_required', message: expect.stringContaining('TLS 1.2'), fallback: '/legacy-browser' });
    });
  });

  describe('render mode', () => {
    it.each(['/', '/account', '/deep/path?q=1'])('serves the fallback page in place for a legacy GET %s', async (path) => {
      const site = await start({ mode: 'render', page: { organisation: 'Acme' } });
      const response = await site.http.get(path).set('user-agent', IE8).redirects(0);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe(HTML);
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(response.headers.location).toBeUndefined();
      expect(response.text).toBe(renderFallbackPage({ organisation: 'Acme' }));
      expect(site.hits).toEqual([]);
    });

    it('answers a legacy HEAD with the page headers and no body', async () => {
      const site = await start({ mode: 'render' });
      const response = await site.http.head('/account').set('user-agent', IE8);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe(HTML);
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(response.text ?? '').toBe('');
      expect(site.hits).toEqual([]);
    });

    it('leaves modern clients to the app', async () => {
      const site = await start({ mode: 'render' });
      expectAppResponse(await site.http.get('/account').set('user-agent', CHROME));
    });
  });

  describe('observe mode', () => {
    it.each(['GET', 'HEAD', 'POST', 'DELETE'] as const)('never changes the response to a legacy %s, but sets the verdict and calls onLegacy', async (method) => {
      const calls: [unknown, Verdict][] = [];
      const site = await start({ mode: 'observe', onLegacy: (context, verdict) => void calls.push([context, verdict]) });
      const response = await site.http[method.toLowerCase() as 'get' | 'head' | 'post' | 'delete']('/account').set('user-agent', IE8).redirects(0);
      expect(response.status).toBe(200);
      expect(response.headers['x-app']).toBe('yes');
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(response.headers['cache-control']).toBeUndefined();
      expect(response.headers.upgrade).toBeUndefined();
      if (method !== 'HEAD') expect(response.text).toBe('the site');
      expect(site.hits).toEqual([`${method} /account`]);
      expect(site.verdicts[0]).toMatchObject({ legacy: true, reasons: ['user-agent'] });
      expect(calls).toHaveLength(1);
      expect(calls[0]![1]).toBe(site.verdicts[0]);
      expect(adapter.path(calls[0]![0])).toBe('/account');
    });

    it('does not call onLegacy for modern clients', async () => {
      const calls: Verdict[] = [];
      const site = await start({ mode: 'observe', onLegacy: (_ctx, verdict) => void calls.push(verdict) });
      expectAppResponse(await site.http.get('/').set('user-agent', CHROME));
      expect(calls).toEqual([]);
    });
  });

  describe('the fallback page is served to anyone', () => {
    const cases = (['redirect', 'render', 'observe'] as const).flatMap((mode) =>
      [['IE 8', IE8], ['Chrome', CHROME]].flatMap(([who, ua]) =>
        (['GET', 'HEAD'] as const).flatMap((method) =>
          ['/legacy-browser', '/legacy-browser/', '/legacy-browser?from=%2Faccount'].map((path) => ({ mode, who: who!, ua: ua!, method, path })),
        ),
      ),
    );

    it.each(cases)('$mode: $who $method $path', async ({ mode, ua, method, path }) => {
      const site = await start({ mode, page: { organisation: 'Acme' } });
      const response = await site.http[method === 'GET' ? 'get' : 'head'](path).set('user-agent', ua).redirects(0);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe(HTML);
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(response.headers['content-length']).toBe(String(Buffer.byteLength(renderFallbackPage({ organisation: 'Acme' }))));
      if (method === 'GET') expect(response.text).toBe(renderFallbackPage({ organisation: 'Acme' }));
      expect(site.hits).toEqual([]);
    });

    it('serves it at a custom fallbackPath, and the default path is then an ordinary page', async () => {
      const site = await start({ fallbackPath: '/old-browser' });
      expectRedirect(await site.http.get('/').set('user-agent', IE8).redirects(0), '/old-browser');
      const page = await site.http.get('/old-browser').set('user-agent', IE8);
      expect(page.status).toBe(200);
      expect(page.text).toContain(PAGE_TEXT);
      expectRedirect(await site.http.get('/legacy-browser').set('user-agent', IE8).redirects(0), '/old-browser');
    });

    it('does not stretch to paths that merely start with the same letters', async () => {
      const site = await start();
      expectRedirect(await site.http.get('/legacy-browserx').set('user-agent', IE8).redirects(0));
      expectAppResponse(await site.http.get('/legacy-browserx').set('user-agent', CHROME));
    });
  });

  describe('never redirected (no loops)', () => {
    it('serves a custom fallbackPath that sits under an excluded prefix', async () => {
      const site = await start({ exclude: ['/help'], fallbackPath: '/help/old-browser' });
      const first = await site.http.get('/shop').set('user-agent', IE8).redirects(0);
      expectRedirect(first, '/help/old-browser');
      const page = await site.http.get('/help/old-browser').set('user-agent', IE8).redirects(0);
      expect(page.status).toBe(200);
      expect(page.text).toContain(PAGE_TEXT);
      expectAppResponse(await site.http.get('/help/faq').set('user-agent', IE8).redirects(0));
      expect(site.hits).toEqual(['GET /help/faq']);
    });

    it('normalises a fallbackPath given with a trailing slash', async () => {
      const site = await start({ fallbackPath: '/old-browser/' });
      expectRedirect(await site.http.get('/').set('user-agent', IE8).redirects(0), '/old-browser');
      for (const path of ['/old-browser', '/old-browser/']) {
        const page = await site.http.get(path).set('user-agent', IE8).redirects(0);
        expect(page.status).toBe(200);
        expect(page.text).toContain(PAGE_TEXT);
      }
    });

    it('serves a percent-encoded fallbackPath at the path browsers actually request', async () => {
      const site = await start({ fallbackPath: '/%C3%A4ltere-browser' });
      const first = await site.http.get('/').set('user-agent', IE8).redirects(0);
      expectRedirect(first, '/%C3%A4ltere-browser');
      const page = await site.http.get(first.headers.location!).set('user-agent', IE8).redirects(0);
      expect(page.status).toBe(200);
    });

    it.each<FallbackMode>(['redirect', 'render'])('passes assets below the fallback page to the app (%s)', async (mode) => {
      const site = await start({ mode });
      expectAppResponse(await site.http.get('/legacy-browser/logo.png').set('user-agent', IE8).redirects(0));
      expectAppResponse(await site.http.get('/legacy-browser/css/site.css').set('user-agent', IE8).redirects(0));
      expect(site.hits).toEqual(['GET /legacy-browser/logo.png', 'GET /legacy-browser/css/site.css']);
    });

    it('passes ACME challenges to the app, but not the rest of /.well-known/', async () => {
      const site = await start();
      expectAppResponse(await site.http.get('/.well-known/acme-challenge/token').set('user-agent', IE8).redirects(0));
      expectRedirect(await site.http.get('/.well-known/security.txt').set('user-agent', IE8).redirects(0));
    });

    it.each([['/api'], ['/api/']])('matches exclude prefix %s by path segment', async (prefix) => {
      const site = await start({ exclude: [prefix] });
      expectAppResponse(await site.http.get('/api').set('user-agent', IE8).redirects(0));
      expectAppResponse(await site.http.get('/api/').set('user-agent', IE8).redirects(0));
      expectAppResponse(await site.http.get('/api/x/y?z=1').set('user-agent', IE8).redirects(0));
      expectRedirect(await site.http.get('/apix').set('user-agent', IE8).redirects(0));
      expectRedirect(await site.http.get('/ap').set('user-agent', IE8).redirects(0));
    });

    it('excludes any method on an excluded path (no 426 there)', async () => {
      const site = await start({ exclude: ['/api'] });
      expectAppResponse(await site.http.post('/api/hook').set('user-agent', IE8).send({ a: 1 }));
    });

    it.each([/^\/static\//g, /^\/static\//y, /^\/static\//gi])('uses exclude RegExp %s statelessly on consecutive requests', async (rule) => {
      const site = await start({ exclude: [rule] });
      for (let i = 0; i < 4; i++) {
        expectAppResponse(await site.http.get('/static/app.css').set('user-agent', IE8).redirects(0));
      }
      expectRedirect(await site.http.get('/dynamic').set('user-agent', IE8).redirects(0));
      expect(site.hits).toHaveLength(4);
      expect(rule.lastIndex).toBe(0);
    });

    it("leaves a request alone when skip returns true, and gives it the framework's own context", async () => {
      const seen: string[] = [];
      const site = await start({
        skip: (context) => {
          seen.push(adapter.path(context));
          return adapter.header(context, 'x-monitor') === '1';
        },
      });
      expectAppResponse(await site.http.get('/status').set('user-agent', IE8).set('x-monitor', '1').redirects(0));
      expectRedirect(await site.http.get('/status').set('user-agent', IE8).redirects(0));
      expect(seen).toEqual(['/status', '/status']);
      expect(site.verdicts.every((v) => v?.legacy === true)).toBe(true);
    });

    it('answers 500, not a redirect, when skip throws', async () => {
      const site = await start({ skip: () => { throw new Error('skip broke'); } });
      const response = await site.http.get('/').set('user-agent', IE8).redirects(0);
      expect(response.status).toBe(500);
      expect(site.errors.map((e) => e.message)).toEqual(['skip broke']);
    });
  });

  describe('fallbackUrl', () => {
    it('becomes the redirect target and the 426 JSON fallback', async () => {
      const site = await start({ fallbackUrl: 'https://help.example.org/old-browser' });
      expectRedirect(await site.http.get('/account').set('user-agent', IE8).redirects(0), 'https://help.example.org/old-browser');
      const refused = await site.http.post('/account').set('user-agent', IE8).set('accept', 'application/json');
      expect(refused.status).toBe(426);
      expect(JSON.parse(refused.text)).toMatchObject({ fallback: 'https://help.example.org/old-browser' });
    });

    it('never redirects its own path when serverNames says it is on this site', async () => {
      const site = await start({ fallbackUrl: 'https://www.example.com/old-browser', serverNames: ['www.example.com'] });
      for (const [host, path] of [
        ['www.example.com', '/old-browser'],
        ['www.example.com', '/old-browser/'],
        ['www.example.com', '/old-browser/logo.png'],
        ['WWW.Example.COM', '/old-browser'],
      ] as const) {
        expectAppResponse(await site.http.get(path).set('host', host).set('user-agent', IE8).redirects(0));
      }
      expectRedirect(await site.http.get('/account').set('host', 'www.example.com').set('user-agent', IE8).redirects(0), 'https://www.example.com/old-browser');
      expectRedirect(await site.http.get('/old-browserx').set('host', 'www.example.com').set('user-agent', IE8).redirects(0), 'https://www.example.com/old-browser');
      expectRedirect(await site.http.get('/old-browser/../account').set('host', 'www.example.com').set('user-agent', IE8).redirects(0), 'https://www.example.com/old-browser');
    });

    it('matches serverNames wildcards by one label, as certificates do', async () => {
      const site = await start({ fallbackUrl: 'https://help.example.com/old-browser', serverNames: ['*.example.com'] });
      expectAppResponse(await site.http.get('/old-browser').set('user-agent', IE8).redirects(0));
      const other = await start({ fallbackUrl: 'https://a.help.example.com/old-browser', serverNames: ['*.example.com'] });
      expectRedirect(await other.http.get('/old-browser').set('user-agent', IE8).redirects(0), 'https://a.help.example.com/old-browser');
    });

    it('never believes the Host header: a legacy client naming the fallback host is still redirected (issue 10, item 3)', async () => {
      const site = await start({ fallbackUrl: 'https://help.example.org/' });
      for (const path of ['/', '/account', '/admin', '/old-browser']) {
        expectRedirect(await site.http.get(path).set('host', 'help.example.org').set('user-agent', IE8).redirects(0), 'https://help.example.org/');
        const post = await site.http.post(path).set('host', 'help.example.org').set('user-agent', IE8).send('x=1');
        expect(post.status).toBe(426);
      }
      expect(site.hits).toEqual([]);
    });

    it('refuses a fallbackUrl at the root of a host this server answers for: nothing would ever be redirected', () => {
      expect(() => legacyTlsFallback({ fallbackUrl: 'https://help.example.org/', serverNames: ['help.example.org'] })).toThrow(/fallbackUrl.*root of help\.example\.org/);
      expect(() => legacyTlsFallback({ serverNames: ['https://www.example.com/'] })).toThrow(/serverNames\[0\]/);
    });
  });

  describe('the page option', () => {
    it('calls a page function with the verdict for legacy clients and null for a preview', async () => {
      const calls: (Verdict | null)[] = [];
      const page = (verdict: Verdict | null): string => {
        calls.push(verdict);
        return `<!DOCTYPE html><title>Old</title><p>custom page for ${verdict ? verdict.client.browser : 'preview'}</p>`;
      };
      const site = await start({ mode: 'render', page });

      const rendered = await site.http.get('/account').set('user-agent', IE8);
      expect(rendered.status).toBe(200);
      expect(rendered.headers['content-type']).toBe(HTML);
      expect(rendered.text).toBe('<!DOCTYPE html><title>Old</title><p>custom page for IE</p>');

      const preview = await site.http.get('/legacy-browser').set('user-agent', CHROME);
      expect(preview.text).toBe('<!DOCTYPE html><title>Old</title><p>custom page for preview</p>');

      const refused = await site.http.post('/account').set('user-agent', IE8).set('accept', 'text/html');
      expect(refused.status).toBe(426);
      expect(refused.text).toContain('custom page for IE');

      expect(calls).toHaveLength(3);
      expect(calls[0]).toBe(site.verdicts[0]);
      expect(calls[1]).toBeNull();
      expect(calls[2]).toMatchObject({ legacy: true });
    });

    it('answers 500 when the page function returns something other than a string', async () => {
      const site = await start({ mode: 'render', page: (() => 42) as unknown as () => string });
      const response = await site.http.get('/').set('user-agent', IE8);
      expect(response.status).toBe(500);
      expect(site.errors[0]?.message).toMatch(/page.*returned number/);
    });
  });

  describe('onLegacy', () => {
    it.each<FallbackMode>(['redirect', 'render', 'observe'])('is awaited before the response is decided (%s)', async (mode) => {
      const order: string[] = [];
      const site = await start({
        mode,
        onLegacy: async (context, verdict) => {
          order.push('onLegacy:start');
          await delay(30);
          adapter.setHeader(context, 'x-on-legacy', verdict.reasons.join(','));
          order.push('onLegacy:end');
        },
      });
      const response = await site.http.get('/account').set('user-agent', IE8).redirects(0);
      expect(response.headers['x-on-legacy']).toBe('user-agent');
      expect(response.status).toBe(mode === 'redirect' ? 302 : 200);
      expect(order).toEqual(['onLegacy:start', 'onLegacy:end']);
      if (mode === 'observe') expect(site.hits).toEqual(['GET /account']);
    });

    it("gets the same verdict object as the framework keeps (ctx.state / res.locals), once per legacy request", async () => {
      const calls: [string, Verdict][] = [];
      const site = await start({
        onLegacy: (context, verdict) => {
          expect(adapter.verdictOf(context)).toBe(verdict);
          calls.push([adapter.path(context), verdict]);
        },
      });
      await site.http.get('/a').set('user-agent', IE8).redirects(0);
      await site.http.get('/b').set('user-agent', CHROME).redirects(0);
      await site.http.post('/c').set('user-agent', IE8).redirects(0);
      expect(calls.map(([path]) => path)).toEqual(['/a', '/c']);
      expect(calls[0]![1]).toBe(site.verdicts[0]);
      expect(calls[1]![1]).toBe(site.verdicts[2]);
    });

    it('turns a rejection into a 500, not a redirect', async () => {
      const site = await start({ onLegacy: async () => Promise.reject(new Error('analytics down')) });
      const response = await site.http.get('/').set('user-agent', IE8).redirects(0);
      expect(response.status).toBe(500);
      expect(response.headers.location).toBeUndefined();
      expect(site.errors.map((e) => e.message)).toEqual(['analytics down']);
    });
  });

  describe('trustedHeader and trustedProxies', () => {
    const tlsHeader = (trustedProxies: string[], trustedHeader = 'x-tls-protocol') => ({ trustedHeader, trustedProxies });

    it.each([['loopback'], ['127.0.0.1'], ['127.0.0.0/8']])('believes the header from a trusted peer (%s): TLSv1 makes a modern UA legacy', async (entry) => {
      const site = await start(tlsHeader([entry]));
      expectRedirect(await site.http.get('/account').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1').redirects(0));
      expect(site.verdicts[0]).toEqual({
        legacy: true,
        reasons: ['tls-version'],
        tls: { protocol: 'TLSv1', cipher: null, servername: null, source: 'header' },
        client: expect.objectContaining({ browser: 'Chrome' }),
      });
    });

    it('keeps both reasons when both apply', async () => {
      const site = await start(tlsHeader(['loopback']));
      await site.http.get('/').set('user-agent', IE8).set('x-tls-protocol', 'TLSv1.1').redirects(0);
      expect(site.verdicts[0]).toMatchObject({ legacy: true, reasons: ['tls-version', 'user-agent'] });
    });

    it.each([
      ['TLSv1', 'TLSv1', true],
      ['TLSv1.0', 'TLSv1', true],
      ['tlsv1.1', 'TLSv1.1', true],
      ['TLS1.1', 'TLSv1.1', true],
      ['TLSv1.2', 'TLSv1.2', false],
      ['TLSv1.3', 'TLSv1.3', false],
    ] as const)('reads %s as %s', async (value, protocol, legacy) => {
      const site = await start(tlsHeader(['loopback']));
      const response = await site.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', value).redirects(0);
      expect(response.status).toBe(legacy ? 302 : 200);
      expect(site.verdicts[0]).toMatchObject({ legacy, tls: { protocol, source: 'header' } });
    });

    it('reads a header name given in any case', async () => {
      const site = await start(tlsHeader(['loopback'], 'X-TLS-Protocol'));
      expectRedirect(await site.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1').redirects(0));
    });

    it('follows legacyProtocols: with [\'TLSv1\'] only, TLSv1.1 is not legacy', async () => {
      const site = await start({ ...tlsHeader(['loopback']), legacyProtocols: ['TLSv1'] });
      expectAppResponse(await site.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1.1').redirects(0));
      expectRedirect(await site.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1').redirects(0));
    });

    it('ignores the header from a peer outside trustedProxies', async () => {
      const site = await start(tlsHeader(['10.0.0.0/8']));
      expectAppResponse(await site.http.get('/account').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1').redirects(0));
      expect(site.verdicts[0]).toMatchObject({ legacy: false, reasons: [], tls: NO_TLS });
    });

    it('uses the socket facts when a trusted peer sends no header', async () => {
      const site = await start(tlsHeader(['loopback']));
      expectAppResponse(await site.http.get('/').set('user-agent', CHROME));
      expect(site.verdicts[0]).toMatchObject({ legacy: false, tls: NO_TLS });
    });

    it('ignores a header other than the configured one', async () => {
      const site = await start(tlsHeader(['loopback']));
      expectAppResponse(await site.http.get('/').set('user-agent', CHROME).set('x-amzn-tls-version', 'TLSv1'));
      expect(site.verdicts[0]).toMatchObject({ legacy: false, tls: { source: 'none' } });
    });

    it.each([
      ['TLSv1.3:TLS_AES_128_GCM_SHA256:fullHandshake', 'TLSv1.3', 'TLS_AES_128_GCM_SHA256', false],
      ['TLSv1.2:ECDHE-RSA-AES128-GCM-SHA256:sessionResumed', 'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', false],
      ['TLSv1:ECDHE-RSA-AES128-SHA:fullHandshake', 'TLSv1', 'ECDHE-RSA-AES128-SHA', true],
    ] as const)('parses CloudFront-Viewer-TLS %s', async (value, protocol, cipher, legacy) => {
      const site = await start(tlsHeader(['loopback'], 'cloudfront-viewer-tls'));
      const response = await site.http.get('/').set('user-agent', CHROME).set('cloudfront-viewer-tls', value).redirects(0);
      expect(response.status).toBe(legacy ? 302 : 200);
      expect(site.verdicts[0]).toMatchObject({ legacy, tls: { protocol, cipher, source: 'header' } });
    });

    it.each([
      ['none', 'none'],
      ['SSLv3', 'SSLv3'],
      ['garbage', 'x\'; DROP TABLE tls; --'],
      ['TLSv1.4', 'TLSv1.4'],
      ['an empty version before a cipher', ':TLS_AES_128_GCM_SHA256:fullHandshake'],
      ['10 KB of junk', 'x'.repeat(10 * 1024)],
      ['a 10 KB CloudFront-style value that starts like TLSv1', `TLSv1:${'A'.repeat(10 * 1024)}`],
      ['TLSv1 followed by a 10 KB second value', `TLSv1, ${'x'.repeat(10 * 1024)}`],
    ])('treats %s as legacy (fail closed), without crashing', async (_label, value) => {
      const site = await start(tlsHeader(['loopback']));
      expectRedirect(await site.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', value).redirects(0));
      expect(site.verdicts[0]).toMatchObject({ legacy: true, reasons: ['tls-version'], tls: { protocol: null, source: 'header' } });
      expect(site.verdicts[0]!.tls.cipher === null || /^[A-Za-z0-9_-]+$/.test(site.verdicts[0]!.tls.cipher)).toBe(true);
      expect(site.errors).toEqual([]);
    });

    it('keeps the protocol but drops a cipher that is not a cipher name', async () => {
      const site = await start(tlsHeader(['loopback'], 'cloudfront-viewer-tls'));
      expectAppResponse(await site.http.get('/').set('user-agent', CHROME).set('cloudfront-viewer-tls', 'TLSv1.3:<script>:x').redirects(0));
      expect(site.verdicts[0]).toMatchObject({ legacy: false, tls: { protocol: 'TLSv1.3', cipher: null, source: 'header' } });
    });

    it('treats repeated header lines that disagree as legacy: a proxy that appends must not let a client past', async () => {
      const site = await start(tlsHeader(['loopback']));
      expect(await rawGet(site.port, [`User-Agent: ${CHROME}`, 'X-TLS-Protocol: TLSv1', 'X-TLS-Protocol: TLSv1.3'])).toBe('HTTP/1.1 302 Found');
      expect(await rawGet(site.port, [`User-Agent: ${CHROME}`, 'X-TLS-Protocol: TLSv1.3', 'x-tls-protocol: TLSv1'])).toBe('HTTP/1.1 302 Found');
      expectRedirect(await site.http.get('/').set('user-agent', CHROME).set('x-tls-protocol', 'TLSv1.2, TLSv1').redirects(0));
      expect(site.verdicts).toHaveLength(3);
      for (const verdict of site.verdicts) expect(verdict).toMatchObject({ legacy: true, reasons: ['tls-version'], tls: { protocol: null, source: 'header' } });
    });

    it('believes repeated header lines that agree', async () => {
      const site = await start(tlsHeader(['loopback']));
      expect(await rawGet(site.port, [`User-Agent: ${CHROME}`, 'X-TLS-Protocol: TLSv1', 'X-TLS-Protocol: TLSv1'])).toBe('HTTP/1.1 302 Found');
      expect(site.verdicts[0]).toMatchObject({ legacy: true, tls: { protocol: 'TLSv1', source: 'header' } });
    });
  });
});

describe('option validation', () => {
  it('validates the same way for Express, at creation', () => {
    expect(() => expressFallback({ mode: 'redirekt' as FallbackMode })).toThrow(InvalidOptionError);
    expect(() => expressFallback({ fallbackpath: '/x' } as never)).toThrow(/did you mean `fallbackPath`/);
    expect(() => expressFallback({ trustedHeader: 'x-tls-protocol' })).toThrow(/`trustedProxies` is missing/);
  });

  function optionError(options: unknown): InvalidOptionError {
    try {
      legacyTlsFallback(options as Parameters<typeof legacyTlsFallback>[0]);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).code).toBe('ERR_LEGACY_TLS_OPTION');
      return error as InvalidOptionError;
    }
    throw new Error(`legacyTlsFallback(${JSON.stringify(options)}) did not throw`);
  }

  it('shows the option, the bad value and the valid ones', () => {
    const error = optionError({ mode: 'redirekt' });
    expect(error.option).toBe('mode');
    expect(error.message).toBe("legacy-tls-fallback: option `mode` is \"redirekt\"; expected one of 'redirect', 'render', 'observe' (did you mean 'redirect'?).");
  });

  it.each([
    ['mode', 'mode', 'redirekt'],
    ['mode', 'mode', 42],
    ['fallbackPath', 'fallbackPath', 'legacy'],
    ['fallbackPath', 'fallbackPath', '//evil.com'],
    ['fallbackPath', 'fallbackPath', '/\\evil.com'],
    ['fallbackPath', 'fallbackPath', '/x?y'],
    ['fallbackPath', 'fallbackPath', '/x#y'],
    ['fallbackPath', 'fallbackPath', '/'],
    ['fallbackPath', 'fallbackPath', '/with space'],
    ['fallbackPath', 'fallbackPath', '/x\r\nSet-Cookie: a=b'],
    ['fallbackPath', 'fallbackPath', '/ältere-browser'],
    ['fallbackPath', 'fallbackPath', '/help/../old-browser'],
    ['fallbackUrl', 'fallbackUrl', 'javascript:alert(1)'],
    ['fallbackUrl', 'fallbackUrl', 'ftp://x'],
    ['fallbackUrl', 'fallbackUrl', '/old-browser'],
    ['fallbackUrl', 'fallbackUrl', 'old-browser'],
    ['exclude', 'exclude[0]', ['api']],
    ['exclude', 'exclude', 'api'],
    ['exclude', 'exclude[1]', ['/ok', 42]],
    ['page', 'page.email', { email: 'not an email' }],
    ['page', 'page.phone', { phone: '<script>' }],
    ['page', 'page.lang', { lang: 'en"><script>' }],
    ['page', 'page.organisation', { organisation: 42 }],
    ['page', 'page', 'Acme'],
    ['userAgents', 'userAgents.Chrome', { Chrome: 'abc' }],
    ['userAgents', 'userAgents.Chrome', { Chrome: -1 }],
    ['trustedProxies', 'trustedProxies[0]', ['999.1.1.1']],
    ['trustedProxies', 'trustedProxies[0]', ['10.0.0.0/33']],
    ['trustedProxies', 'trustedProxies', '127.0.0.1'],
    ['trustedHeader', 'trustedHeader', 'x tls'],
    ['legacyProtocols', 'legacyProtocols[0]', ['SSLv3']],
    ['legacyProtocols', 'legacyProtocols', 'TLSv1'],
    ['skip', 'skip', true],
    ['onLegacy', 'onLegacy', 'log'],
  ])('%s → `%s` = %j', (key, option, value) => {
    const shown = (v: unknown) => JSON.stringify(v);
    const error = optionError({ [key]: value, ...(key === 'trustedHeader' && { trustedProxies: ['loopback'] }), ...(key === 'trustedProxies' && { trustedHeader: 'x-tls-protocol' }) });
    expect(error.option).toBe(option);
    expect(error.message).toContain(`option \`${option}\``);
    // The value the option actually got: the whole value, or the offending entry.
    const offending = option === key ? value : (option.match(/\[(\d+)\]$/) ? (value as unknown[])[Number(option.match(/\[(\d+)\]$/)![1])] : (value as Record<string, unknown>)[option.split('.')[1]!]);
    expect(error.message).toContain(shown(offending));
    expect(error.message).toMatch(/expected|did you mean|browsers request it as|use an IP/);
  });

  it('never echoes the credentials of a fallbackUrl into the error message', () => {
    const error = optionError({ fallbackUrl: 'https://user:s3cret@help.example.com/' });
    expect(error.option).toBe('fallbackUrl');
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toContain('without credentials');
  });

  it('names the canonical spelling of a fallbackPath browsers would request differently', () => {
    expect(optionError({ fallbackPath: '/ältere-browser' }).message).toContain("'/%C3%A4ltere-browser'");
    expect(optionError({ fallbackPath: '/help/../old-browser' }).message).toContain("'/old-browser'");
  });

  it('catches a misspelt option name: fallbackpath → did you mean `fallbackPath`', () => {
    const error = optionError({ fallbackpath: '/old-browser' });
    expect(error.option).toBe('fallbackpath');
    expect(error.message).toBe('legacy-tls-fallback: `fallbackpath` is not an option here; did you mean `fallbackPath`?');
  });

  it('catches a misspelt browser family: userAgents { Chrom: 30 } → did you mean `Chrome`', () => {
    const error = optionError({ userAgents: { Chrom: 30 } });
    expect(error.option).toBe('userAgents.Chrom');
    expect(error.message).toContain('did you mean `Chrome`?');
  });

  it('refuses trustedHeader without trustedProxies, and says why', () => {
    for (const trustedProxies of [undefined, []]) {
      const error = optionError({ trustedHeader: 'x-tls-protocol', ...(trustedProxies && { trustedProxies }) });
      expect(error.option).toBe('trustedProxies');
      expect(error.message).toContain('`trustedHeader`');
      expect(error.message).toContain(trustedProxies ? 'is []' : 'is missing');
    }
  });

  it('refuses a non-object', () => {
    expect(optionError('redirect').option).toBe('options');
    expect(optionError(null).option).toBe('options');
  });

  it('accepts every valid option at once', () => {
    expect(() =>
      legacyTlsFallback({
        mode: 'render',
        fallbackPath: '/help/old-browser/',
        fallbackUrl: 'https://help.example.org/old',
        legacyProtocols: ['TLSv1'],
        userAgents: { Chrome: 40, 'Android Browser': '4.4', IE: false },
        exclude: ['/api', /^\/static\//],
        skip: () => false,
        page: { organisation: 'Acme', email: 'help@example.com', phone: '+44 20 7946 0000', address: 'a\nb', hours: '9-5', message: 'hi', lang: 'fr-CA' },
        onLegacy: () => undefined,
        trustedHeader: 'cloudfront-viewer-tls',
        trustedProxies: ['loopback', 'private', '10.1.2.3', '2001:db8::/32'],
      }),
    ).not.toThrow();
  });
});
