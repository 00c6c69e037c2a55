/**
 * Issue 15: figures per host and per path group, bounded whatever clients send, and readiness for the
 * switch-off. Requests go through the engine (the code the Koa and Express adapters and the proxy call)
 * with an injected clock; the metrics are read as Prometheus scrapes them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FallbackEngine } from '../src/fallback/engine.js';
import { resolveFallbackOptions, type FallbackOptions } from '../src/fallback/options.js';
import { buildReport } from '../src/report/document.js';
import { registerLegacyTlsMetrics } from '../src/report/formats/prometheus.js';
import { DAY_MS, MAX_HOSTS } from '../src/stats/model.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { CHROME, IE8 } from './helpers/fallback.js';

const START = Date.UTC(2027, 0, 10, 12);
const stats: TrafficStats[] = [];
afterEach(async () => {
  await Promise.all(stats.splice(0).map((s) => s.close()));
});

function setup(options: Omit<FallbackOptions<null>, 'stats' | 'now'>, clock: { now: number }) {
  const counted = new TrafficStats({ now: () => clock.now, summaryInterval: 0 });
  stats.push(counted);
  const engine = new FallbackEngine(resolveFallbackOptions<null>({ ...options, stats: counted, now: () => clock.now }));
  const send = (host: string | undefined, path: string, userAgent: string, remoteAddress = '192.0.2.1') => {
    const req = { method: 'GET', url: path, headers: { ...(host !== undefined && { host }), 'user-agent': userAgent, accept: 'text/html' }, socket: { remoteAddress } };
    const outcome = engine.handle(req as unknown as IncomingMessage, path, null);
    // No onLegacy hook: the engine answers synchronously.
    if (outcome instanceof Promise) throw new Error('expected a synchronous outcome');
    return outcome;
  };
  return { stats: counted, engine, send };
}

/** Every `name{…}` series of a scrape, with its labels. */
function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const [, inner, value] = /^[a-z_]+\{(.*)\} (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...inner!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
      return { labels: labels as Record<string, string>, value: Number(value) };
    });
}

describe('counts per host and per group', () => {
  // 100 000 requests through the engine, each with a new Host: seconds on an idle core, more on a busy one.
  it('keeps the metric labels bounded under 100 000 distinct hosts and paths, and the totals exact', { timeout: 90_000 }, async () => {
    const clock = { now: START };
    const { stats: counted, send } = setup({ mode: 'observe', groups: { '/api': 'API', '/shop': 'Shop' } }, clock);
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      // A scan: a new Host and a new path on every request, spread over a few hours.
      clock.now = START + Math.floor((i * 4 * 3_600_000) / N);
      const prefix = i % 3 === 0 ? '/api' : i % 3 === 1 ? '/shop' : '/other';
      send(`h${i}.attacker.example`, `${prefix}/p${i}`, i % 2 === 0 ? IE8 : CHROME, `10.0.${(i >> 8) & 255}.${i & 255}`);
    }
    const text = await registerLegacyTlsMetrics(counted, new Registry()).metrics();
    const rows = series(text, 'legacy_tls_site_requests_total');
    const hosts = new Set(rows.filter((r) => r.labels.scope === 'host').map((r) => r.labels.site));
    const groups = new Set(rows.filter((r) => r.labels.scope === 'group').map((r) => r.labels.site));
    expect(hosts.size).toBeLessThanOrEqual(MAX_HOSTS + 1);
    expect(hosts.has('other')).toBe(true);
    expect([...groups].sort()).toEqual(['', 'API', 'Shop']);
    // Every series of the whole scrape: a bound, whatever the traffic.
    expect(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length).toBeLessThan(400);
    const sum = (scope: string, legacy?: string) => rows.filter((r) => r.labels.scope === scope && (legacy === undefined || r.labels.legacy === legacy)).reduce((a, r) => a + r.value, 0);
    expect(sum('host')).toBe(N);
    expect(sum('group')).toBe(N);
    expect(sum('host', 'true')).toBe(N / 2);
    expect(rows.find((r) => r.labels.scope === 'group' && r.labels.site === 'API' && r.labels.legacy === 'true' && r.labels.browser === 'true')?.value).toBe(Math.ceil(N / 6));

    const report = buildReport(counted.snapshot(), counted.now(), counted.storageStatus(), { plan: counted.sitesPlan() });
    expect(report.sites.hosts.length).toBeLessThanOrEqual(MAX_HOSTS + 1);
    expect(report.sites.hosts.reduce((a, row) => a + row.windows['24h'].requests, 0)).toBe(N);
    expect(report.sites.groups.map((row) => row.name).sort()).toEqual(['', 'API', 'Shop']);
    expect(report.sites.site.windows['24h'].requests).toBe(N);
    // The stats document stays small: no per-host growth.
    expect(JSON.stringify(report).length).toBeLessThan(1_000_000);
  });

  it('counts a host under its normalised name (case, port, trailing dot) and junk apart', () => {
    const clock = { now: START };
    const { stats: counted, send } = setup({ mode: 'observe' }, clock);
    send('WWW.Example.com:8443', '/', CHROME);
    send('www.example.com.', '/', CHROME);
    send('www.example.com', '/', CHROME);
    send('a b', '/', CHROME);
    send(undefined, '/', CHROME);
    const report = buildReport(counted.snapshot(), counted.now(), counted.storageStatus(), { plan: counted.sitesPlan() });
    const byName = Object.fromEntries(report.sites.hosts.map((row) => [row.name, row.windows['24h'].requests]));
    expect(byName).toEqual({ 'www.example.com': 3, '(invalid)': 1, '': 1 });
  });

  it('counts the fallback page\'s own views apart: one redirect and its page view are one lost request', () => {
    const clock = { now: START };
    const { stats: counted, send } = setup({ mode: 'redirect' }, clock);
    expect(send('www.example.com', '/shop', IE8).action).toBe('redirected');
    expect(send('www.example.com', '/legacy-browser', IE8).action).toBe('page');
    const window = buildReport(counted.snapshot(), counted.now(), counted.storageStatus()).windows['24h'];
    expect(window.requests.total).toBe(1);
    expect(window.pageViews).toEqual({ total: 1, legacy: 1 });
    expect(window.whatIf.find((row) => row.minimum === 'TLSv1.2')?.requests).toBe(1);
  });
});

