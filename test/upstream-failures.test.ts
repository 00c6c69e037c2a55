/**
 * Issue 10, "An unreachable upstream is silent": no start-up check, no log line for 502s, nothing on the
 * dashboard. The upstreams here are real sockets on loopback that fail in the ways a site behind the
 * proxy does: a connection dropped at once, no answer at all, a self-signed certificate.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { startProxy } from '../src/proxy/app.js';
import { checkUpstream } from '../src/proxy/upstream-check.js';
import { UpstreamFailureLog } from '../src/proxy/upstream-failures.js';
import { buildReport } from '../src/report/document.js';
import { renderDashboard } from '../src/report/formats/html.js';
import { emptyState, HOUR_MS, hourStart, recordUpstreamError } from '../src/stats/model.js';
import { fromDocument, toDocument } from '../src/stats/serialize.js';
import { cliHarness } from './helpers/cli-harness.js';
import { captureLogger, proxyConfig, REPORT_TOKEN } from './helpers/proxy.js';
import { httpsGet } from './helpers/report.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { tlsRequest } from './helpers/tls-client.js';

const STORAGE = { store: 'memory', file: null, lastSavedAt: null, error: null };
const NOW = Date.parse('2025-03-12T15:30:00Z');

/** An upstream that is "down" without depending on a free port: it accepts and drops every connection. */
async function droppingUpstream(): Promise<{ server: net.Server; url: string }> {
  const server = net.createServer((socket) => socket.destroy());
  return { server, url: `http://127.0.0.1:${await listenOn(server)}/` };
}

describe('UpstreamFailureLog: one line a minute at most, with the counts', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sums the failures of a window into one line when the window ends', () => {
    vi.useFakeTimers({ now: NOW });
    const logger = captureLogger();
    const log = new UpstreamFailureLog(logger, 'http://127.0.0.1:3000/');
    for (let i = 0; i < 5; i++) log.count(502, 'ECONNREFUSED');
    log.count(504, 'UND_ERR_HEADERS_TIMEOUT');
    vi.advanceTimersByTime(59_999);
    expect(logger.lines).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(logger.lines).toHaveLength(1);
    const [line] = logger.lines;
    expect(line?.level).toBe('warn');
    expect(line?.message).toBe('upstream failed: 6 requests answered 502/504 by the proxy itself in the last 60 s (502 ×5, 504 ×1; ECONNREFUSED ×5, UND_ERR_HEADERS_TIMEOUT ×1)');
    expect(line?.fields).toEqual({ upstream: 'http://127.0.0.1:3000/', failures: 6, byStatus: { 502: 5, 504: 1 }, byCode: { ECONNREFUSED: 5, UND_ERR_HEADERS_TIMEOUT: 1 }, seconds: 60 });
  });

  it('stays quiet without failures, starts a new window with the next one, and writes what is left on close', () => {
    vi.useFakeTimers({ now: NOW });
    const logger = captureLogger();
    const log = new UpstreamFailureLog(logger, 'http://u/');
    vi.advanceTimersByTime(10 * 60_000);
    expect(logger.lines).toEqual([]);
    log.count(502, 'ECONNRESET');
    vi.advanceTimersByTime(60_000);
    log.count(502, 'ECONNRESET');
    log.count(502, 'ECONNRESET');
    vi.advanceTimersByTime(20_000);
    log.close();
    expect(logger.lines.map((l) => l.fields?.failures)).toEqual([1, 2]);
    expect(logger.lines[1]?.fields?.seconds).toBe(20);
    log.close();
    vi.advanceTimersByTime(120_000);
    expect(logger.lines).toHaveLength(2);
  });

  it('a flood of failures is still one line a minute, and its codes are bounded', () => {
    vi.useFakeTimers({ now: NOW });
    const logger = captureLogger();
    const log = new UpstreamFailureLog(logger, 'http://u/');
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 0; i < 10_000; i++) log.count(502, `E_${i % 40}`);
      vi.advanceTimersByTime(60_000);
    }
    expect(logger.lines).toHaveLength(3);
    const byCode = logger.lines[0]?.fields?.byCode as Record<string, number>;
    expect(Object.keys(byCode)).toHaveLength(17);
    expect(byCode.other).toBe(10_000 - 16 * 250);
    expect(Object.values(byCode).reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('takes any error code as data: no prototype keys, no control characters, bounded length', () => {
    vi.useFakeTimers({ now: NOW });
    const logger = captureLogger();
    const log = new UpstreamFailureLog(logger, 'http://u/');
    for (const code of ['__proto__', 'constructor', 'E\nFORGED level=error', 'x'.repeat(500), '']) log.count(502, code);
    log.close();
    const byCode = logger.lines[0]?.fields?.byCode as Record<string, number>;
    expect(Object.getPrototypeOf(byCode)).toBe(Object.prototype);
    expect(Object.keys(byCode).sort()).toEqual(['E_FORGED_level_error', '__proto__', 'constructor', 'error', 'x'.repeat(64)].sort());
    expect(logger.lines[0]?.message).not.toContain('\n');
  });
});

