import http from 'node:http';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildPolicy, classifyClient, InvalidOptionError, legacyTlsReportHandler, REPORT_SCHEMA, REPORT_VERSION, TrafficStats, type LegacyTlsReportOptions, type Logger, type ReportDocument, type Verdict } from '../src/index.js';
import { legacyTlsReport } from '../src/koa/index.js';
import { createTokenCheck, isLoopback } from '../src/report/auth.js';
import { createReportResponder, type ReportRequest } from '../src/report/handler.js';
import { closeServer, listenOn } from './helpers/servers.js';

const TOKEN = 'report-token-0123456789abcdef';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const PROMETHEUS_TEXT = /^text\/plain; version=0\.0\.4/;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

const servers: http.Server[] = [];
const statsToClose: TrafficStats[] = [];

afterAll(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
  await Promise.all(statsToClose.splice(0).map((s) => s.close()));
});

function newStats(): TrafficStats {
  const stats = new TrafficStats({});
  statsToClose.push(stats);
  return stats;
}

async function serve(server: http.Server): Promise<ReturnType<typeof request>> {
  servers.push(server);
  const port = await listenOn(server);
  return request(`http://127.0.0.1:${port}`);
}

/** A Koa app: the report in front of a site that answers everything else with `site` and `x-app: koa`. */
function koaApp(options: LegacyTlsReportOptions): Promise<ReturnType<typeof request>> {
  const app = new Koa();
  app.silent = true;
  app.use(legacyTlsReport(options));
  app.use((ctx) => {
    ctx.set('x-app', 'koa');
    ctx.type = 'text/plain';
    ctx.body = 'site';
  });
  const handle = app.callback();
  // Koa's callback handles its own errors: its promise never rejects.
  return serve(http.createServer((req, res) => void handle(req, res)));
}

/**
 * A plain `node:http` server: the handler first, then the "app", which reports what state it found `res`
 * in, so a handler that touched the response before resolving `false` shows up.
 */
function plainApp(options: LegacyTlsReportOptions): Promise<ReturnType<typeof request>> {
  const handler = legacyTlsReportHandler(options);
  return serve(
    http.createServer((req, res) => {
      handler(req, res).then(
        (handled) => {
          if (handled) return;
          const untouched = { headersSent: res.headersSent, statusCode: res.statusCode, headerNames: res.getHeaderNames(), ended: res.writableEnded };
          res.setHeader('x-app', 'plain');
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(untouched));
        },
        (error: Error) => {
          res.statusCode = 500;
          res.end(`handler rejected: ${error.message}`);
        },
      );
    }),
  );
}

