/**
 * A fleet behind one Redis (issue 12): three proxies, each its own process with its own state dir and
 * certificate, `--redis-url` the same. Every instance's report.json shows the fleet's numbers: exact
 * request and handshake counts, visitors united across instances, every instance in the table. Also: the
 * command's errors for a wrong password and a port that is not Redis (exit 2, naming --redis-url), and
 * `--workers` with Redis.
 */
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import type { ReportDocument } from '../src/index.js';
import { startProxy } from '../src/proxy/app.js';
import { parseRedisUrl } from '../src/stats/stores/redis-options.js';
import { startCli, type CliProcess } from './helpers/cli.js';
import { cliHarness } from './helpers/cli-harness.js';
import { freePort, startRedis, type RedisServer } from './helpers/redis.js';
import { httpsGet } from './helpers/report.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { captureLogger, proxyConfig, REPORT_TOKEN } from './helpers/proxy.js';
import { tlsRequest } from './helpers/tls-client.js';
import { visitorTolerance } from './helpers/stats.js';
import { hasTool } from './helpers/tools.js';

const haveRedis = hasTool('redis-server');
const TOKEN = 'fleet-test-token-0123456789abcdef';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
/** Requests per instance. */
const N = 30;

describe.skipIf(!haveRedis)('three proxies behind one Redis', () => {
  let redis: RedisServer;
  let upstream: http.Server;
  let upstreamUrl: string;
  const dirs: string[] = [];
  const running: CliProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    upstream = http.createServer((_req, res) => res.end('upstream'));
    upstreamUrl = `http://127.0.0.1:${await listenOn(upstream)}`;
  });
  afterAll(async () => {
    for (const cli of running.splice(0)) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    await closeServer(upstream);
    await redis?.stop();
  });

  async function instance(name: string, extra: string[] = [], prefix = 'fleet:'): Promise<{ cli: CliProcess; port: number; ca: string }> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-fleet-'));
    dirs.push(dir);
    const cli = startCli(
      ['--upstream', upstreamUrl, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--state-dir', dir, '--shutdown-grace', '500', '--redis-prefix', prefix, '--instance-name', name, '--trusted-proxies', 'loopback', ...extra],
      { LEGACY_TLS_REPORT_TOKEN: TOKEN, LEGACY_TLS_REDIS_URL: redis.url },
    );
    running.push(cli);
    // Three processes starting at once under tsx on a busy two-core machine: more than the helper's 20 s default at times.
    const listening = await cli.waitFor((l) => l.msg === 'listening', 45_000);
    return { cli, port: Number(new URL(String(listening.https)).port), ca: await readFile(path.join(dir, 'cert.pem'), 'utf8') };
  }

  const reportOf = async (port: number, ca: string): Promise<ReportDocument> => JSON.parse((await httpsGet(port, ca, '/_legacy-tls/report.json', { authorization: `Bearer ${TOKEN}` })).body) as ReportDocument;

  it('shows every instance the fleet: exact counts, united visitors, all three in the table', async () => {
    const fleet = await Promise.all(['web-1', 'web-2', 'web-3'].map((name) => instance(name)));
    // Instance i serves clients 20i … 20i+29 (a load balancer names them in X-Forwarded-For): clients
    // 20–29, 40–49 are seen by two instances. Even requests on TLS 1.0, odd ones on TLS 1.3. Instances 1
    // and 3 serve a.example, instance 2 b.example: the per-host figures are the fleet's too.
    await Promise.all(
      fleet.map(async ({ port, ca }, i) => {
        for (let k = 0; k < N; k++) {
          const response = await tlsRequest({ port, ca, version: k % 2 === 0 ? 'TLSv1' : 'TLSv1.3', headers: { host: i === 1 ? 'b.example' : 'a.example', 'user-agent': CHROME, 'x-forwarded-for': `198.51.100.${20 * i + k}` } });
          expect(response.status).toBe(k % 2 === 0 ? 302 : 200);
        }
      }),
    );
    // A report writes its own instance's numbers first; once each has, every report shows them all.
    for (const { port, ca } of fleet) await reportOf(port, ca);
    for (const [j, { port, ca }] of fleet.entries()) {
      const report = await reportOf(port, ca);
      const day = report.windows['24h'];
      expect(day.requests.total).toBe(3 * N);
      expect(day.requests.byProtocol.TLSv1).toBe((3 * N) / 2);
      expect(day.requests.byProtocol['TLSv1.3']).toBe((3 * N) / 2);
      expect(day.requests.byAction.redirected).toBe((3 * N) / 2);
      expect(day.handshakes.byProtocol.TLSv1).toBe((3 * N) / 2);
      // The reports' own TLS 1.3 handshakes count too: the three above, the earlier ones of this loop, this one.
      expect(day.handshakes.byProtocol['TLSv1.3']).toBe((3 * N) / 2 + 3 + j + 1);
      // 70 distinct clients in all (0–69), in HyperLogLog's linear-counting range.
      expect(Math.abs(day.visitors.total - 70)).toBeLessThanOrEqual(visitorTolerance(70));
      expect(report.storage.store).toBe('redis');
      // Per host, united: requests and legacy requests (this hour, the 24 h window, the all-time totals).
      const host = (name: string) => report.sites.hosts.find((row) => row.name === name)?.windows['24h'];
      expect([host('a.example')?.requests, host('a.example')?.legacy, host('b.example')?.requests, host('b.example')?.legacy]).toEqual([2 * N, N, N, N / 2]);
      const allTime = (name: string) => report.totals.sites.filter((row) => row.scope === 'host' && row.name === name).reduce((n, row) => n + row.count, 0);
      expect([allTime('a.example'), allTime('b.example')]).toEqual([2 * N, N]);
      // The ClientHello census, united: every instance's TLS 1.0 connections, counted once each.
      expect(day.offered.byVersion.TLSv1).toBe((3 * N) / 2);
      expect(report.totals.offered.TLSv1).toBe((3 * N) / 2);
      expect(report.storage.error).toBeNull();
      expect(report.storage.instances?.map((row) => [row.name, row.requests]).sort()).toEqual([
        ['web-1', N],
        ['web-2', N],
        ['web-3', N],
      ]);
    }
    const dashboard = await httpsGet(fleet[0]!.port, fleet[0]!.ca, '/_legacy-tls/', { authorization: `Bearer ${TOKEN}` });
    expect(dashboard.body).toContain('<h2>Instances</h2>');
    expect(dashboard.body).toContain('web-1 <span class="muted">(this server)</span>');
    expect(dashboard.body).toContain('<td data-instance="0.requests">30</td>');
    for (const { cli } of fleet) cli.child.kill('SIGTERM');
    expect(await Promise.all(fleet.map(({ cli }) => cli.exit()))).toEqual([0, 0, 0]);
  }, 90_000);

  it('with --workers 2, the primary holds the store and every worker reports the fleet', async () => {
    const { cli, port, ca } = await instance('cluster-1', ['--workers', '2'], 'fleet-cluster:');
    for (let k = 0; k < 12; k++) await tlsRequest({ port, ca, version: 'TLSv1.2', headers: { 'user-agent': CHROME } });
    // Workers send deltas to the primary every second; the primary's read writes them before it reads.
    let total = 0;
    for (let attempt = 0; attempt < 40 && total < 12; attempt++) {
      total = (await reportOf(port, ca)).windows['24h'].requests.total;
      if (total < 12) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(total).toBe(12);
    expect(Number(redis.cli('HGET', 'fleet-cluster:t', 'r:TLSv1.2|0|browser|passed').trim())).toBeGreaterThan(0);
    cli.child.kill('SIGTERM');
    const code = await cli.exit();
    expect(code, JSON.stringify(cli.lines.slice(-12), null, 1)).toBe(0);
    // Stopped cleanly: everything written.
    expect(Number(redis.cli('HGET', 'fleet-cluster:t', 'r:TLSv1.2|0|browser|passed').trim())).toBe(12);
  }, 90_000);
});