describe('per-site counts kept', () => {
  it('across the hour turning on one connection, a save and a restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ltf-sites-'));
    try {
      const clock = { now: START };
      const statsFile = path.join(dir, 'stats.json');
      const first = new TrafficStats({ statsFile, now: () => clock.now, summaryInterval: 0 });
      await first.ready;
      const engine = new FallbackEngine(resolveFallbackOptions<null>({ mode: 'observe', stats: first, groups: { '/api': 'API' } }));
      // One keep-alive connection: its repeats are counted by increments, folded when the hour turns.
      const socket = { remoteAddress: '192.0.2.7' };
      const send = (host: string, url: string) => {
        const req = { method: 'GET', url, headers: { host, 'user-agent': IE8 }, socket };
        if (engine.handle(req as unknown as IncomingMessage, url, null) instanceof Promise) throw new Error('expected a synchronous outcome');
      };
      for (let i = 0; i < 5; i++) send('www.example.com', '/api/x');
      clock.now += 3_600_000;
      for (let i = 0; i < 3; i++) send('www.example.com', '/api/x');
      send('shop.example.com', '/');
      send('www.example.com', '/api/x');
      await first.close();

      const second = new TrafficStats({ statsFile, now: () => clock.now, summaryInterval: 0 });
      stats.push(second);
      await second.ready;
      const report = buildReport(second.snapshot(), second.now(), second.storageStatus());
      const hosts = Object.fromEntries(report.sites.hosts.map((row) => [row.name, row.windows['24h'].requests]));
      expect(hosts).toEqual({ 'www.example.com': 9, 'shop.example.com': 1 });
      const api = report.sites.groups.find((row) => row.name === 'API')!;
      expect(api.windows['24h'].series.filter((p) => p.requests > 0).map((p) => p.requests)).toEqual([5, 4]);
      expect(api.windows['24h'].legacyBrowsers).toBe(9);
      const totals = report.totals.sites.filter((row) => row.scope === 'host').reduce((a, row) => a + row.count, 0);
      expect(totals).toBe(10);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readiness and the switch-off plan in the report', () => {
  it('calls a group ready after N days below the threshold, and says since when', () => {
    const clock = { now: START };
    const { stats: counted, send } = setup({ mode: 'observe', switchOff: '2027-03-01', groups: { '/api': { name: 'API', switchOff: '2027-02-01' } } }, clock);
    // Day 0: 1 legacy browser visitor in 4 on /api. Days 1..3: modern browsers only.
    send('www.example.com', '/api/a', IE8, '10.0.0.1');
    for (let v = 2; v <= 4; v++) send('www.example.com', '/api/a', CHROME, `10.0.0.${v}`);
    for (let day = 1; day <= 3; day++) {
      clock.now = START + day * DAY_MS;
      for (let v = 1; v <= 5; v++) send('www.example.com', '/api/a', CHROME, `10.0.${day}.${v}`);
    }
    const readiness = { threshold: 0.01, days: 3 };
    const report = buildReport(counted.snapshot(), counted.now(), counted.storageStatus(), { plan: counted.sitesPlan(), readiness });
    const api = report.sites.groups.find((row) => row.name === 'API')!;
    expect(api.configured).toBe(true);
    expect(api.switchOff).toEqual({ date: '2027-02-01', daysLeft: 19, phase: 'before' });
    expect(api.readiness).toMatchObject({ ready: true, since: '2027-01-11', daysBelow: 3, highestShare: 0 });
    expect(report.sites.site.switchOff).toEqual({ date: '2027-03-01', daysLeft: 47, phase: 'before' });
    // One day more needed: not ready.
    const strict = buildReport(counted.snapshot(), counted.now(), counted.storageStatus(), { plan: counted.sitesPlan(), readiness: { threshold: 0.01, days: 4 } });
    expect(strict.sites.groups.find((row) => row.name === 'API')!.readiness).toMatchObject({ ready: false, since: '2027-01-11', daysBelow: 3 });
  });
});
