import https from 'node:https';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyTlsServer, TrafficStats, type LegacyTlsServer, type ReportDocument } from '../src/index.js';
import { legacyTlsFallback, legacyTlsReport } from '../src/koa/index.js';
import type { TlsProtocol } from '../src/types.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { httpsGet, parseMetrics } from './helpers/report.js';
import { hasTool } from './helpers/tools.js';
import { handshake } from './helpers/tls-client.js';

const run = promisify(execFile);
const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

const UA = {
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  ie10: 'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  curl: 'curl/8.5.0',
};

/**
 * The known mix: [protocol, user agent, path, requests, distinct client addresses]. Each address is a
 * visitor (127.0.0.x), and each (protocol, address) pair is one keep-alive connection: one handshake.
 */
const MIX: [TlsProtocol, keyof typeof UA, string, number, number][] = [
  ['TLSv1', 'chrome', '/', 100, 10],
  ['TLSv1.1', 'chrome', '/', 50, 5],
  ['TLSv1', 'chrome', '/static/app.css', 50, 5],
  ['TLSv1.2', 'chrome', '/', 400, 20],
  ['TLSv1.2', 'ie10', '/', 100, 10],
  ['TLSv1.2', 'googlebot', '/', 50, 2],
  ['TLSv1.2', 'curl', '/', 50, 1],
  ['TLSv1.3', 'firefox', '/', 200, 8],
];

