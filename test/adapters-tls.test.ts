/**
 * Real TLS clients pinned to each protocol version against a real Koa app and a real Express app on
 * createLegacyTlsServer, in every mode: the same expectations for both frameworks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyTlsServer, renderFallbackPage, type FallbackMode, type LegacyTlsServer } from '../src/index.js';
import { ADAPTERS, type Site } from './helpers/adapters.js';
import { CHROME, HTML, NO_STORE, PAGE_TEXT } from './helpers/fallback.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { LEGACY_VERSIONS, TLS_VERSIONS, tlsRequest } from './helpers/tls-client.js';

describe.each(ADAPTERS)('$name over real TLS', (adapter) => {
  describe.each<FallbackMode>(['redirect', 'render', 'observe'])('mode %s', (mode) => {
    let server: LegacyTlsServer;
    let port: number;
    let ca: string;
    let site: Site;

    beforeAll(async () => {
      const { cert, key } = await testCertificate();
      ca = cert;
      site = adapter.site({ mode, page: { organisation: 'Acme & Co' } });
      server = createLegacyTlsServer({ cert, key, logger: { warn: () => undefined } }, site.handle);
      port = await listenOn(server);
    });
    afterAll(() => closeServer(server));

    it.each(TLS_VERSIONS)('GET over %s reaches the right outcome', async (version) => {
      const hitsBefore = site.hits.length;
      const response = await tlsRequest({ port, ca, version, path: '/account', headers: { 'user-agent': CHROME } });
      expect(response.protocol).toBe(version);
      const legacy = LEGACY_VERSIONS.has(version);
      // A client pinned to TLS 1.0 that says it is Chrome is what a TLS-inspecting middlebox looks like.
      const reasons = version === 'TLSv1' ? ['tls-version', 'intercepted-or-spoofed'] : legacy ? ['tls-version'] : [];
      expect(site.verdicts.at(-1)).toMatchObject({ legacy, reasons, tls: { protocol: version, source: 'socket', servername: 'localhost', offered: { maxVersion: version } } });
      expect(site.verdicts.at(-1)!.tls.cipher).toBe(response.cipher);
      if (!legacy || mode === 'observe') {
        expect(response.status).toBe(200);
        expect(response.body).toBe('the site');
        expect(site.hits.length).toBe(hitsBefore + 1);
      } else if (mode === 'redirect') {
        expect(response.status).toBe(302);
        expect(response.headers.location).toBe('/legacy-browser');
        expect(response.headers['cache-control']).toBe(NO_STORE);
        expect(site.hits.length).toBe(hitsBefore);
      } else {
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toBe(HTML);
        expect(response.headers['cache-control']).toBe(NO_STORE);
        expect(response.body).toBe(renderFallbackPage({ organisation: 'Acme & Co' }));
        expect(site.hits.length).toBe(hitsBefore);
      }
    });

    it.each(TLS_VERSIONS)('POST over %s is refused on legacy TLS, never redirected', async (version) => {
      const hitsBefore = site.hits.length;
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
        expect(site.hits.length).toBe(hitsBefore);
      } else {
        expect(response.status).toBe(200);
        expect(response.body).toBe('the site');
        expect(site.hits.at(-1)).toBe('POST /pay');
      }
    });

    it.each(TLS_VERSIONS)('serves the fallback page itself over %s, so the redirect lands somewhere', async (version) => {
      const response = await tlsRequest({ port, ca, version, path: '/legacy-browser' });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe(HTML);
      expect(response.body).toContain(PAGE_TEXT);
    });
  });
});
