/**
 * Issue 12: behind a TLS-terminating load balancer every request comes from the balancer's address, so
 * the visitor estimate said 1 whatever the traffic. From a peer in `trustedProxies`, the visitor is the
 * client X-Forwarded-For names; from any other peer the header is a claim anyone can make, and ignored.
 * The same through Koa, Express and the standalone proxy.
 */
import http from 'node:http';
import express from 'express';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReport, TrafficStats } from '../src/index.js';
import { legacyTlsFallback as koaFallback } from '../src/koa/index.js';
import { legacyTlsFallback as expressFallback } from '../src/express/index.js';
import { startProxy } from '../src/proxy/app.js';
import type { RunningProxy } from '../src/proxy/config.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { captureLogger, proxyConfig, REPORT_TOKEN } from './helpers/proxy.js';
import { httpsGet } from './helpers/report.js';
import { visitorTolerance } from './helpers/stats.js';


const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const CLIENTS = 50;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** 50 requests, one keep-alive connection from 127.0.0.1, each naming another client in X-Forwarded-For. */
async function fiftyClients(port: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 1; i <= CLIENTS; i++) {
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent, headers: { 'user-agent': CHROME, 'x-forwarded-for': `198.51.100.${i}` } }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  }
  agent.destroy();
}

async function visitorsOf(stats: TrafficStats): Promise<number> {
  await stats.flush();
  return buildReport(stats.snapshot(), Date.now(), stats.storageStatus()).windows['24h'].visitors.total;
}

async function koaSite(trustedProxies: string[]) {
  const stats = new TrafficStats({ flushInterval: 60_000 });
  const app = new Koa();
  app.use(koaFallback({ stats, trustedProxies }));
  app.use((ctx) => (ctx.body = 'site'));
  const handle = app.callback();
  const server = http.createServer((req, res) => void handle(req, res));
  cleanups.push(() => closeServer(server), () => stats.close());
  return { stats, port: await listenOn(server) };
}

async function expressSite(trustedProxies: string[]) {
  const stats = new TrafficStats({ flushInterval: 60_000 });
  const app = express();
  app.use(expressFallback({ stats, trustedProxies }));
  app.use((_req, res) => {
    res.send('site');
  });
  const server = http.createServer(app);
  cleanups.push(() => closeServer(server), () => stats.close());
  return { stats, port: await listenOn(server) };
}

describe.each([
  ['Koa', koaSite],
  ['Express', expressSite],
])('%s behind a load balancer', (_name, site) => {
  it('counts the clients X-Forwarded-For names when the peer is a trusted proxy', async () => {
    const { stats, port } = await site(['loopback']);
    await fiftyClients(port);
    const visitors = await visitorsOf(stats);
    // 50 distinct clients, an estimate: within the sketch's error, far from the 1 an untrusted peer gives.
    expect(Math.abs(visitors - CLIENTS)).toBeLessThanOrEqual(visitorTolerance(CLIENTS));
  });

  it('ignores X-Forwarded-For from a peer that is not trusted: one visitor', async () => {
    const { stats, port } = await site(['10.0.0.0/8']);
    await fiftyClients(port);
    expect(await visitorsOf(stats)).toBe(1);
  });
});

describe('the standalone proxy behind a load balancer', () => {
  async function proxyWith(trustedProxies: string[]): Promise<RunningProxy> {
    const upstream = http.createServer((_req, res) => res.end('site'));
    const upstreamPort = await listenOn(upstream);
    const config = await proxyConfig(`http://127.0.0.1:${upstreamPort}`, { trustedProxies, httpListen: null, statsFile: undefined });
    const proxy = await startProxy(config, captureLogger());
    cleanups.push(async () => {
      await proxy.close(0);
      await closeServer(upstream);
    });
    return proxy;
  }

  /** The proxy listens on TLS: the 50 requests go over one keep-alive TLS connection from 127.0.0.1. */
  async function fiftyClientsTls(proxy: RunningProxy): Promise<number> {
    const { cert } = await testCertificate();
    const port = Number(new URL(proxy.urls.https).port);
    const { default: https } = await import('node:https');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: cert, servername: 'localhost' });
    for (let i = 1; i <= CLIENTS; i++) {
      await new Promise<void>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/', agent, headers: { 'user-agent': CHROME, 'x-forwarded-for': `198.51.100.${i}` } }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
    }
    agent.destroy();
    const report = await httpsGet(port, cert, '/_legacy-tls/report.json', { authorization: `Bearer ${REPORT_TOKEN}` });
    return (JSON.parse(report.body) as { windows: { '24h': { visitors: { total: number } } } }).windows['24h'].visitors.total;
  }

  it('counts the forwarded clients from a trusted peer, and one visitor from an untrusted one', async () => {
    const trustedVisitors = await fiftyClientsTls(await proxyWith(['loopback']));
    expect(trustedVisitors).toBeGreaterThanOrEqual(CLIENTS - 3);
    expect(trustedVisitors).toBeLessThanOrEqual(CLIENTS + 3);
    expect(await fiftyClientsTls(await proxyWith(['10.0.0.0/8']))).toBe(1);
  });
});
