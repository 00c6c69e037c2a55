/**
 * The Koa example as a Koa developer writes an app: @koa/router for the routes, the report mounted on a
 * router path of the site's own (`/admin/legacy-tls`), the middleware in front of the site's routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKoaExample, REPORT_PREFIX } from '../examples/koa-app.js';
import { TrafficStats } from '../src/index.js';
import { buildReport } from '../src/report/document.js';
import type { LegacyTlsServer } from '../src/tls/server.js';
import { parseResponses, rawTls } from './helpers/hostile-raw.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function request(method: string, target: string, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: localhost', `User-Agent: ${CHROME}`, 'Connection: close'];
  if (body) lines.push(`Content-Length: ${body.length}`, 'Content-Type: application/x-www-form-urlencoded');
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

describe('the Koa example, with @koa/router', () => {
  let server: LegacyTlsServer;
  let stats: TrafficStats;
  let port: number;
  let ca: string;
  beforeAll(async () => {
    const pair = await testCertificate();
    ca = pair.cert;
    stats = new TrafficStats();
    server = createKoaExample({ ...pair, logger: { warn: () => undefined } }, stats).server;
    port = await listenOn(server);
  });
  afterAll(async () => {
    await closeServer(server);
    await stats.close();
  });

  const get = async (target: string, version: 'TLSv1' | 'TLSv1.3' = 'TLSv1.3', method = 'GET', body = '') => {
    const [response] = parseResponses((await rawTls(port, ca, request(method, target, body), { version })).bytes);
    return response!;
  };

  it("serves the site's routes to modern clients, and 404 where the router has none", async () => {
    expect((await get('/')).body.toString()).toMatch(/^Welcome to the site\. You connected with TLSv1\.3/);
    expect((await get('/account')).status).toBe(200);
    expect((await get('/contact', 'TLSv1.3', 'POST', 'a=1')).status).toBe(202);
    expect((await get('/nowhere')).status).toBe(404);
  });

  it('sends legacy clients to the fallback page before any route runs', async () => {
    expect((await get('/', 'TLSv1')).status).toBe(302);
    expect((await get('/account', 'TLSv1')).headers.get('location')).toEqual(['/legacy-browser']);
    expect((await get('/contact', 'TLSv1', 'POST', 'a=1')).status).toBe(426);
    expect((await get('/legacy-browser', 'TLSv1')).status).toBe(200);
  });

  it('serves the report on the router path, and hands anything else below it on, decided on its normalised path', async () => {
    const report = await get(`${REPORT_PREFIX}/report.json`);
    expect(report.status).toBe(200);
    expect(JSON.parse(report.body.toString())).toMatchObject({ schema: 'legacy-tls-fallback/report' });
    expect((await get(REPORT_PREFIX)).headers.get('location')).toEqual([`${REPORT_PREFIX}/`]);
    expect((await get(`${REPORT_PREFIX}/`)).body.toString()).toContain('<h1>Legacy TLS traffic</h1>');
    // Below the prefix but not the report's: the router hands it on; a legacy client is still sent away.
    const traversal = await get(`${REPORT_PREFIX}/../account`, 'TLSv1');
    expect(traversal.status).toBe(302);
    expect(traversal.body.toString()).not.toContain('Welcome');
  });

  it("does not count the report's own requests as site traffic", async () => {
    const before = buildReport(stats.snapshot(), stats.now(), stats.storageStatus()).windows['24h'].requests.total;
    await get(`${REPORT_PREFIX}/report.json`);
    await get(`${REPORT_PREFIX}/metrics`);
    expect(buildReport(stats.snapshot(), stats.now(), stats.storageStatus()).windows['24h'].requests.total).toBe(before);
    await get('/');
    expect(buildReport(stats.snapshot(), stats.now(), stats.storageStatus()).windows['24h'].requests.total).toBe(before + 1);
  });
});