describe('upstream failures per hour: stats file, report and dashboard', () => {
  it('are counted in the hour they happen and only show in the windows that cover it', () => {
    const state = emptyState();
    for (let i = 0; i < 6; i++) recordUpstreamError(state, NOW, 502);
    recordUpstreamError(state, NOW - HOUR_MS, 504);
    recordUpstreamError(state, NOW - 3 * 24 * HOUR_MS, 502);
    const report = buildReport(state, NOW, STORAGE);
    expect(report.windows['24h'].upstreamErrors).toEqual({ total: 7, byStatus: { 502: 6, 504: 1 } });
    expect(report.windows['7d'].upstreamErrors).toEqual({ total: 8, byStatus: { 502: 7, 504: 1 } });
    expect(state.totals.upstreamErrors).toEqual(new Map([['502', 7], ['504', 1]]));
    expect(state.hours.get(hourStart(NOW))?.upstreamErrors).toEqual(new Map([['502', 6]]));
  });

  it('survive the stats file, which keeps loading files written before they were counted per hour', () => {
    const state = emptyState();
    recordUpstreamError(state, NOW, 504);
    const loaded = fromDocument(JSON.parse(JSON.stringify(toDocument(state, Buffer.alloc(32, 7), NOW))));
    expect(buildReport(loaded.state, NOW, STORAGE).windows['24h'].upstreamErrors.byStatus['504']).toBe(1);

    // As the previous version wrote it: all-time totals only, no per-hour field.
    const old = {
      format: 'legacy-tls-fallback-stats',
      version: 1,
      savedAt: '2025-03-12T15:00:00.000Z',
      salt: Buffer.alloc(32, 1).toString('base64'),
      totals: { requests: { 'TLSv1.3|false|browser|passed': 4 }, handshakes: {}, failures: {}, upstreamErrors: { 502: 3 } },
      hours: [{ start: '2025-03-12T15:00:00.000Z', requests: { 'TLSv1.3|browser|0|0': 4 }, actions: { passed: 4 }, reasons: {}, clients: {}, os: {}, handshakes: {}, failures: {}, visitors: null, clientVisitors: null }],
      days: [],
    };
    const fromOld = fromDocument(old);
    expect(fromOld.state.totals.upstreamErrors.get('502')).toBe(3);
    const window = buildReport(fromOld.state, NOW, STORAGE).windows['24h'];
    expect(window.requests.total).toBe(4);
    expect(window.upstreamErrors.total).toBe(0);

    const hours = old.hours as Record<string, unknown>[];
    hours[0]!.upstreamErrors = { 503: 1 };
    expect(() => fromDocument(old)).toThrow(/upstreamErrors has an unexpected key/);
  });

  it('the dashboard shows a box with the window figures when there are any, and none otherwise', () => {
    const state = emptyState();
    const quiet = renderDashboard(buildReport(state, NOW, STORAGE), '24h', '/_legacy-tls/');
    expect(quiet).not.toContain('upstreamErrors');
    expect(quiet).not.toContain('The upstream failed');
    for (let i = 0; i < 6; i++) recordUpstreamError(state, NOW, 502);
    const html = renderDashboard(buildReport(state, NOW, STORAGE), '24h', '/_legacy-tls/');
    const figure = (name: string) => new RegExp(`data-figure="${name.replace(/\./g, '\\.')}">([^<]*)<`).exec(html)?.[1];
    expect(html).toContain('<p class="warn">The upstream failed:');
    expect(figure('upstreamErrors.total')).toBe('6');
    expect(figure('upstreamErrors.byStatus.502')).toBe('6');
    expect(figure('upstreamErrors.byStatus.504')).toBe('0');
  });
});

