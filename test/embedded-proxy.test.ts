/**
 * The documented way to embed the proxy in a server of your own (examples/embedded-proxy.ts): the same
 * decisions as the command, with the caller's listeners.
 */
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedProxy } from '../examples/embedded-proxy.js';
import { parseResponses, rawTcp, rawTls, recordingUpstream, type SeenRequest } from './helpers/hostile-raw.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const request = (target: string) => `GET ${target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${CHROME}\r\nConnection: close\r\n\r\n`;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the proxy embedded in your own https server', () => {
  const seen: SeenRequest[] = [];
  let upstream: http.Server;
  let embedded: ReturnType<typeof createEmbeddedProxy>;
  let port: number;
  let httpPort: number;
  let ca: string;
  beforeAll(async () => {
    upstream = recordingUpstream(seen);
    const upstreamPort = await listenOn(upstream);
    const pair = await testCertificate();
    ca = pair.cert;
    embedded = createEmbeddedProxy(`http://127.0.0.1:${upstreamPort}`, { ...pair, logger: { warn: () => undefined } }, silent);
    port = await listenOn(embedded.server);
    httpPort = await listenOn(embedded.httpServer);
  });
  afterAll(async () => {
    await embedded.close();
    await closeServer(upstream);
  });

  const get = async (target: string, version: 'TLSv1' | 'TLSv1.3') => parseResponses((await rawTls(port, ca, request(target), { version })).bytes)[0]!;

  it('forwards modern clients to the upstream, and sends TLS 1.0 clients to the fallback page', async () => {
    const modern = await get('/account', 'TLSv1.3');
    expect(modern.status).toBe(200);
    expect(seen.map((r) => r.url)).toEqual(['/account']);
    expect(seen[0]!.headers['x-tls-protocol']).toBe('TLSv1.3');

    const legacy = await get('/account', 'TLSv1');
    expect(legacy.status).toBe(302);
    expect(legacy.headers.get('location')).toEqual(['/legacy-browser']);
    expect(seen).toHaveLength(1);
    const page = await get('/legacy-browser', 'TLSv1');
    expect(page.body.toString()).toContain('Example Ltd');
  });

  it('redirects plain HTTP to the HTTPS port it listens on, and counts in the report', async () => {
    const [redirect] = parseResponses((await rawTcp(httpPort, request('/x?y=1'))).bytes);
    expect(redirect!.status).toBe(301);
    expect(redirect!.headers.get('location')).toEqual([`https://localhost:${port}/x?y=1`]);

    const report = JSON.parse((await get('/_legacy-tls/report.json', 'TLSv1.3')).body.toString()) as { windows: { '24h': { requests: { total: number; legacy: number }; pageViews: unknown } } };
    // The modern request and the redirected one; the fallback page's own view is counted apart.
    expect(report.windows['24h'].requests).toMatchObject({ total: 2, legacy: 1 });
    expect(report.windows['24h'].pageViews).toMatchObject({ total: 1 });
  });
});
