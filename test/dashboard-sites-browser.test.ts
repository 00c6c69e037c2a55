/**
 * Issue 15, the dashboard as people read it, checked in headless Chromium at 390 px and 1280 px: axis
 * labels whole, tables not scrolling sideways, "no data" instead of 0.00 %, bots and libraries named,
 * the fallback page's views apart, dates as people write them, round axis ticks, and the switch-off
 * plan per host and group with links that narrow the page. Screenshots go to test-artifacts/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyTlsServer, TrafficStats, type LegacyTlsServer } from '../src/index.js';
import { legacyTlsFallback, legacyTlsReport } from '../src/koa/index.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { tlsRequest } from './helpers/tls-client.js';
import { hasTool } from './helpers/tools.js';

const TOKEN = 'dashboard-token-0123456789abcdef';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

// Browser globals used inside page callbacks, which run in Chromium: the project compiles without the DOM lib.
declare const document: {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelectorAll(selector: string): ArrayLike<{ scrollWidth: number; clientWidth: number; textContent: string | null; getBoundingClientRect(): { left: number; right: number; top: number; bottom: number } }>;
};

/** The little of a DOM element the callbacks use. */
interface BrowserElement {
  textContent: string | null;
  getBoundingClientRect(): { left: number; right: number; top: number; bottom: number };
  querySelectorAll(selector: string): ArrayLike<BrowserElement>;
}

const UA = {
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  curl: 'curl/7.58.0',
  java: 'Java/1.7.0_80',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
};

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--ignore-certificate-errors'];