describe('the proxy in front of a failing upstream', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await closeServer(server);
  });

  it('answers 6 × 502, logs them as one line with the count, and shows them in report.json and on the dashboard', async () => {
    const upstream = await droppingUpstream();
    servers.push(upstream.server);
    const logger = captureLogger();
    const config = await proxyConfig(upstream.url, { httpListen: null });
    const proxy = await startProxy(config, logger);
    const port = Number(new URL(proxy.urls.https).port);
    const { cert: ca } = await testCertificate();
    try {
      for (let i = 0; i < 6; i++) expect((await tlsRequest({ port, ca, version: 'TLSv1.3', path: `/page/${i}` })).status).toBe(502);
      const failureLines = () => logger.lines.filter((l) => l.message.startsWith('upstream failed'));
      // Not one line per request: the minute is not over.
      expect(failureLines()).toEqual([]);

      const report = JSON.parse((await httpsGet(port, ca, '/_legacy-tls/report.json', { authorization: `Bearer ${REPORT_TOKEN}` })).body);
      expect(report.version).toBe(1);
      expect(report.windows['24h'].upstreamErrors).toEqual({ total: 6, byStatus: { 502: 6, 504: 0 } });
      const dashboard = (await httpsGet(port, ca, '/_legacy-tls/', { authorization: `Bearer ${REPORT_TOKEN}` })).body;
      expect(dashboard).toContain('<span data-figure="upstreamErrors.total">6</span>');

      await proxy.close();
      const lines = failureLines();
      expect(lines).toHaveLength(1);
      expect(lines[0]?.level).toBe('warn');
      expect(lines[0]?.message).toMatch(/^upstream failed: 6 requests answered 502 by the proxy itself/);
      expect(lines[0]?.fields).toMatchObject({ upstream: upstream.url, failures: 6, byStatus: { 502: 6 } });
    } finally {
      await proxy.close();
    }
  });
});

describe('checkUpstream: the start-up check', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await closeServer(server);
  });

  it('sends one HEAD of the base path and takes any status as an answer', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.host}`);
      res.writeHead(401).end();
    });
    servers.push(server);
    const port = await listenOn(server);
    expect(await checkUpstream(new URL(`http://127.0.0.1:${port}/app/`), { insecure: false })).toEqual({ ok: true, status: 401 });
    expect(seen).toEqual([`HEAD /app/ 127.0.0.1:${port}`]);
  });

  it('reports a dropped connection, no answer in time, and an aborted check, without throwing', async () => {
    const dropping = await droppingUpstream();
    servers.push(dropping.server);
    const dropped = await checkUpstream(new URL(dropping.url), { insecure: false });
    expect(dropped).toMatchObject({ ok: false, code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/) });

    // Reads what it is sent (so it sees the check hang up) and never answers.
    const silent = net.createServer((socket) => socket.resume());
    servers.push(silent);
    const silentUrl = new URL(`http://127.0.0.1:${await listenOn(silent)}/`);
    expect(await checkUpstream(silentUrl, { insecure: false, timeoutMs: 200 })).toMatchObject({ ok: false, code: 'UND_ERR_HEADERS_TIMEOUT' });

    const abort = new AbortController();
    const pending = checkUpstream(silentUrl, { insecure: false, signal: abort.signal });
    abort.abort();
    expect(await pending).toMatchObject({ ok: false });
  });

  it('refuses a self-signed https upstream as the forwarder would, and says which flag accepts it', async () => {
    const { cert, key } = await testCertificate();
    const server = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
    servers.push(server);
    const url = new URL(`https://127.0.0.1:${await listenOn(server)}/`);
    const refused = await checkUpstream(url, { insecure: false });
    expect(refused).toMatchObject({ ok: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(refused.ok === false && refused.hint).toContain('--upstream-insecure');
    expect(await checkUpstream(url, { insecure: true })).toEqual({ ok: true, status: 200 });
  });
});

