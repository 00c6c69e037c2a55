/**
 * Issue 15 through the standalone proxy, with real TLS 1.0 and TLS 1.3 clients: the page in the
 * visitor's language, the switch-off warning on the upstream's answers, the interstitial, the date
 * per host, and the plan in report.json.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy } from '../src/proxy/app.js';
import type { RunningProxy } from '../src/proxy/config.js';
import type { ReportDocument } from '../src/report/document.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { captureLogger, proxyConfig, REPORT_TOKEN } from './helpers/proxy.js';
import { tlsRequest } from './helpers/tls-client.js';

const MODERN = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const HTML_ACCEPT = 'text/html,application/xhtml+xml,*/*;q=0.8';
// Far ahead and long past, so that the real clock is on a known side of each.
const AHEAD = '2099-01-01';
const SUNSET = 'Thu, 01 Jan 2099 00:00:00 GMT';
const DEPRECATION = `@${Date.UTC(2099, 0, 1) / 1000}`;

describe('the proxy before its switch-off date', () => {
  let upstream: http.Server;
  let proxy: RunningProxy;
  let ca: string;
  let port: number;
  const seen: string[] = [];

  beforeAll(async () => {
    ca = (await testCertificate()).cert;
    upstream = http.createServer((req, res) => {
      seen.push(`${req.headers.host} ${req.url}`);
      res.setHeader('content-type', 'text/plain');
      res.end('upstream');
    });
    const upstreamPort = await listenOn(upstream);
    const config = await proxyConfig(`http://127.0.0.1:${upstreamPort}`, {
      httpListen: null,
      switchOff: AHEAD,
      hosts: { 'api.example.com': { switchOff: '2001-01-01' } },
      groups: { '/shop': 'Shop' },
    });
    proxy = await startProxy(config, captureLogger());
    port = Number(new URL(proxy.urls.https).port);
  });
  afterAll(async () => {
    await proxy?.close(100);
    if (upstream) await closeServer(upstream);
  });

  it('passes a legacy client on with Deprecation and Sunset on the upstream\'s answer', async () => {
    const response = await tlsRequest({ port, ca, version: 'TLSv1', path: '/data.json', headers: { 'user-agent': MODERN, accept: 'application/json' } });
    expect(response.protocol).toBe('TLSv1');
    expect(response.status).toBe(200);
    expect(response.body).toBe('upstream');
    expect(response.headers.deprecation).toBe(DEPRECATION);
    expect(response.headers.sunset).toBe(SUNSET);
    const modern = await tlsRequest({ port, ca, version: 'TLSv1.3', path: '/data.json', headers: { 'user-agent': MODERN } });
    expect(modern.headers.deprecation).toBeUndefined();
    expect(modern.headers.sunset).toBeUndefined();
  });

  it('shows a legacy browser opening a page the interstitial in its language, then lets it through', async () => {
    const before = seen.length;
    const first = await tlsRequest({ port, ca, version: 'TLSv1', path: '/shop/a?b=1', headers: { 'user-agent': MODERN, accept: HTML_ACCEPT, 'accept-language': 'nl-BE, nl;q=0.9' } });
    expect(first.status).toBe(200);
    expect(first.headers['content-language']).toBe('nl');
    expect(first.headers.sunset).toBe(SUNSET);
    expect(first.body).toContain('lang="nl"');
    expect(seen.length).toBe(before);
    const href = /<p class="continue"><a href="([^"]+)"/.exec(first.body)![1]!.replaceAll('&amp;', '&');
    const next = await tlsRequest({ port, ca, version: 'TLSv1', path: href, headers: { 'user-agent': MODERN } });
    expect(next.status).toBe(302);
    expect(next.headers.location).toBe('/shop/a?b=1');
    const cookie = String(next.headers['set-cookie']).split(';')[0]!;
    // Over TLS the cookie is marked Secure.
    expect(String(next.headers['set-cookie'])).toContain('; Secure');
    const then = await tlsRequest({ port, ca, version: 'TLSv1', path: '/shop/a?b=1', headers: { 'user-agent': MODERN, accept: HTML_ACCEPT, cookie } });
    expect(then.body).toBe('upstream');
    expect(then.headers.sunset).toBe(SUNSET);
  });

  it('switches a host whose date has passed off already', async () => {
    const response = await tlsRequest({ port, ca, version: 'TLSv1', path: '/v1', headers: { 'user-agent': MODERN, host: 'api.example.com' } });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/legacy-browser');
    expect(response.headers.sunset).toBeUndefined();
    const page = await tlsRequest({ port, ca, version: 'TLSv1', path: '/legacy-browser', headers: { 'user-agent': MODERN, host: 'api.example.com', 'accept-language': 'es' } });
    expect(page.headers['content-language']).toBe('es');
    expect(page.headers.vary).toBe('Accept-Language');
  });

  it('shows the plan and the figures per host and group in report.json', async () => {
    const response = await tlsRequest({ port, ca, version: 'TLSv1.3', path: '/_legacy-tls/report.json', headers: { authorization: `Bearer ${REPORT_TOKEN}` } });
    expect(response.status).toBe(200);
    const report = JSON.parse(response.body) as ReportDocument;
    expect(report.sites.site.switchOff).toMatchObject({ date: AHEAD, phase: 'before' });
    const api = report.sites.hosts.find((row) => row.name === 'api.example.com')!;
    expect(api.configured).toBe(true);
    expect(api.switchOff).toMatchObject({ date: '2001-01-01', daysLeft: 0, phase: 'after' });
    expect(api.windows['24h'].legacy).toBe(1);
    expect(report.sites.groups.find((row) => row.name === 'Shop')!.windows['24h'].requests).toBeGreaterThanOrEqual(2);
  });
});
