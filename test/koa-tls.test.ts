import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyTlsServer, type FallbackMode, type LegacyTlsServer, type Verdict } from '../src/index.js';
import { legacyTlsFallback } from '../src/koa/index.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { LEGACY_VERSIONS, TLS_VERSIONS, tlsRequest } from './helpers/tls-client.js';

const MODERN_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

// Real TLS clients at each protocol version against a real Koa app, in every mode.
describe.each<FallbackMode>(['redirect', 'render', 'observe'])('Koa, mode %s, over real TLS', (mode) => {
  let server: LegacyTlsServer;
  let port: number;
  let ca: string;
  const seen: Verdict[] = [];

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    ca = cert;
    const app = new Koa();
    app.use(legacyTlsFallback({ mode, page: { organisation: 'Acme & Co' } }));
    app.use((ctx) => {
      seen.push(ctx.state.legacyTls!);
      ctx.body = 'the site';
    });
    server = createLegacyTlsServer({ cert, key }, app.callback());
    port = await listenOn(server);
  });
  afterAll(() => closeServer(server));

  it.each(TLS_VERSIONS)('GET over %s reaches the right outcome', async (version) => {
    const response = await tlsRequest({ port, ca, version, path: '/account', headers: { 'user-agent': MODERN_UA } });
    expect(response.protocol).toBe(version);
    const legacy = LEGACY_VERSIONS.has(version);
    if (!legacy || mode === 'observe') {
      expect(response.status).toBe(200);
      expect(response.body).toBe('the site');
      expect(seen.at(-1)).toMatchObject({ legacy, reasons: legacy ? ['tls-version'] : [], tls: { protocol: version, source: 'socket' } });
    } else if (mode === 'redirect') {
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe('/legacy-browser');
      expect(response.headers['cache-control']).toBe('private, no-store');
    } else {
      expect(response.status).toBe(200);
      expect(response.body).toContain('Acme &amp; Co');
      expect(response.headers['cache-control']).toBe('private, no-store');
    }
  });

  it.each(TLS_VERSIONS)('POST over %s is never redirected', async (version) => {
    const response = await tlsRequest({ port, ca, version, method: 'POST', path: '/pay', body: 'amount=1', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } });
    if (LEGACY_VERSIONS.has(version) && mode !== 'observe') {
      expect(response.status).toBe(426);
      expect(response.headers.upgrade).toBe('TLS/1.2');
      expect(JSON.parse(response.body)).toMatchObject({ error: 'upgrade_required', fallback: '/legacy-browser' });
    } else {
      expect(response.status).toBe(200);
    }
  });

  it('serves the fallback page itself over TLS 1.0, so the redirect lands somewhere', async () => {
    const response = await tlsRequest({ port, ca, version: 'TLSv1', path: '/legacy-browser' });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('too old to connect securely');
  });
});
