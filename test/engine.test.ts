/**
 * The engine's decisions as plain function calls: no server, no framework. A request is the few fields
 * the engine reads (method, headers, the socket's peer); legacy-ness comes from the user agent, or from a
 * trusted proxy's header, so that no TLS state is faked.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FallbackEngine, type Outcome } from '../src/fallback/engine.js';
import { resolveFallbackOptions, type FallbackOptions } from '../src/fallback/options.js';
import type { RequestRecord, StatsRecorder } from '../src/stats/types.js';
import type { FallbackMode } from '../src/types.js';
import { CHROME, IE8 } from './helpers/fallback.js';

const XP_IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';

function fakeRequest(method: string, url: string, headers: Record<string, string> = {}, peer = '192.0.2.10'): IncomingMessage {
  return { method, url, headers: { host: 'www.example.com', ...headers }, socket: { remoteAddress: peer } } as unknown as IncomingMessage;
}

function engine(options: FallbackOptions<unknown> = {}, settings: ConstructorParameters<typeof FallbackEngine>[1] = {}) {
  const recorded: RequestRecord[] = [];
  const stats = { recordRequest: (r: RequestRecord) => void recorded.push(r), recordHandshake: () => undefined, recordHandshakeFailure: () => undefined, recordUpstreamError: () => undefined } satisfies StatsRecorder;
  return { engine: new FallbackEngine(resolveFallbackOptions({ ...options, stats }), settings), recorded };
}

function decide(options: FallbackOptions<unknown>, method: string, path: string, ua: string, settings = {}): Outcome {
  const { engine: e } = engine(options, settings);
  const outcome = e.handle(fakeRequest(method, path, { 'user-agent': ua }), path.split('?')[0]!, undefined);
  if (outcome instanceof Promise) throw new Error('no hook, no promise');
  return outcome;
}

describe('FallbackEngine.handle: what each request gets', () => {
  // [mode, method, path, legacy?, action, status (undefined: passed on), path passed on]
  const table: [FallbackMode, string, string, boolean, Outcome['action'], number | undefined, string | undefined][] = [
    ['redirect', 'GET', '/account', true, 'redirected', 302, undefined],
    ['redirect', 'HEAD', '/account', true, 'redirected', 302, undefined],
    ['redirect', 'POST', '/account', true, 'refused', 426, undefined],
    ['redirect', 'GET', '/account', false, 'passed', undefined, '/account'],
    ['redirect', 'POST', '/account', false, 'passed', undefined, '/account'],
    ['render', 'GET', '/account', true, 'rendered', 200, undefined],
    ['render', 'DELETE', '/account', true, 'refused', 426, undefined],
    ['observe', 'GET', '/account', true, 'observed', undefined, '/account'],
    ['observe', 'POST', '/account', true, 'observed', undefined, '/account'],
    // The page itself, to anyone; its assets to legacy clients, GET/HEAD only.
    // The fallback page and its assets are the page's own views (`page`), counted apart from the site's.
    ['redirect', 'GET', '/legacy-browser', true, 'page', 200, undefined],
    ['redirect', 'GET', '/legacy-browser/', false, 'page', 200, undefined],
    ['redirect', 'GET', '/legacy-browser/logo.png', true, 'page', undefined, '/legacy-browser/logo.png'],
    ['redirect', 'GET', '/legacy-browser//css/./a.css', true, 'page', undefined, '/legacy-browser/css/a.css'],
    ['redirect', 'POST', '/legacy-browser/form', true, 'refused', 426, undefined],
    ['redirect', 'POST', '/legacy-browser', true, 'refused', 426, undefined],
    // One ACME token, GET/HEAD only.
    ['redirect', 'GET', '/.well-known/acme-challenge/Tok3n_-x', true, 'excluded', undefined, '/.well-known/acme-challenge/Tok3n_-x'],
    ['redirect', 'POST', '/.well-known/acme-challenge/Tok3n_-x', true, 'refused', 426, undefined],
    ['redirect', 'GET', '/.well-known/acme-challenge/a/b', true, 'redirected', 302, undefined],
    // Traversals are decided on the normalised path.
    ['redirect', 'GET', '/legacy-browser/../account', true, 'redirected', 302, undefined],
    ['redirect', 'GET', '/legacy-browser/%2e%2e%2faccount', true, 'redirected', 302, undefined],
    ['redirect', 'GET', '/legacy-browser/..;/account', true, 'redirected', 302, undefined],
    ['redirect', 'GET', '/shop//item/../42', false, 'passed', undefined, '/shop/42'],
    // What cannot be normalised: legacy clients get 400; modern ones are the app's business (middleware).
    ['redirect', 'GET', '/a%zz', true, 'rejected', 400, undefined],
    ['redirect', 'GET', '/a%00', true, 'rejected', 400, undefined],
    ['redirect', 'GET', '/a%zz', false, 'passed', undefined, undefined],
  ];

  it.each(table)('%s %s %s (legacy %s) → %s %s', (mode, method, path, legacy, action, status, passedPath) => {
    const outcome = decide({ mode }, method, path, legacy ? IE8 : CHROME);
    expect(outcome.verdict.legacy).toBe(legacy);
    expect(outcome.action).toBe(action);
    expect(outcome.response?.status).toBe(status);
    expect(outcome.path).toBe(passedPath);
  });

  it('rejects an unreadable path for everyone when the caller must forward a path (the proxy)', () => {
    const outcome = decide({}, 'GET', '/a%zz', CHROME, { rejectUnreadablePaths: true });
    expect(outcome).toMatchObject({ action: 'rejected', response: { status: 400 } });
  });

  it('excludes prefixes and RegExps on both readings of the path, any method', () => {
    const options = { exclude: ['/api', /^\/static\//] };
    expect(decide(options, 'POST', '/api/pay', IE8)).toMatchObject({ action: 'excluded', path: '/api/pay' });
    expect(decide(options, 'GET', '/static/a.js', IE8)).toMatchObject({ action: 'excluded' });
    expect(decide(options, 'GET', '/api/../account', IE8)).toMatchObject({ action: 'redirected' });
    expect(decide(options, 'GET', '/api/..%2faccount', IE8)).toMatchObject({ action: 'redirected' });
    expect(decide(options, 'GET', '/apix', IE8)).toMatchObject({ action: 'redirected' });
  });

  it('counts every outcome once, with the peer address and the user agent, and never the rejected path twice', () => {
    const { engine: e, recorded } = engine();
    for (const path of ['/', '/legacy-browser', '/a%zz']) void e.handle(fakeRequest('GET', path, { 'user-agent': IE8 }), path, undefined);
    expect(recorded.map((r) => r.action)).toEqual(['redirected', 'page', 'rejected']);
    expect(recorded.every((r) => r.remoteAddress === '192.0.2.10' && r.userAgent === IE8)).toBe(true);
  });

  it('awaits onLegacy before deciding, and attaches the verdict before any hook runs', async () => {
    const order: string[] = [];
    const { engine: e } = engine(
      {
        skip: () => {
          order.push('skip');
          return false;
        },
        onLegacy: async () => {
          order.push('onLegacy');
          await Promise.resolve();
        },
      },
      { attach: () => void order.push('attach') },
    );
    const outcome = e.handle(fakeRequest('GET', '/', { 'user-agent': IE8 }), '/', undefined);
    expect(outcome).toBeInstanceOf(Promise);
    expect(await outcome).toMatchObject({ action: 'redirected' });
    expect(order).toEqual(['attach', 'skip', 'onLegacy']);
  });

  it('believes a trusted header only from a trusted peer, and treats an unreadable one as legacy', () => {
    const { engine: e } = engine({ trustedHeader: 'x-tls-protocol', trustedProxies: ['192.0.2.0/24'] });
    const at = (value: string, peer: string) => e.handle(fakeRequest('GET', '/', { 'user-agent': CHROME, 'x-tls-protocol': value }, peer), '/', undefined) as Outcome;
    expect(at('TLSv1', '192.0.2.10')).toMatchObject({ action: 'redirected', verdict: { reasons: ['tls-version'], tls: { protocol: 'TLSv1', source: 'header' } } });
    expect(at('TLSv1', '198.51.100.1')).toMatchObject({ action: 'passed', verdict: { legacy: false, tls: { source: 'none' } } });
    expect(at('SSLv3', '192.0.2.10')).toMatchObject({ action: 'redirected', verdict: { tls: { protocol: null, source: 'header' } } });
  });
});

describe('FallbackEngine.handleUpgrade', () => {
  it('refuses every legacy upgrade, even below the fallback page, and passes modern ones on at the normalised path', () => {
    const { engine: e } = engine();
    const up = (path: string, ua: string, mode?: FallbackMode) => (mode ? engine({ mode }).engine : e).handleUpgrade(fakeRequest('GET', path, { 'user-agent': ua }), path);
    expect(up('/legacy-browser/ws', IE8)).toMatchObject({ action: 'refused', response: { status: 426 } });
    expect(up('/chat//room', CHROME)).toMatchObject({ action: 'passed', path: '/chat/room' });
    expect(up('/chat', IE8, 'observe')).toMatchObject({ action: 'observed', path: '/chat' });
    expect(up('/a%zz', CHROME)).toMatchObject({ action: 'rejected', response: { status: 400 } });
  });
});

describe('FallbackEngine.handlePlainHttp', () => {
  const { engine: e, recorded } = engine({}, { httpsPort: () => 8443 });
  const plain = (method: string, url: string, headers: Record<string, string> = {}) => e.handlePlainHttp(fakeRequest(method, url, headers), { path: url.split('?')[0]!, originForm: url });

  it('passes one ACME token on, GET/HEAD only, and counts it', () => {
    expect(plain('GET', '/.well-known/acme-challenge/abc-DEF_1')).toMatchObject({ action: 'excluded', path: '/.well-known/acme-challenge/abc-DEF_1' });
    expect(plain('POST', '/.well-known/acme-challenge/abc')).toMatchObject({ response: { status: 308 } });
    expect(plain('GET', '/.well-known/acme-challenge/../../admin')).toMatchObject({ response: { status: 301 } });
    expect(recorded.at(-1)?.action).toBe('excluded');
  });

  it('gives IE on Windows XP the page in clear text (it can never finish a handshake here)', () => {
    expect(plain('GET', '/', { 'user-agent': XP_IE8 })).toMatchObject({ action: 'rendered', response: { status: 200 } });
  });

  it('redirects everyone else to HTTPS on the Host asked for, 301 for GET/HEAD and 308 for the rest', () => {
    expect(plain('GET', '/a?b=1', { 'user-agent': CHROME })).toMatchObject({ response: { status: 301, headers: { location: 'https://www.example.com:8443/a?b=1' } } });
    expect(plain('POST', '/form', { 'user-agent': CHROME })).toMatchObject({ response: { status: 308 } });
    expect(plain('GET', '/', { host: 'evil.example/x' })).toMatchObject({ response: { status: 400 } });
  });
});