describe('the command with an upstream that is down at start', () => {
  let dir: string | undefined;
  const servers: net.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await closeServer(server);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('warns naming the URL and the error, keeps running, and still sends a TLS 1.0 client to the fallback page', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-down-'));
    const upstream = await droppingUpstream();
    servers.push(upstream.server);
    const cli = cliHarness(dir, { LEGACY_TLS_REPORT_TOKEN: REPORT_TOKEN });
    const exit = runCli(['--upstream', upstream.url, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--email', 'help@example.com', '--log-format', 'json'], cli.io);
    const listening = await cli.waitFor((l) => l.msg === 'listening');
    const port = Number(new URL(String(listening.https)).port);
    const ca = await readFile(path.join(dir, '.legacy-tls-fallback', 'cert.pem'), 'utf8');

    const warning = await cli.waitFor((l) => String(l.msg).includes('does not answer'));
    expect(warning.level).toBe('warn');
    expect(warning.msg).toContain(`the upstream ${upstream.url} does not answer`);
    expect(warning).toMatchObject({ upstream: upstream.url, code: expect.stringMatching(/^(UND_ERR_SOCKET|ECONNRESET)$/) });

    const legacy = await tlsRequest({ port, ca, version: 'TLSv1' });
    expect(legacy.status).toBe(302);
    const page = await tlsRequest({ port, ca, version: 'TLSv1', path: String(legacy.headers.location) });
    expect(page.status).toBe(200);
    expect(page.body).toContain('help@example.com');
    expect((await tlsRequest({ port, ca, version: 'TLSv1.3' })).status).toBe(502);

    cli.signal('SIGTERM');
    expect(await exit).toBe(0);
    // The one 502 of this run is in the last line, written on the way out.
    expect(cli.lines.filter((l) => String(l.msg).startsWith('upstream failed'))).toMatchObject([{ level: 'warn', failures: 1, byStatus: { 502: 1 } }]);
    // With an e-mail address on the page there is nothing to say about contact details.
    expect(cli.output()).not.toContain('no way to reach you');
  }, 30_000);

  it('stops at once while the check still waits for an upstream that never answers, and leaves no connection open', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-hang-'));
    const connections = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
      socket.resume();
    });
    servers.push(silent);
    const url = `http://127.0.0.1:${await listenOn(silent)}/`;
    const cli = cliHarness(dir, { LEGACY_TLS_REPORT_TOKEN: REPORT_TOKEN });
    const exit = runCli(['--upstream', url, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--email', 'help@example.com', '--log-format', 'json'], cli.io);
    await cli.waitFor((l) => l.msg === 'listening');
    await new Promise<void>((resolve) => (connections.size > 0 ? resolve() : silent.once('connection', () => resolve())));
    cli.signal('SIGTERM');
    expect(await exit).toBe(0);
    // The check's connection is closed by the stop (closeServer in afterEach would wait for it otherwise).
    await new Promise<void>((resolve) => {
      const poll = () => (connections.size === 0 ? resolve() : setTimeout(poll, 20));
      poll();
    });
    expect(cli.lines.filter((l) => /upstream/.test(String(l.msg)) && l.msg !== 'listening')).toEqual([]);
  }, 30_000);

  it('says the upstream answers when it does, and warns about a page without contact details', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-up-'));
    const server = http.createServer((_req, res) => res.end('hello'));
    servers.push(server);
    const url = `http://127.0.0.1:${await listenOn(server)}/`;
    const cli = cliHarness(dir, { LEGACY_TLS_REPORT_TOKEN: REPORT_TOKEN });
    const exit = runCli(['--upstream', url, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--log-format', 'json'], cli.io);
    expect(await cli.waitFor((l) => l.msg === 'the upstream answers')).toMatchObject({ level: 'info', upstream: url, status: 200 });
    expect(await cli.waitFor((l) => String(l.msg).includes('no way to reach you'))).toMatchObject({ level: 'warn', msg: expect.stringContaining('set at least one of --email, --phone, --address') });
    cli.signal('SIGTERM');
    expect(await exit).toBe(0);
    expect(cli.output()).not.toContain('upstream failed');
  }, 30_000);
});