describe.runIf(hasTool('chromium'))('dashboard: switch-off plan and readability, in Chromium', () => {
  let stats: TrafficStats;
  let empty: TrafficStats;
  let server: LegacyTlsServer;
  let port: number;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const { cert, key } = await testCertificate();
    stats = new TrafficStats({});
    // Only bots and libraries: the browser share has no data.
    empty = new TrafficStats({});
    const app = new Koa();
    app.silent = true;
    app.use(legacyTlsReport({ stats, token: TOKEN }));
    app.use(legacyTlsReport({ stats: empty, token: TOKEN, prefix: '/_bots' }));
    app.use(legacyTlsFallback({ stats, switchOff: '2099-01-01', hosts: { 'api.example.com': { switchOff: false } }, groups: { '/shop': 'Shop' } }));
    app.use((ctx) => {
      ctx.body = 'site';
    });
    server = createLegacyTlsServer({ cert, key, stats }, app.callback());
    port = await listenOn(server);
    const get = (version: 'TLSv1' | 'TLSv1.3', userAgent: string, path = '/', headers: Record<string, string> = {}) => tlsRequest({ port, ca: cert, version, path, headers: { 'user-agent': userAgent, ...headers } });

    // Before the date: served with the warning headers.
    expect((await get('TLSv1', UA.googlebot)).headers.sunset).toBe('Thu, 01 Jan 2099 00:00:00 GMT');
    await get('TLSv1', UA.java, '/shop/item');
    // The API host is switched off already: one `curl -L` is the redirect and the page view.
    const redirect = await get('TLSv1', UA.curl, '/v1', { host: 'api.example.com' });
    expect(redirect.status).toBe(302);
    expect((await get('TLSv1', UA.curl, redirect.headers.location as string, { host: 'api.example.com' })).status).toBe(200);
    for (let i = 0; i < 3; i++) await get('TLSv1.3', UA.firefox, '/shop/basket');

    const record = (userAgent: string) => {
      const verdict = { legacy: true, reasons: ['tls-version' as const], tls: { protocol: 'TLSv1' as const, cipher: null, servername: null, source: 'socket' as const }, client: { browser: null, version: null, os: null, bot: true, kind: 'bot' as const } };
      empty.recordRequest({ verdict, action: 'observed', remoteAddress: '192.0.2.1', userAgent });
    };
    record(UA.googlebot);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    await browser?.close();
    if (server) await closeServer(server);
    await stats?.close();
    await empty?.close();
  }, 30_000);

  async function open(path: string, viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser!.newContext({ httpCredentials: { username: 'admin', password: TOKEN }, ignoreHTTPSErrors: true, viewport, ...(viewport.width < 500 && { isMobile: true, hasTouch: true, deviceScaleFactor: 2 }) });
    contexts.push(context);
    const page = await context.newPage();
    const response = await page.goto(`https://127.0.0.1:${port}${path}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    return page;
  }

  /** Everything visible fits: no element wider than its box, no text box outside the viewport. */
  async function expectFits(page: Page, label: string): Promise<void> {
    const fits = await page.evaluate(() => {
      const root = document.documentElement;
      const wide = Array.from(document.querySelectorAll('main > *, section, table'))
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => (e.textContent ?? '').slice(0, 60));
      const outside = Array.from(document.querySelectorAll('svg text, .axis span, td, th'))
        .filter((e) => {
          const box = e.getBoundingClientRect();
          return box.right > root.clientWidth + 1 || box.left < -1;
        })
        .map((e) => e.textContent);
      return { page: root.scrollWidth <= root.clientWidth + 1, wide, outside };
    });
    expect(fits, label).toEqual({ page: true, wide: [], outside: [] });
  }

  /** Each chart label lies wholly inside its SVG (nothing cut at an edge). */
  async function expectAxisLabelsWhole(page: Page): Promise<string[]> {
    const labels = await page.$$eval('svg', (svgs) =>
      svgs.flatMap((svg) => {
        const frame = svg.getBoundingClientRect();
        return Array.from(svg.querySelectorAll('text') as ArrayLike<BrowserElement>).map((text) => {
          const box = text.getBoundingClientRect();
          return { text: text.textContent ?? '', inside: box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5 && box.top >= frame.top - 0.5 && box.bottom <= frame.bottom + 0.5 };
        });
      }),
    );
    expect(labels.filter((label) => !label.inside)).toEqual([]);
    return labels.map((label) => label.text);
  }

  for (const [name, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`reads right at ${viewport.width} px`, async () => {
      const page = await open('/_legacy-tls/', viewport);
      await expectFits(page, name);
      const labels = await expectAxisLabelsWhole(page);
      // Round ticks: 0, half and the top of a 1-2-2.5-5 scale.
      for (const label of labels) expect(label).toMatch(/^(0|[0-9]+(\.[0-9]+)?%?)$/);
      expect(labels.filter((label) => label.endsWith('%'))).toContain('0%');

      const clients = await page.$$eval('section', (sections) => {
        const section = sections.find((s) => s.querySelector('h2')?.textContent === 'Top legacy clients')!;
        return Array.from(section.querySelectorAll('tbody tr') as ArrayLike<BrowserElement>).map((tr) => Array.from(tr.querySelectorAll('td')).slice(0, 2).map((td) => (td.textContent ?? '').trim()));
      });
      expect(clients).toEqual(expect.arrayContaining([['Googlebot', ''], ['curl 7', ''], ['Java 1.7', '']]));
      expect(clients.flat().join(' ')).not.toContain('?');

      const text = await page.locator('main').innerText();
      // Dates as people write them, never ISO strings.
      expect(text).toMatch(/\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}, \d{2}:00 UTC\b/);
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
      // The page view of the `curl -L` is counted apart: one request lost, not two.
      expect(await page.locator('[data-figure="pageViews.legacy"]').textContent()).toBe('1');
      expect(await page.locator('[data-figure="whatIf.0.requests"]').textContent()).toBe('3');
      // The plan: the whole site's date with days left, the API host switched off.
      expect(text).toMatch(/1 Jan 2099 \(\d+ days left\)/);
      expect(text).toContain('api.example.com');
      await page.screenshot({ path: `${ARTIFACTS}dashboard-sites-${name}.png`, fullPage: true });
    });
  }

  it('narrows to one group through a plain link, and refuses a made-up one', async () => {
    const page = await open('/_legacy-tls/', PHONE);
    await page.getByRole('link', { name: 'Shop' }).click();
    await page.waitForURL(/[?&]group=Shop$/);
    expect(await page.locator('h3').textContent()).toMatch(/^Shop: legacy share among browsers/);
    await expectFits(page, 'narrowed');
    await expectAxisLabelsWhole(page);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-group-phone.png`, fullPage: true });
    // The plan section alone, small enough to look at.
    await page.locator('section', { hasText: 'Switch-off plan' }).screenshot({ path: `${ARTIFACTS}dashboard-group-plan-phone.png` });
    const refused = await page.goto(`https://127.0.0.1:${port}/_legacy-tls/?group=%3Cscript%3E`);
    expect(refused?.status()).toBe(400);
  });

  it('says there is no data when no browser came', async () => {
    const page = await open('/_bots/', PHONE);
    const card = await page.locator('.cards > div', { hasText: 'Legacy share among browsers' }).innerText();
    expect(card).toContain('no data');
    expect(card).not.toContain('0.00%');
    await expectFits(page, 'no browsers');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-no-browsers-phone.png`, fullPage: true });
  });
});