describe('analytics: a known mix through a real server, counted exactly', () => {
  let server: LegacyTlsServer;
  let stats: TrafficStats;
  let port: number;
  let ca: string;
  let report: ReportDocument;
  let metrics: string;

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    ca = cert;
    stats = new TrafficStats({});
    const app = new Koa();
    app.use(legacyTlsReport({ stats, token: TOKEN }));
    app.use(legacyTlsFallback({ stats, exclude: ['/static'] }));
    app.use((ctx) => {
      ctx.body = 'site';
    });
    server = createLegacyTlsServer({ cert, key, stats }, app.callback());
    port = await listenOn(server);

    let address = 10;
    for (const [version, ua, urlPath, requests, addresses] of MIX) {
      const agents = Array.from({ length: addresses }, () => {
        const localAddress = `127.0.0.${address++}`;
        return new https.Agent({ keepAlive: true, maxSockets: 1, localAddress, minVersion: version, maxVersion: version, ciphers: version < 'TLSv1.2' ? 'DEFAULT:@SECLEVEL=0' : undefined });
      });
      await Promise.all(
        agents.map(async (agent, a) => {
          for (let i = a; i < requests; i += addresses) await get(port, ca, agent, urlPath, UA[ua]);
          agent.destroy();
        }),
      );
    }
    // Clients lost before HTTP: three plain-HTTP connections, two with no cipher in common.
    for (let i = 0; i < 3; i++) await plainHttp(port);
    // ECDSA-only suites against the RSA certificate.
    for (let i = 0; i < 2; i++) await handshake({ port, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    await new Promise((r) => setTimeout(r, 100));

    report = JSON.parse((await httpsGet(port, ca, '/_legacy-tls/report.json', auth)).body);
    metrics = (await httpsGet(port, ca, '/_legacy-tls/metrics', auth)).body;
  }, 120_000);
  afterAll(async () => {
    await closeServer(server);
    await stats.close();
  });

  it('counts every request by protocol, kind and action', () => {
    const w = report.windows['24h'];
    expect(w.requests.total).toBe(1000);
    expect(w.requests.byProtocol).toEqual({ TLSv1: 150, 'TLSv1.1': 50, 'TLSv1.2': 600, 'TLSv1.3': 200, none: 0 });
    expect(w.requests.byKind).toEqual({ browser: 900, bot: 50, library: 50, unknown: 0 });
    expect(w.requests.byAction).toEqual({ redirected: 250, rendered: 0, refused: 0, observed: 0, passed: 700, excluded: 50, rejected: 0, warned: 0, interstitial: 0, page: 0 });
    expect(w.requests.legacy).toBe(300);
    // Chrome's user agent on a client pinned to TLS 1.0 is what a TLS-inspecting middlebox looks like.
    expect(w.requests.byReason).toEqual({ 'tls-version': 200, 'user-agent': 100, 'intercepted-or-spoofed': 150 });
    expect(w.legacyShare).toBe(0.3);
    expect(w.legacyShareBrowsers).toBe(Math.round((300 / 900) * 10_000) / 10_000);
  });

  it('estimates visitors from salted hashes, within the sketch error', () => {
    const w = report.windows['24h'];
    const expected = { TLSv1: 15, 'TLSv1.1': 5, 'TLSv1.2': 33, 'TLSv1.3': 8, none: 0 };
    for (const [protocol, n] of Object.entries(expected)) expectVisitors(w.visitors.byProtocol[protocol as keyof typeof expected], n);
    expectVisitors(w.visitors.total, 61);
    expectVisitors(w.visitors.browsers, 58);
    expectVisitors(w.visitors.legacy, 30);
  });

  it('gives the what-if figures for a minimum of TLS 1.2 and TLS 1.3', () => {
    const [tls12, tls13] = report.windows['24h'].whatIf;
    // 1.2: TLS 1.0 (150) + TLS 1.1 (50) + IE 10 on TLS 1.2 (100). 1.3: everything but TLS 1.3 (200).
    expect(tls12).toMatchObject({ minimum: 'TLSv1.2', requests: 300, requestShare: 0.3, cannotConnect: 2 });
    expect(tls13).toMatchObject({ minimum: 'TLSv1.3', requests: 800, requestShare: 0.8, cannotConnect: 2 });
    expectVisitors(tls12!.browserVisitors, 30);
    expectVisitors(tls13!.browserVisitors, 50);
    expect(tls12!.browserVisitorShare).toBeCloseTo(30 / 58, 1);
  });

  it('lists the top legacy clients', () => {
    const rows = report.windows['24h'].topLegacyClients;
    expect(rows.map((r) => [r.browser, r.version, r.os, r.requests])).toEqual([
      ['Chrome', '131', 'Windows 10', 200],
      ['IE', '10', 'Windows 7', 100],
    ]);
    // Per-client sketches are smaller (256 registers, ±6.5 %): allow a visitor either way.
    expect(Math.abs(rows[0]!.visitors - 20)).toBeLessThanOrEqual(2);
    expect(Math.abs(rows[1]!.visitors - 10)).toBeLessThanOrEqual(1);
  });

  it('counts handshakes and failures', () => {
    const w = report.windows['24h'];
    // One connection per (protocol, address), plus the connections that fetched the report itself.
    expect(w.handshakes.byProtocol).toMatchObject({ TLSv1: 15, 'TLSv1.1': 5, 'TLSv1.2': 33 });
    expect(w.handshakes.byProtocol['TLSv1.3']).toBeGreaterThanOrEqual(8);
    expect(w.handshakeFailures.byReason).toEqual({ 'protocol-too-old': 0, 'no-shared-cipher': 2, 'not-tls': 3, other: 0, timeout: 0, evicted: 0, 'connection-limit': 0 });
  });

  it('gives the same figures in /metrics', () => {
    const m = parseMetrics(metrics);
    const requests = (labels: string) => m.get(`legacy_tls_requests_total{${labels}}`);
    expect(requests('protocol="TLSv1",legacy="true",kind="browser",action="redirected"')).toBe(100);
    expect(requests('protocol="TLSv1",legacy="true",kind="browser",action="excluded"')).toBe(50);
    expect(requests('protocol="TLSv1.2",legacy="true",kind="browser",action="redirected"')).toBe(100);
    expect(requests('protocol="TLSv1.2",legacy="false",kind="bot",action="passed"')).toBe(50);
    let total = 0;
    for (const [name, value] of m) if (name.startsWith('legacy_tls_requests_total{')) total += value;
    expect(total).toBe(1000);
    expect(m.get('legacy_tls_handshake_failures_total{reason="not-tls"}')).toBe(3);
    expect(m.get('legacy_tls_handshakes_total{protocol="TLSv1",resumed="false"}')).toBe(15);
  });

  it.runIf(hasTool('promtool'))('passes promtool check metrics', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-prom-'));
    try {
      const file = path.join(dir, 'metrics.txt');
      await writeFile(file, metrics);
      const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < ${file}`]);
      expect(`${stdout}${stderr}`.trim()).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows the same figures on the dashboard', async () => {
    const html = (await httpsGet(port, ca, '/_legacy-tls/', auth)).body;
    const figure = (name: string) => new RegExp(`data-figure="${name.replace(/\./g, '\\.')}">([^<]*)<`).exec(html)?.[1];
    expect(figure('requests.total')).toBe('1000');
    expect(figure('legacyShare')).toBe('30.00%');
    expect(figure('whatIf.0.requests')).toBe('300');
    expect(figure('whatIf.1.requests')).toBe('800');
    expect(figure('topLegacyClients.1.browser')).toBe('IE');
    expect(html).not.toMatch(/<script/i);
  });
});

/**
 * HyperLogLog at 2 048 registers: ±2.3 % standard error, and at small counts two visitors can share a
 * register (about 5 % odds at 15). Allow three standard errors, and at least one visitor.
 */
function expectVisitors(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(1, Math.ceil(expected * 0.07)));
}

function get(port: number, ca: string, agent: https.Agent, urlPath: string, userAgent: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', servername: 'localhost', port, path: urlPath, ca, agent, headers: { 'user-agent': userAgent } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

function plainHttp(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.resume();
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}