describe.skipIf(!haveRedis)('the command with a Redis it cannot use', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function run(redisUrl: string): Promise<{ code: number; output: string }> {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-fleet-cli-'));
    const harness = cliHarness(dir, { LEGACY_TLS_REPORT_TOKEN: TOKEN });
    const code = await runCli(['--upstream', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0', '--http-listen', 'off', '--redis-url', redisUrl], harness.io);
    return { code, output: harness.output() };
  }

  it('exits 2 for a wrong password, naming --redis-url and never the password', async () => {
    const redis = await startRedis({ password: 'the-right-one' });
    try {
      const { code, output } = await run(`redis://:not-this-one@127.0.0.1:${redis.port}`);
      expect(code).toBe(2);
      expect(output).toMatch(/--redis-url is "redis:\/\/127\.0\.0\.1:\d+\/0"; it cannot be used: Redis refused the login/);
      expect(output).toContain('WRONGPASS');
      expect(output).not.toContain('not-this-one');
    } finally {
      await redis.stop();
    }
  });

  it('exits 2 for a port that does not speak Redis', async () => {
    const server = http.createServer((_req, res) => res.end('hello'));
    const port = await listenOn(server);
    try {
      const { code, output } = await run(`redis://127.0.0.1:${port}`);
      expect(code).toBe(2);
      expect(output).toContain('--redis-url');
      expect(output).toContain('does not speak Redis');
    } finally {
      await closeServer(server);
    }
  });

  it('starts and serves with Redis down, saying so once (not a configuration error)', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-fleet-cli-'));
    const upstream = http.createServer((_req, res) => res.end('upstream'));
    const upstreamPort = await listenOn(upstream);
    const harness = cliHarness(dir, { LEGACY_TLS_REPORT_TOKEN: TOKEN });
    const nobody = await freePort();
    const running = runCli(['--upstream', `http://127.0.0.1:${upstreamPort}`, '--listen', '127.0.0.1:0', '--http-listen', 'off', '--state-dir', dir, '--redis-url', `redis://127.0.0.1:${nobody}`], harness.io);
    try {
      const listening = await harness.waitFor((line) => line.msg === 'listening');
      const port = Number(new URL(String(listening.https)).port);
      const ca = await readFile(path.join(dir, 'cert.pem'), 'utf8');
      expect((await tlsRequest({ port, ca, version: 'TLSv1.2', headers: { 'user-agent': CHROME } })).body).toBe('upstream');
      const report = JSON.parse((await httpsGet(port, ca, '/_legacy-tls/report.json', { authorization: `Bearer ${TOKEN}` })).body) as ReportDocument;
      expect(report.storage.error).toMatch(/ECONNREFUSED/);
      expect(report.windows['24h'].requests.total).toBe(1);
      expect(harness.output().match(/is unreachable/g)).toHaveLength(1);
    } finally {
      harness.signal('SIGTERM');
      expect(await running).toBe(0);
      await closeServer(upstream);
    }
  }, 30_000);

  it('refuses --stats-file with --redis-url, and --redis-prefix without it', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-fleet-cli-'));
    const harness = cliHarness(dir, {});
    expect(await runCli(['--upstream', 'http://127.0.0.1:9', '--redis-url', 'redis://127.0.0.1:1', '--stats-file', 'x.json'], harness.io)).toBe(2);
    expect(harness.output()).toContain('--stats-file is "x.json"; the numbers are kept in one place');
    const second = cliHarness(dir, {});
    expect(await runCli(['--upstream', 'http://127.0.0.1:9', '--redis-prefix', 'x:'], second.io)).toBe(2);
    expect(second.output()).toContain('give --redis-url too');
  });
});

