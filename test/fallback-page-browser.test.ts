import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPageRenderer, type PageRenderer } from '../src/fallback/page.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';
import type { PageTexts } from '../src/fallback/texts/types.js';
import { closeServer, listenOn } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';
import { LONG } from './helpers/long.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

// Browser globals used inside page callbacks, which run in Chromium: the project compiles without the DOM lib.
declare const document: { characterSet: string; documentElement: { lang: string; dir: string }; querySelector(selector: string): unknown };
declare function getComputedStyle(element: unknown): { direction: string };

// An owner's right-to-left language, so dir="rtl" is checked in a real layout engine too.
const ARABIC: PageTexts = {
  ...BUILT_IN_LANGUAGES[0]!.texts,
  title: 'لا يمكن إنشاء اتصال آمن',
  heading: 'متصفحك أو جهازك قديم جدًا للاتصال بشكل آمن',
  interstitialContinue: 'المتابعة إلى الموقع',
};

const ALL_LANGUAGES = [...BUILT_IN_LANGUAGES.map((pack) => ({ tag: pack.tag, texts: pack.texts })), { tag: 'ar', texts: ARABIC }];
// One of each script in npm test (Latin with diacritics, Cyrillic, CJK, right-to-left); all with LONG_TESTS=1.
const LANGUAGES = LONG ? ALL_LANGUAGES : ALL_LANGUAGES.filter((l) => ['de', 'ru', 'ja', 'ar'].includes(l.tag));

/**
 * Serves the pages as the engine will: `/page/<tag>` with the charset in the header, `/bare/<tag>` with
 * `Content-Type: text/html` only (so only the meta tag can tell the browser), `/unlabelled` with neither
 * (the control), `/interstitial/<tag>`, and `/landed` behind its link.
 */
function pageServer(renderer: PageRenderer): Server {
  return createServer((req, res) => {
    const [, kind = '', tag = ''] = (req.url ?? '').split(/[/?]/);
    const send = (body: string, type = 'text/html; charset=utf-8') => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (kind === 'page') return send(renderer.page(tag, 'before'));
    if (kind === 'bare') return send(renderer.page(tag, 'before'), 'text/html');
    if (kind === 'unlabelled') return send(renderer.page('de').replace(/<meta (http-equiv|charset)[^>]*>\n/g, ''), 'text/html');
    if (kind === 'interstitial') return send(renderer.interstitial!(tag, `/landed?from=${tag}`));
    if (kind === 'landed') return send('<!DOCTYPE html><title>landed</title><p>landed</p>');
    res.writeHead(404).end();
  });
}

describe.runIf(hasTool('chromium'))('the fallback page in Chromium, every language', () => {
  let server: Server;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    const renderer = createPageRenderer({ organisation: 'Acme', email: 'help@example.com', texts: { ar: ARABIC } }, { switchOff: '2027-03-01' });
    server = pageServer(renderer);
    base = `http://127.0.0.1:${await listenOn(server)}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    // No script is needed by any page: run them all with JavaScript off, as a locked-down old browser would.
    context = await browser.newContext({ javaScriptEnabled: false });
    await mkdir(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close();
    if (server) await closeServer(server);
  }, 30_000);

  /** Opens a URL and returns the page, with every request it made besides the document. */
  async function open(path: string): Promise<{ page: Page; others: string[] }> {
    const page = await context.newPage();
    const others: string[] = [];
    page.on('request', (request) => {
      if (request.url() !== `${base}${path}` && !request.url().endsWith('/favicon.ico')) others.push(request.url());
    });
    const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    return { page, others };
  }

  async function facts(page: Page) {
    return page.evaluate(() => ({
      charset: document.characterSet,
      lang: document.documentElement.lang,
      dir: document.documentElement.dir,
      direction: getComputedStyle(document.querySelector('h1')).direction,
    }));
  }

  it.each(LANGUAGES.map((l) => [l.tag, l] as const))('%s: shows the heading, decoded from the header or from the meta tag alone', async (tag, { texts }) => {
    for (const path of [`/page/${tag}`, `/bare/${tag}`]) {
      const { page, others } = await open(path);
      expect(await page.locator('h1').innerText(), path).toBe(texts.heading);
      expect(await page.title(), path).toBe(`${texts.title} – Acme`);
      const rtl = tag === 'ar';
      expect(await facts(page), path).toEqual({ charset: 'UTF-8', lang: tag, dir: rtl ? 'rtl' : 'ltr', direction: rtl ? 'rtl' : 'ltr' });
      expect(others, 'nothing else fetched').toEqual([]);
      if (tag === 'en' || tag === 'ar' || tag === 'de') await page.screenshot({ path: `${ARTIFACTS}fallback-page-${tag}.png`, fullPage: true });
      await page.close();
    }
  });

  // Chromium, unlike IE 6, also honours a meta tag found late in <head>, so the 1024-byte rule is checked
  // on the bytes (fallback-page.test.ts); here the control is a page with no declaration at all.
  it('the check can fail: without the meta tag and without a charset in the header, the heading is mojibake', async () => {
    const { page } = await open('/unlabelled');
    const heading = BUILT_IN_LANGUAGES.find((p) => p.tag === 'de')!.texts.heading;
    expect((await facts(page)).charset).not.toBe('UTF-8');
    expect(await page.locator('h1').innerText()).not.toBe(heading);
    expect(await page.locator('h1').innerText()).toBe(Buffer.from(heading, 'utf8').toString('latin1'));
    await page.close();
  });

  it.each(['de', 'ja', 'ar'])('%s interstitial: the link leads on without any script', async (tag) => {
    const { page, others } = await open(`/interstitial/${tag}`);
    const texts = ALL_LANGUAGES.find((l) => l.tag === tag)!.texts;
    expect(await page.locator('h1').innerText()).toBe(texts.interstitialHeading);
    if (tag === 'de') await page.screenshot({ path: `${ARTIFACTS}interstitial-${tag}.png`, fullPage: true });
    await page.getByRole('link', { name: texts.interstitialContinue }).click();
    await page.waitForURL(`${base}/landed?from=${tag}`);
    expect(await page.locator('p').innerText()).toBe('landed');
    expect(others.filter((url) => !url.startsWith(`${base}/landed`))).toEqual([]);
    await page.close();
  });
});