const TLS12 = { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', servername: 'localhost', source: 'socket' } as const;
const TLS10 = { protocol: 'TLSv1', cipher: 'ECDHE-RSA-AES128-SHA', servername: 'localhost', source: 'socket' } as const;

describe.each([
  ['Koa middleware', koaApp],
  ['node:http handler', plainApp],
] as const)('report access through the %s', (name, start) => {
  let api: ReturnType<typeof request>;

  beforeAll(async () => {
    const stats = newStats();
    stats.recordRequest({ verdict: classifyClient(TLS10, 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)', buildPolicy()), action: 'redirected', remoteAddress: '198.51.100.1', userAgent: 'x' });
    api = await start({ stats, token: TOKEN });
  });

  describe('authentication', () => {
    it('answers 401 with a Basic challenge when there is no Authorization, so browsers prompt', async () => {
      const res = await api.get('/_legacy-tls/');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="[^"]+"/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).not.toContain('Legacy TLS traffic');
    });

    it('answers 401 to a wrong Bearer token, and to the right one in another case', async () => {
      for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN.toUpperCase()}`, 'Bearer wrong-token-0123456789abcdef']) {
        const res = await api.get('/_legacy-tls/report.json').set('authorization', authorization);
        expect(res.status, authorization).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/Basic/);
      }
    });

    it('serves the dashboard, report.json and /metrics to the right Bearer token', async () => {
      const dashboard = await api.get('/_legacy-tls/').set(BEARER);
      expect(dashboard.status).toBe(200);
      expect(dashboard.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(dashboard.text).toContain('Legacy TLS traffic');

      const json = await api.get('/_legacy-tls/report.json').set(BEARER);
      expect(json.status).toBe(200);
      expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
      const report = JSON.parse(json.text) as ReportDocument;
      expect(report.schema).toBe(REPORT_SCHEMA);
      expect(report.schema).toBe('legacy-tls-fallback/report');
      expect(report.version).toBe(REPORT_VERSION);
      expect(report.version).toBe(1);
      expect(Object.keys(report.windows).sort()).toEqual(['24h', '30d', '7d']);
      expect(report.windows['24h'].requests.total).toBe(1);

      const metrics = await api.get('/_legacy-tls/metrics').set(BEARER);
      expect(metrics.status).toBe(200);
      expect(metrics.headers['content-type']).toMatch(PROMETHEUS_TEXT);
      expect(metrics.text).toContain('legacy_tls_requests_total{protocol="TLSv1",legacy="true",kind="browser",action="redirected"} 1');
    });

    it('takes the scheme name in any case, as HTTP says', async () => {
      expect((await api.get('/_legacy-tls/report.json').set('authorization', `bearer ${TOKEN}`)).status).toBe(200);
      expect((await api.get('/_legacy-tls/report.json').set('authorization', `BASIC ${Buffer.from(`u:${TOKEN}`).toString('base64')}`)).status).toBe(200);
    });

    it('accepts HTTP Basic with any user name and the token as password', async () => {
      for (const user of ['admin', 'someone else', '', 'ünïcødé']) {
        const res = await api.get('/_legacy-tls/').set('authorization', basic(user, TOKEN));
        expect(res.status, user).toBe(200);
      }
      // supertest's own .auth() is what a browser sends after the prompt.
      expect((await api.get('/_legacy-tls/report.json').auth('admin', TOKEN)).status).toBe(200);
    });

    it('refuses Basic with the token as user name, or with a wrong password', async () => {
      for (const authorization of [basic(TOKEN, ''), basic(TOKEN, 'whatever'), `Basic ${Buffer.from(TOKEN).toString('base64')}`, basic('admin', `${TOKEN} `)]) {
        const res = await api.get('/_legacy-tls/').set('authorization', authorization);
        expect(res.status, authorization).toBe(401);
      }
    });

    it('serves /health without a token, and nothing else there', async () => {
      const res = await api.get('/_legacy-tls/health');
      expect(res.status).toBe(200);
      expect(res.text).toBe('ok\n');
      expect(res.text).not.toContain('requests');
    });
  });

  describe('routing', () => {
    it('redirects the prefix without a slash to the dashboard with 308', async () => {
      const res = await api.get('/_legacy-tls').redirects(0);
      expect(res.status).toBe(308);
      expect(res.headers.location).toBe('/_legacy-tls/');
    });

    it('answers 405 with Allow to methods other than GET and HEAD', async () => {
      for (const path of ['/_legacy-tls/', '/_legacy-tls/report.json', '/_legacy-tls/metrics', '/_legacy-tls/health']) {
        const res = await api.post(path).set(BEARER).send('x=1');
        expect(res.status, path).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD');
      }
      expect((await api.delete('/_legacy-tls/report.json').set(BEARER)).status).toBe(405);
    });

    it('answers HEAD like GET, without a body', async () => {
      const res = await api.head('/_legacy-tls/report.json').set(BEARER);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.text ?? '').toBe('');
    });

    it('answers 400 to an unknown window, and shows the 7-day window when asked', async () => {
      const bad = await api.get('/_legacy-tls/?window=1y').set(BEARER);
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('24h, 7d, 30d');
      expect((await api.get('/_legacy-tls/report.json?window=1y').set(BEARER)).status).toBe(400);

      const week = await api.get('/_legacy-tls/?window=7d').set(BEARER);
      expect(week.status).toBe(200);
      expect(week.text).toContain('<title>Legacy TLS report: last 7 days</title>');
      expect(week.text).toContain('<strong>last 7 days</strong>');
      expect(week.text).toContain('href="/_legacy-tls/?window=24h"');
    });

    it('hands every other path to the application', async () => {
      for (const path of ['/', '/_legacy-tls-other', '/_legacy-tls/unknown', '/_legacy-tls/report.json/x', '/x/_legacy-tls/', '/_LEGACY-TLS/']) {
        const res = await api.get(path).set(BEARER);
        expect(res.status, path).toBe(200);
        expect(res.headers['x-app'], path).toBe(name === 'Koa middleware' ? 'koa' : 'plain');
        expect(res.headers['cache-control'], path).toBeUndefined();
        if (name === 'node:http handler') {
          expect(JSON.parse(res.text), path).toEqual({ headersSent: false, statusCode: 200, headerNames: [], ended: false });
        } else {
          expect(res.text).toBe('site');
        }
      }
      // Not the report's business: no 405 for other paths.
      expect((await api.post('/').send('x=1')).headers['x-app']).toBeDefined();
    });
  });

  it('sends no-store, a strict CSP and nosniff with the dashboard', async () => {
    const res = await api.get('/_legacy-tls/').set(BEARER);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toMatch(/(^|;\s*)default-src 'none'(;|$)/);
    expect(res.headers['content-security-policy']).not.toMatch(/script-src/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    for (const path of ['/_legacy-tls/report.json', '/_legacy-tls/metrics']) {
      const other = await api.get(path).set(BEARER);
      expect(other.headers['cache-control'], path).toBe('no-store');
      expect(other.headers['x-content-type-options'], path).toBe('nosniff');
    }
  });

  it('serves the report under a custom prefix, and nothing under the default one', async () => {
    const custom = await start({ stats: newStats(), token: TOKEN, prefix: '/admin/tls' });
    const dashboard = await custom.get('/admin/tls/').set(BEARER);
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('href="/admin/tls/report.json"');
    expect(dashboard.text).toContain('href="/admin/tls/?window=7d"');
    expect((await custom.get('/admin/tls/report.json').set(BEARER)).status).toBe(200);
    expect((await custom.get('/admin/tls/metrics').set(BEARER)).headers['content-type']).toMatch(PROMETHEUS_TEXT);
    expect((await custom.get('/admin/tls/health')).status).toBe(200);
    expect((await custom.get('/admin/tls/report.json')).status).toBe(401);
    const redirect = await custom.get('/admin/tls').redirects(0);
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('/admin/tls/');
    for (const path of ['/_legacy-tls/', '/_legacy-tls/health', '/admin/', '/admin']) {
      expect((await custom.get(path).set(BEARER)).headers['x-app'], path).toBeDefined();
    }
  });
});

describe('report options', () => {
  const stats = new TrafficStats({});
  afterAll(() => stats.close());

  function optionError(options: unknown): InvalidOptionError {
    let koaError: unknown;
    let handlerError: unknown;
    try {
      legacyTlsReport(options as LegacyTlsReportOptions);
    } catch (error) {
      koaError = error;
    }
    try {
      legacyTlsReportHandler(options as LegacyTlsReportOptions);
    } catch (error) {
      handlerError = error;
    }
    expect(koaError).toBeInstanceOf(InvalidOptionError);
    expect(handlerError).toBeInstanceOf(InvalidOptionError);
    expect((handlerError as Error).message).toBe((koaError as Error).message);
    return koaError as InvalidOptionError;
  }

  it('refuses a token shorter than 16 characters without printing it', () => {
    const secret = 'hunter2-secret';
    const error = optionError({ stats, token: secret });
    expect(error.option).toBe('token');
    expect(error.code).toBe('ERR_LEGACY_TLS_OPTION');
    expect(error.message).toContain('`token`');
    expect(error.message).toContain('16');
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses a token with spaces without printing it', () => {
    const secret = 'correct horse battery staple';
    const error = optionError({ stats, token: secret });
    expect(error.option).toBe('token');
    expect(error.message).not.toContain('horse');
    expect(optionError({ stats, token: `${TOKEN}\n` }).option).toBe('token');
  });

  it('accepts a token of exactly 16 characters', () => {
    expect(() => legacyTlsReport({ stats, token: 'a'.repeat(16) })).not.toThrow();
  });

  it('refuses prefixes that are not a path without a trailing slash', () => {
    for (const prefix of ['no-slash', '/admin/', '/', '', '//evil.example', '/a b', 42]) {
      const error = optionError({ stats, token: TOKEN, prefix });
      expect(error.option, String(prefix)).toBe('prefix');
      expect(error.message).toContain('`prefix`');
    }
  });

  it('requires stats', () => {
    for (const options of [{ token: TOKEN }, { stats: undefined, token: TOKEN }, { stats: {}, token: TOKEN }]) {
      const error = optionError(options);
      expect(error.option).toBe('stats');
      expect(error.message).toContain('TrafficStats');
    }
    expect(optionError(undefined).option).toBe('options');
  });

  it('refuses an unknown option and suggests the one meant', () => {
    const error = optionError({ stats, tokne: 'x' });
    expect(error.option).toBe('tokne');
    expect(error.message).toContain('`tokne`');
    expect(error.message).toContain('did you mean `token`?');
  });

  it('refuses a logger without warn', () => {
    expect(optionError({ stats, token: TOKEN, logger: {} }).option).toBe('logger');
  });
});

describe('report without a token', () => {
  it('warns once, at creation, and serves loopback clients', async () => {
    const warn = vi.fn<(message: string) => void>();
    const logger: Logger = { warn };
    const client = await koaApp({ stats: newStats(), logger });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/no report token/);
    expect(warn.mock.calls[0]?.[0]).toContain('/_legacy-tls/');

    // supertest connects over loopback.
    expect((await client.get('/_legacy-tls/')).status).toBe(200);
    expect((await client.get('/_legacy-tls/report.json')).status).toBe(200);
    expect((await client.get('/_legacy-tls/metrics')).status).toBe(200);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('does not warn when a token is set', async () => {
    const warn = vi.fn<(message: string) => void>();
    await koaApp({ stats: newStats(), token: TOKEN, logger: { warn } });
    expect(warn).not.toHaveBeenCalled();
  });

  it('serves the plain handler to loopback clients too', async () => {
    const client = await plainApp({ stats: newStats(), logger: { warn: () => undefined } });
    expect((await client.get('/_legacy-tls/report.json')).status).toBe(200);
  });

  it('answers 403 to a peer that is not on loopback, whatever it sends', async () => {
    const respond = createReportResponder({ stats: newStats(), logger: { warn: () => undefined } });
    const req = (remoteAddress: string | undefined, path = '/_legacy-tls/', authorization?: string): ReportRequest => ({ method: 'GET', path, query: '', authorization, remoteAddress });
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '203.0.113.7', '2001:db8::1', undefined]) {
      for (const path of ['/_legacy-tls/', '/_legacy-tls/report.json', '/_legacy-tls/metrics']) {
        const response = await respond(req(address, path, `Bearer ${TOKEN}`));
        expect(response?.status, `${address} ${path}`).toBe(403);
        expect(response?.body).not.toContain('requests');
      }
    }
    expect((await respond(req('10.0.0.1', '/_legacy-tls/health')))?.status).toBe(200);
    expect((await respond(req('127.0.0.1')))?.status).toBe(200);
    expect((await respond(req('::1')))?.status).toBe(200);
    expect((await respond(req('::ffff:127.0.0.1')))?.status).toBe(200);
  });

  it('answers 403 through the node:http handler to a non-loopback socket', async () => {
    const handler = legacyTlsReportHandler({ stats: newStats(), logger: { warn: () => undefined } });
    const req = { method: 'GET', url: '/_legacy-tls/', headers: {}, socket: { remoteAddress: '10.0.0.1' } } as unknown as http.IncomingMessage;
    let status = 0;
    let body = '';
    const res = {
      writeHead: (s: number) => {
        status = s;
      },
      end: (b?: string) => {
        body = b ?? '';
      },
    } as unknown as http.ServerResponse;
    expect(await handler(req, res)).toBe(true);
    expect(status).toBe(403);
    expect(body).toMatch(/loopback/);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.3.4.5', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['192.168.1.1', false],
    ['128.0.0.1', false],
    ['::', false],
    ['2001:db8::1', false],
    ['127.example.com', false],
    ['', false],
    [undefined, false],
  ] as const)('%s → %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe('createTokenCheck', () => {
  const check = createTokenCheck(TOKEN);

  it('accepts the token as Bearer, or as the Basic password with any user', () => {
    expect(check(`Bearer ${TOKEN}`)).toBe(true);
    expect(check(`bearer ${TOKEN}`)).toBe(true);
    expect(check(basic('admin', TOKEN))).toBe(true);
    expect(check(basic('', TOKEN))).toBe(true);
  });

  it('keeps colons in a Basic password: only the first one separates the user', () => {
    const colonToken = 'abc:def:0123456789abcdef';
    expect(createTokenCheck(colonToken)(basic('admin', colonToken))).toBe(true);
    expect(createTokenCheck(colonToken)(basic('abc', 'def:0123456789abcdef'))).toBe(false);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['scheme only', 'Bearer'],
    ['scheme and space', 'Bearer '],
    ['Bearer without space', `Bearer${TOKEN}`],
    ['tab instead of space', `Bearer\t${TOKEN}`],
    ['token only', TOKEN],
    ['other scheme', `Token ${TOKEN}`],
    ['Digest', `Digest username="admin", response="${TOKEN}"`],
    ['token in another case', `Bearer ${TOKEN.toUpperCase()}`],
    ['token with a suffix', `Bearer ${TOKEN}0`],
    ['token prefix', `Bearer ${TOKEN.slice(0, 16)}`],
    ['Basic with invalid base64', 'Basic !!!not-base64%%%'],
    ['Basic with the token unencoded', `Basic admin:${TOKEN}`],
    ['Basic without a colon', `Basic ${Buffer.from(TOKEN).toString('base64')}`],
    ['Basic with the token as user', basic(TOKEN, '')],
    ['Basic, empty', 'Basic '],
    ['NUL bytes', `Bearer \u0000${TOKEN}`],
    ['non-ASCII', `Bearer ${TOKEN}é`],
    ['10 KB of garbage', `Bearer ${'a'.repeat(10 * 1024)}`],
    ['10 KB starting with the token', `Bearer ${TOKEN}${' '.repeat(10 * 1024)}`],
    ['10 KB Basic', basic('x'.repeat(10 * 1024), TOKEN)],
  ])('refuses %s without throwing', (_label, header) => {
    let result: boolean | undefined;
    expect(() => {
      result = check(header);
    }).not.toThrow();
    expect(result).toBe(false);
  });

  it('never throws on arbitrary input', () => {
    const pieces = ['Bearer', 'Basic', ' ', ':', '=', '\u0000', '\uffff', '\ud800', TOKEN, '%', 'é', '\t'];
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      let header = '';
      const n = random() % 8;
      for (let j = 0; j < n; j++) header += pieces[random() % pieces.length];
      expect(() => check(header)).not.toThrow();
    }
  });
});

describe('report privacy and escaping', () => {
  const RAW_UA = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0) <script>alert(1)</script>';
  const ADDRESS = '203.0.113.7';
  let api: ReturnType<typeof request>;
  let bodies: { json: string; dashboard: string; metrics: string };

  beforeAll(async () => {
    const stats = newStats();
    const verdict = classifyClient(TLS10, RAW_UA, buildPolicy());
    expect(verdict.legacy).toBe(true);
    for (let i = 0; i < 3; i++) stats.recordRequest({ verdict, action: 'redirected', remoteAddress: ADDRESS, userAgent: RAW_UA });

    const hostile: Verdict = {
      legacy: true,
      reasons: ['user-agent'],
      tls: TLS12,
      client: { browser: '<img src=x onerror=alert(1)>', version: '8.0', os: '"><script>alert(2)</script>', bot: false, kind: 'browser' },
    };
    stats.recordRequest({ verdict: hostile, action: 'rendered', remoteAddress: ADDRESS, userAgent: RAW_UA });

    api = await koaApp({ stats, token: TOKEN });
    const [json, dashboard, metrics] = await Promise.all(['report.json', '', 'metrics'].map((p) => api.get(`/_legacy-tls/${p}`).set(BEARER)));
    bodies = { json: json!.text, dashboard: dashboard!.text, metrics: metrics!.text };
    // Every window of the dashboard too.
    for (const window of ['7d', '30d']) bodies.dashboard += (await api.get(`/_legacy-tls/?window=${window}`).set(BEARER)).text;
  });

  it('counted the requests (so the checks below look at a report that has them)', () => {
    const report = JSON.parse(bodies.json) as ReportDocument;
    expect(report.windows['24h'].requests.total).toBe(4);
    expect(report.windows['24h'].topLegacyClients.map((c) => [c.browser, c.version, c.os, c.requests])).toEqual([
      ['IE', '8', 'Windows XP', 3],
      ['<img src=x onerror=alert(1)>', '8', '"><script>alert(2)</script>', 1],
    ]);
  });

  it.each(['json', 'dashboard', 'metrics'] as const)('keeps the address and the raw user agent out of %s', (which) => {
    const body = bodies[which];
    expect(body).not.toContain(ADDRESS);
    expect(body).not.toContain(RAW_UA);
    expect(body).not.toContain('<script>alert(1)');
    expect(body).not.toContain('Trident');
    expect(body).not.toContain('Windows NT 5.1');
  });

  it('escapes client names on the dashboard', () => {
    const html = bodies.dashboard;
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('"><script>alert(2)');
    expect(html).not.toContain('onerror=alert(1)>');
  });

  it('keeps hostile labels out of the metrics, whose labels come from closed sets', () => {
    expect(bodies.metrics).not.toContain('onerror');
    expect(bodies.metrics).not.toContain('alert(2)');
  });
});