describe.skipIf(!haveRedis)('a proxy whose Redis goes away mid-run', () => {
  it('keeps serving, says so once (log and dashboard), and loses nothing once Redis is back (AOF)', async () => {
    const redis = await startRedis({ aof: true });
    const upstream = http.createServer((_req, res) => res.end('upstream'));
    const upstreamPort = await listenOn(upstream);
    const logger = captureLogger();
    const config = await proxyConfig(`http://127.0.0.1:${upstreamPort}`, {
      httpListen: null,
      statsFile: undefined,
      redis: { url: parseRedisUrl(redis.url, 'redisUrl'), keyPrefix: 'midrun:', instance: 'web-1' },
    });
    const proxy = await startProxy(config, logger);
    const { cert: ca } = await testCertificate();
    const port = Number(new URL(proxy.urls.https).port);
    const auth = { authorization: `Bearer ${REPORT_TOKEN}` };
    const report = async () => JSON.parse((await httpsGet(port, ca, '/_legacy-tls/report.json', auth)).body) as ReportDocument;
    const serve = async (n: number) => {
      for (let k = 0; k < n; k++) expect((await tlsRequest({ port, ca, version: 'TLSv1.2', headers: { 'user-agent': CHROME } })).status).toBe(200);
    };
    const stored = () => Number(redis.cli('HGET', 'midrun:t', 'r:TLSv1.2|0|browser|passed').trim() || '0');
    try {
      await serve(10);
      expect((await report()).windows['24h'].requests.total).toBe(10);
      expect(stored()).toBe(10);

      await redis.kill();
      // Served as before: the request path never waits for Redis.
      await serve(10);
      const down = await report();
      expect(down.storage.error).toMatch(/ECONNREFUSED|ECONNRESET|closed/i);
      // The last numbers read from Redis plus this server's own since.
      expect(down.windows['24h'].requests.total).toBe(20);
      const dashboard = await httpsGet(port, ca, '/_legacy-tls/', auth);
      expect(dashboard.body).toContain('cannot be reached');
      await serve(5);

      await redis.restart();
      let back = await report();
      for (let attempt = 0; attempt < 40 && back.storage.error !== null; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        back = await report();
      }
      expect(back.storage.error).toBeNull();
      expect(back.windows['24h'].requests.total).toBe(25);
      expect(stored()).toBe(25);
      const warnings = logger.lines.map((line) => line.message);
      expect(warnings.filter((m) => m.includes('is unreachable'))).toHaveLength(1);
      expect(warnings.filter((m) => m.includes('reachable again'))).toHaveLength(1);
    } finally {
      await proxy.close(0);
      await closeServer(upstream);
      await redis.stop();
    }
  }, 30_000);
});
