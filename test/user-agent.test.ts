import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { getPattern, isbot, list as isbotList } from 'isbot';
import UAParser from 'ua-parser-js';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBotMatcher, isBot } from '../src/classify/bots.js';
import { LiteralScanner, requiredText } from '../src/classify/literals.js';
import { BROWSER_FAMILIES } from '../src/classify/policy.js';
import {
  MAY_NAME_A_POLICY_FAMILY,
  MAX_CACHED_USER_AGENTS,
  MAX_USER_AGENT_LENGTH,
  clearUserAgentCache,
  isUserAgentCached,
  parseModernBrowser,
  parseUserAgent,
  parseWithUaParser,
  userAgentCacheSize,
} from '../src/classify/user-agent.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** `userAgent` padded after its last token with app tokens to exactly `length` characters. */
function padTo(userAgent: string, length: number): string {
  let padded = userAgent;
  for (let i = 0; padded.length + ` Plugin${i}/1.0`.length + 4 <= length; i++) padded += ` Plugin${i}/1.0`;
  return `${padded} v/${'1'.repeat(length - padded.length - 3)}`;
}

// Real user agents of current browsers, as sent and with the tokens apps and extensions add before
// or after the browser's own: the fast path must answer for every one of them, and answer exactly
// what the full parser answers.
const MODERN = [
  CHROME,
  'Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.101 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 8.0.0; SM-G930F Build/R16NW) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 4.3; GT-I9300 Build/JSS15J) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; SM-T510) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 12; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.18363',
  'Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0',
  'Mozilla/5.0 (Linux; Android 10; VOG-L29) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 OPR/81.1.4292.78446',
  'Mozilla/5.0 (Linux; Android 13; SM-S901B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 9; SAMSUNG SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 10; wv) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 9; SM-G960F Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/74.0.3729.157 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:27.0) Gecko/20100101 Firefox/27.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9) AppleWebKit/537.71 (KHTML, like Gecko) Version/7.0 Safari/537.71',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/124.0.2478.50 Version/17.0 Mobile/15E148 Safari/604.1',
  // Extra tokens after and before the browser's own, as apps, webviews and extensions add them.
  `${CHROME} build/123456789`,
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) MyApp/2.3.1 Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Mattermost/5.8.0 Chrome/120.0.6099.291 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 MyBank/7.4.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0 build/77',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1 AppId/42',
  // Letter case no browser sends: ua-parser-js and isbot ignore case, and so does the fast path.
  CHROME.toUpperCase(),
  'mOzIlLa/5.0 (iPhone; CPU IPHONE os 17_4 LIKE mac OS x) APPLEWEBKIT/605.1.15 (khtml, LIKE gecko) VERSION/17.4 mobile/15e148 SAFARI/604.1',
  // As long as a user agent may be: ua-parser-js reads 500 characters of it, isbot all 512.
  padTo(CHROME, 499),
  padTo(CHROME, 512),
];

// Shapes the fast path must leave to the full parser: other browsers and OSes, bots, libraries,
// old versions, and what the full parser could read otherwise than the fast path.
const NOT_FAST = {
  Yandex:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 YaBrowser/24.4.0.0 Safari/537.36',
  'Googlebot smartphone':
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  HeadlessChrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
  'Chrome 29': 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/29.0.1547.57 Safari/537.36',
  'Firefox 26': 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:26.0) Gecko/20100101 Firefox/26.0',
  'Safari 6':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_5) AppleWebKit/536.30.1 (KHTML, like Gecko) Version/6.0.5 Safari/536.30.1',
  'Mobile Safari 6 (iOS 6)':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 6_1_4 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Version/6.0 Mobile/10B350 Safari/8536.25',
  'Opera 15 (OPR/15, Chrome 28)':
    'Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/28.0.1500.52 Safari/537.36 OPR/15.0.1147.100',
  'Opera 16 on Chrome 30': 'Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.101 Safari/537.36 OPR/16.0.1196.80',
  'Presto Opera': 'Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.16',
  'IE 11 in compatibility view': 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/7.0; SLCC2; .NET4.0C; .NET4.0E)',
  'Firefox on Ubuntu': 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Android 4.4 stock browser (Version/4.0 + Chrome/30, no wv)':
    'Mozilla/5.0 (Linux; Android 4.4.2; Nexus 5 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/30.0.0.0 Mobile Safari/537.36',
  'Android 4.3 stock browser on Chromium 30':
    'Mozilla/5.0 (Linux; Android 4.3; SM-N900 Build/JSS15J) AppleWebKit/537.36 (KHTML, like Gecko) Version/1.5 Chrome/30.0.1599.103 Mobile Safari/537.36',
  'Chrome/ twice': `${CHROME} Chrome/124.0.0.0`,
  'Chrome/131 then Chrome/29': `${CHROME.replace('Safari/537.36', 'Chrome/29.0.1547.57 Safari/537.36')}`,
  'Chrome/ inside another token': `${CHROME} XChrome/29.0`,
  'CriOS on Android': 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) CriOS/124.0.0.0 Mobile Safari/537.36',
  'Electron app': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.36.140 Chrome/120.0.6099.291 Electron/28.2.1 Safari/537.36',
  'Facebook in-app browser':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/458.0.0.38.108;FBBV/577148025;FBDV/iPhone14,2;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]',
  'Xbox (an OS word after the browser)': `${CHROME} Xbox/1`,
  'Windows Phone (an OS word after an Android browser)':
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 Windows Phone/10.0',
  'Xbox platform': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edge/44.18363.8131',
  'a library token (aiohttp)': `${CHROME} aiohttp/3.9.1`,
  'Safari on macOS with a Mobile token':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile Safari/605.1.15',
  'Version/ after Safari/': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15 Version/17.4.1',
  'a word as the iOS build number':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/baiduboxapp Safari/604.1',
  'a model that names another OS': 'Mozilla/5.0 (Linux; Android 10; HarmonyOS) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'a comment after the browser': `${CHROME} (Ecosia android@124.0.6367.82)`,
  'two spaces': CHROME.replace(') AppleWebKit', ')  AppleWebKit'),
  'outside ASCII': `${CHROME} Caf\u00e9/1.0`,
  // Lower-cased, the Kelvin sign is `k`; ua-parser-js does not read it as one, and calls this Mac OS.
  'a Kelvin sign in "like"':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 li\u212ae Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'the Chrome token cut by ua-parser-js at 500 characters': `${padTo('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Safari/537.36', 490)} Chrome/124.0.0.0`,
};

beforeEach(() => {
  clearUserAgentCache();
});

describe('fast path', () => {
  it.each(MODERN)('answers exactly as the full parser for %s', (userAgent) => {
    const fast = parseModernBrowser(userAgent);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(parseWithUaParser(userAgent));
  });

  it.each(Object.entries(NOT_FAST))('leaves %s to the full parser', (_name, userAgent) => {
    expect(parseModernBrowser(userAgent.slice(0, MAX_USER_AGENT_LENGTH).trim())).toBeNull();
  });

  it('names the browser the full parser names, not the engine', () => {
    const family = (userAgent: string) => parseModernBrowser(userAgent)?.browser;
    expect(MODERN.filter((ua) => / OPR\//.test(ua)).map(family)).toEqual(['Opera', 'Opera']);
    expect(MODERN.filter((ua) => /SamsungBrowser/.test(ua)).map(family)).toEqual(['Samsung Internet', 'Samsung Internet']);
    expect(MODERN.filter((ua) => / Edg(?:A|iOS|e)?\//.test(ua)).map(family)).toEqual(['Edge', 'Edge', 'Edge', 'Edge']);
    // On iOS every browser is WebKit: Chrome and Firefox there are not the desktop rows.
    expect(MODERN.filter((ua) => /CriOS|FxiOS/.test(ua)).map(family)).toEqual(['Chrome iOS', 'Firefox iOS']);
    expect(family(MODERN.find((ua) => ua.includes('; wv)')) as string)).toBe('Chrome');
  });

  it('answers up to the longest user agent, on both sides of ua-parser-js’s 500 characters', () => {
    expect(MODERN.map((userAgent) => userAgent.length)).toEqual(expect.arrayContaining([499, MAX_USER_AGENT_LENGTH]));
  });

  it('does not fill the cache', () => {
    for (const userAgent of MODERN) parseUserAgent(userAgent);
    expect(userAgentCacheSize()).toBe(0);
  });
});

// Every word of ua-parser-js's browser and OS lists, of isbot's list and of the library names, as
// a token after the browser's, before it, inside the Android model name and in upper case: the fast
// path may step aside, but when it answers it must answer what the full parser answers. A word
// missing from the fast path's list of full-parser words fails here.
/** The words of a regular expression's source: its escapes (`\\b`, `\\w`…) are not letters. */
function wordsOf(source: string): string[] {
  return (source.replace(/\\[A-Za-z]/g, ' ').match(/[a-z0-9_]{2,}/gi) ?? []).map((word) => word.toLowerCase());
}

describe('fast path against every word the full parser reads', () => {
  const source = readFileSync(createRequire(import.meta.url).resolve('ua-parser-js'), 'utf8');
  const regexes = source.slice(source.indexOf('browser : [['), source.indexOf('cpu : [[')) + source.slice(source.indexOf('os : [['), source.indexOf('// Constructor'));
  const words = new Set<string>();
  for (const line of regexes.split('\n')) {
    const code = line.trim().split(/\s\/\/\s/)[0] ?? '';
    if (code.startsWith('/')) for (const word of wordsOf(code)) words.add(word);
  }
  for (const entry of isbotList) for (const word of wordsOf(entry)) words.add(word);
  for (const word of ['aiohttp', 'winhttp', 'cfnetwork', 'java', 'curl', 'wget', 'okhttp', 'dalvik', 'darwin']) words.add(word);
  const BASES = [
    CHROME,
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Linux; Android 10; K; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15',
    'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0',
  ];
  const variants = (base: string, token: string): string[] => {
    const parts = base.split(' ');
    const product = parts.findIndex((part) => /^(?:Chrome|Version|Firefox|FxiOS)\//.test(part));
    return [
      `${base} ${token}`,
      [...parts.slice(0, product), token, ...parts.slice(product)].join(' '),
      base.replace('Android 10; K', `Android 10; ${token}`),
      `${base} ${token}`.toUpperCase(),
    ];
  };

  // And strings that match each of ua-parser-js's browser and OS patterns, drawn by fast-check.
  // fast-check draws from neither `\b` nor lookaheads nor the `i` flag: it draws from the pattern
  // without them, and the draws that the real pattern does not match are dropped.
  const matching: string[] = [];
  for (const line of regexes.split('\n')) {
    const literal = /^\/(.+)\/([a-z]*),?$/.exec((line.trim().split(/\s+\/\/\s/)[0] ?? '').trim());
    if (literal === null) continue;
    const pattern = new RegExp(literal[1] as string, literal[2]);
    const widened = new RegExp((literal[1] as string).replace(/\\b/g, '').replace(/\(\?[=!](?:[^()\\]|\\.|\([^()]*\))*\)\??/g, ''));
    matching.push(...fc.sample(fc.stringMatching(widened, { size: 'xsmall' }), { numRuns: 12, seed: 11 }).filter((text) => pattern.test(text)));
  }

  it('has a vocabulary from every list', () => {
    for (const word of ['crios', 'edg', 'opr', 'samsungbrowser', 'electron', 'fxios', 'harmonyos', 'xbox', 'crawl', 'headless', 'aiohttp']) {
      expect(words).toContain(word);
    }
    expect(words.size).toBeGreaterThan(500);
    expect(matching.length).toBeGreaterThan(1000);
    for (const text of ['opx/', 'yabrowser/', 'electron/']) expect(matching.some((sample) => sample.includes(text))).toBe(true);
  });

  it.each(BASES)('agrees with the full parser or steps aside: %s', (base) => {
    let answered = 0;
    for (const word of words) {
      for (const token of [`${word}/1.2`, word, `x${word}/3`, `${word} 4.5`]) {
        for (const userAgent of variants(base, token)) {
          const fast = parseModernBrowser(userAgent);
          if (fast === null) continue;
          answered++;
          expect(fast, userAgent).toEqual(parseWithUaParser(userAgent));
        }
      }
    }
    // The fast path still answers for most tokens: the list is not "every word".
    expect(answered).toBeGreaterThan(words.size);
    for (const text of matching) {
      for (const userAgent of variants(base, text)) {
        const fast = parseModernBrowser(userAgent);
        if (fast !== null) expect(fast, userAgent).toEqual(parseWithUaParser(userAgent));
      }
    }
  });

  it('agrees with the full parser on random tokens anywhere, in any case', () => {
    const vocabulary = [...words];
    const token = fc.oneof(
      fc.constantFrom(...vocabulary),
      fc.constantFrom(...vocabulary).map((word) => `${word}/1.0`),
      fc.stringMatching(/^[A-Za-z0-9./_+;:()@|,-]{1,12}$/),
    );
    fc.assert(
      fc.property(fc.constantFrom(...BASES), fc.array(fc.tuple(fc.nat(), token), { maxLength: 4 }), fc.boolean(), (base, inserts, upper) => {
        const parts = base.split(' ');
        for (const [at, word] of inserts) parts.splice(1 + (at % parts.length), 0, word);
        const userAgent = upper ? parts.join(' ').toUpperCase() : parts.join(' ');
        const fast = parseModernBrowser(userAgent);
        if (fast !== null) expect(fast).toEqual(parseWithUaParser(userAgent));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('bots and libraries with browser tokens', () => {
  it('keeps the family and OS of a modern browser whose extra token isbot flags, as the full parser does', () => {
    const userAgent = `${CHROME} SiteAuditCrawler/1.0`;
    expect(isbot(userAgent)).toBe(true);
    expect(parseModernBrowser(userAgent)).toEqual({ browser: 'Chrome', version: '124.0.0.0', os: 'Windows 10', bot: true, kind: 'bot' });
    expect(parseModernBrowser(userAgent)).toEqual(parseWithUaParser(userAgent));
  });

  it.each([
    ['Googlebot smartphone', NOT_FAST['Googlebot smartphone'], 'bot'],
    ['a crawler word in the model name', CHROME.replace('Windows NT 10.0; Win64; x64', 'Linux; Android 10; Spider'), 'bot'],
    ['aiohttp after Chrome', NOT_FAST['a library token (aiohttp)'], 'library'],
    ['WinHttp after Chrome', `${CHROME} WinHttp/5.1`, 'library'],
  ] as const)('%s is never a browser', (_name, userAgent, kind) => {
    expect(parseUserAgent(userAgent).kind).toBe(kind);
  });
});

describe('bot check', () => {
  const userAgents = [...MODERN, ...Object.values(NOT_FAST)];

  it('is isbot: the same answer on browsers, bots and every literal of its list in context', () => {
    const samples = [...userAgents];
    for (const entry of isbotList) {
      const required = requiredText(entry);
      const text = required === null ? entry : 'within' in required ? required.within : required.suffix;
      for (const around of [['', ''], [' ', ' '], [' cu', '_'], ['lib', '/1.0;'], ['cam', 'sapphire'], ['g', ';'], ['x', 'app'], ['Mozilla/5.0 (', ')']]) {
        samples.push(`${around[0]}${text}${around[1]}`, `${CHROME} ${around[0]}${text}${around[1]}`.toUpperCase());
      }
    }
    for (const sample of samples) expect(isBot(sample, sample.toLowerCase()), sample).toBe(isbot(sample));
  });

  it('is isbot on random text made of its patterns’ words', () => {
    const words = isbotList.flatMap(wordsOf);
    const text = fc.array(fc.oneof(fc.constantFrom(...words), fc.constantFrom(' ', '/', ';', '(', ')', '.', '1.0', '@', '|', 'cu', 'lib'), fc.string({ maxLength: 3 })), { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (sample) => {
        expect(isBot(sample, sample.toLowerCase())).toBe(isbot(sample));
      }),
      { numRuns: 5000 },
    );
  });

  it('does not run isbot’s whole expression on a browser’s user agent', () => {
    let runs = 0;
    class Counting extends RegExp {
      override test(input: string): boolean {
        runs++;
        return super.test(input);
      }
    }
    const matcher = createBotMatcher(isbotList, new Counting(getPattern().source, 'i'));
    for (const userAgent of MODERN) expect(matcher(userAgent, userAgent.toLowerCase())).toBe(false);
    expect(runs).toBe(0);
  });

  it('falls back to the whole expression when its list cannot be split', () => {
    const cases: [string[], RegExp][] = [
      // The pattern is not the list's alternation.
      [['crawl', 'spider'], /crawl|spider|bot/i],
      // An alternative without a literal.
      [['^foo', '\\d+x'], /^foo|\d+x/i],
      // Alternation inside an alternative, and a back-reference.
      [['a|b', '(c)\\1'], /a|b|(c)\1/i],
    ];
    for (const [patterns, pattern] of cases) {
      const matcher = createBotMatcher(patterns, pattern);
      for (const sample of ['', 'bot', '12x', 'foo', 'xfoo', 'b', 'cc', 'crawler']) expect(matcher(sample, sample.toLowerCase())).toBe(sample !== '' && pattern.test(sample));
    }
  });
});

describe('required text of a regular expression', () => {
  it.each([
    ['crawl', { within: 'crawl' }],
    ['(?<! cu)bots?(?:\\b|_)', { within: 'bot' }],
    ['(?:^|[^g])news(?!sapphire)', { within: 'news' }],
    ['\\b\\w+/1\\.0;', { within: '/1.0;' }],
    [';\\s\\w+;$', { suffix: ';' }],
    ['ptst[ /]\\d', { within: 'ptst' }],
    ['Java(?!;)', { within: 'java' }],
    ['ab+c', { within: 'ab' }],
    ['abc{0,2}def', { within: 'def' }],
    ['x{2}yz', { within: 'yz' }],
    ['a|b', null],
    ['\\x41bc', null],
    ['(a)\\1', null],
    ['[abc]', null],
    ['a{', null],
    ['(unclosed', null],
  ] as const)('%s → %j', (source, expected) => {
    expect(requiredText(source)).toEqual(expected);
  });
});

describe('literal scanner', () => {
  const scanner = new LiteralScanner(['he', 'she', 'his', 'hers', 'a/1.0;']);

  it('finds literals anywhere, overlapping ones included', () => {
    expect(scanner.find('ushers')).toBe(true);
    expect(scanner.find('xxhixx')).toBe(false);
    expect(scanner.find('this')).toBe(true);
    expect(scanner.find('a/1.0 a/1.0;')).toBe(true);
    expect(scanner.find('a/1.0 a/1.0')).toBe(false);
    expect(scanner.find('')).toBe(false);
  });

  it('only between start and end', () => {
    expect(scanner.find('she', 1, 3)).toBe(true);
    expect(scanner.find('she', 0, 2)).toBe(false);
    expect(scanner.find('xshe', 2)).toBe(true);
  });

  it('never matches across characters outside ASCII', () => {
    expect(scanner.find('s\u0127e')).toBe(false);
    expect(scanner.find('\u00e9she')).toBe(true);
  });

  it('accepts only lower-case ASCII literals', () => {
    expect(() => new LiteralScanner(['Bot'])).toThrow(TypeError);
    expect(() => new LiteralScanner(['caf\u00e9'])).toThrow(TypeError);
    expect(() => new LiteralScanner([''])).toThrow(TypeError);
  });
});

describe('families and versions', () => {
  it('reads IE 11 in compatibility view from Trident/7.0, not MSIE 7.0', () => {
    const client = parseUserAgent(
      'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/7.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; .NET4.0C; .NET4.0E)',
    );
    expect(client).toEqual({ browser: 'IE', version: '11.0', os: 'Windows 7', bot: false, kind: 'browser' });
  });

  it('maps every Trident version to its IE and keeps MSIE when there is no Trident', () => {
    expect(parseUserAgent('Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.2; WOW64; Trident/6.0; .NET4.0E)').version).toBe('10.0');
    expect(parseUserAgent('Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/5.0)').version).toBe('9.0');
    expect(parseUserAgent('Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1; Trident/4.0)').version).toBe('8.0');
    expect(parseUserAgent('Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)').version).toBe('7.0');
    expect(parseUserAgent('Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)')).toMatchObject({
      browser: 'IE',
      version: '6.0',
      os: 'Windows XP',
    });
  });

  it('names IE Mobile', () => {
    expect(
      parseUserAgent(
        'Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)',
      ),
    ).toMatchObject({ browser: 'IE Mobile', version: '10.0', os: 'Windows Phone 8.0' });
  });

  it('reads Safari from Version/ and old WebKit builds as the Safari they shipped in', () => {
    expect(
      parseUserAgent(
        'Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_8; en-us) AppleWebKit/533.21.1 (KHTML, like Gecko) Safari/533.21.1',
      ),
    ).toMatchObject({ browser: 'Safari', version: '5.0', os: 'Mac OS 10.6' });
    expect(
      parseUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5) AppleWebKit/534.57.2 (KHTML, like Gecko) Safari/6534.57.2')
        .version,
    ).toBe('5.1');
    // WebKit 537 shipped in both Safari 6.1 and 7: not a confident answer.
    expect(
      parseUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.78.2 (KHTML, like Gecko) Safari/537.78.2')
        .version,
    ).toBeNull();
  });

  it('does not read Safari/8536.25 as a version on iOS (ua-parser-js alone says "1.0")', () => {
    expect(
      parseUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 6_1_3 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Mobile/10B329 Safari/8536.25',
      ),
    ).toMatchObject({ browser: 'Mobile Safari', version: null, os: 'iOS 6.1' });
  });

  it('calls Safari on an iPad without a Mobile/ token Mobile Safari', () => {
    expect(
      parseUserAgent('Mozilla/5.0 (iPad; CPU OS 5_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Safari/7534.48.3'),
    ).toMatchObject({ browser: 'Mobile Safari', version: '5.1', os: 'iOS 5.1' });
  });

  it('keeps Chrome and Firefox on iOS off the desktop rows', () => {
    expect(
      parseUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) CriOS/19.0.1084.60 Mobile/9B206 Safari/7534.48.3',
      ).browser,
    ).toBe('Chrome iOS');
    expect(
      parseUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 8_3 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) FxiOS/1.0 Mobile/12F69 Safari/600.1.4',
      ).browser,
    ).toBe('Firefox iOS');
  });

  it('reads Version/, Trident/ and AppleWebKit/ in any letter case, as ua-parser-js reads the rest', () => {
    const upper = (userAgent: string) => parseWithUaParser(userAgent.toUpperCase());
    expect(upper('Mozilla/5.0 (iPhone; CPU iPhone OS 6_1_4 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Version/6.0 Mobile/10B350 Safari/8536.25')).toMatchObject({
      browser: 'Mobile Safari',
      version: '6.0',
    });
    expect(upper('Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/7.0; SLCC2)')).toMatchObject({ browser: 'IE', version: '11.0' });
    expect(upper('Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_8; en-us) AppleWebKit/533.21.1 (KHTML, like Gecko) Safari/533.21.1').version).toBe('5.0');
  });

  it('gives the stock Android browser the Android version', () => {
    expect(
      parseUserAgent(
        'Mozilla/5.0 (Linux; U; Android 4.3; en-us; SCH-I535 Build/JSS15J) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30',
      ),
    ).toEqual({ browser: 'Android Browser', version: '4.3', os: 'Android 4.3', bot: false, kind: 'browser' });
  });

  it('files Chrome WebView and Chromium under Chrome', () => {
    expect(
      parseUserAgent(
        'Mozilla/5.0 (Linux; Android 9; SM-G960F Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/74.0.3729.157 Mobile Safari/537.36',
      ),
    ).toMatchObject({ browser: 'Chrome', version: '74.0.3729.157' });
    expect(
      parseUserAgent(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/37.0.2062.94 Chrome/37.0.2062.94 Safari/537.36',
      ),
    ).toMatchObject({ browser: 'Chrome', version: '37.0.2062.94' });
  });

  it('files Presto and Chromium Opera under Opera', () => {
    expect(parseUserAgent('Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.16')).toMatchObject({
      browser: 'Opera',
      version: '12.16',
    });
    expect(parseUserAgent(MODERN.find((ua) => ua.includes(' OPR/109')))).toMatchObject({ browser: 'Opera', version: '109.0.0.0' });
  });
});

describe('kinds', () => {
  it.each([
    ['curl/7.68.0', 'curl', '7.68.0'],
    ['Wget/1.12 (linux-gnu)', 'Wget', '1.12'],
    ['python-requests/2.31.0', 'python-requests', '2.31.0'],
    ['Python-urllib/2.7', 'Python-urllib', '2.7'],
    ['Python/3.11 aiohttp/3.9.1', 'aiohttp', '3.9.1'],
    ['Go-http-client/1.1', 'Go-http-client', '1.1'],
    ['okhttp/3.12.1', 'okhttp', '3.12.1'],
    ['Java/1.7.0_25', 'Java', '1.7.0_25'],
    ['Microsoft .NET Framework', '.NET', null],
    ['Mozilla/4.0 (compatible; Win32; WinHttp.WinHttpRequest.5)', 'WinHttp', null],
    ['libwww-perl/6.05', 'libwww-perl', '6.05'],
    ['GuzzleHttp/6.5.5 curl/7.29.0 PHP/7.2.24', 'Guzzle', '6.5.5'],
    ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 'node-fetch', '1.0'],
    ['undici', 'undici', null],
    ['axios/1.6.2', 'axios', '1.6.2'],
    ['ddclient/3.9.1', 'ddclient', '3.9.1'],
    ['Apache-HttpClient/4.5.13 (Java/1.8.0_292)', 'Apache-HttpClient', '4.5.13'],
  ])('%s is a library, not a bot', (userAgent, browser, version) => {
    expect(parseUserAgent(userAgent)).toEqual({ browser, version, os: null, bot: false, kind: 'library' });
  });

  it.each([
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
    NOT_FAST['Googlebot smartphone'],
  ])('%s is a bot', (userAgent) => {
    expect(parseUserAgent(userAgent)).toMatchObject({ bot: true, kind: 'bot' });
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['undefined', undefined],
    ['null', null],
    ['without a browser token', 'Mozilla/5.0 (Windows NT 10.0)'],
  ])('%s is unknown', (_name, userAgent) => {
    expect(parseUserAgent(userAgent)).toMatchObject({ browser: null, version: null, bot: false, kind: 'unknown' });
  });

  it('leaves programs missing from the library list to isbot, which calls bare tokens bots, named by their product token', () => {
    expect(parseUserAgent('MyUptimeMonitor/2.0')).toMatchObject({ browser: 'MyUptimeMonitor', version: null, bot: true, kind: 'bot' });
    expect(parseUserAgent('hello').kind).toBe('bot');
  });

  it.each([
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Googlebot'],
    ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'bingbot'],
    ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'facebookexternalhit'],
    ['Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)', 'Slurp'],
    [`${'B'.repeat(60)}bot/1.0`, null],
    [`Mozilla/5.0 (compatible; ${'x'.repeat(30)}bot/1.0)`, `${'x'.repeat(30)}bo`],
  ])('names a bot by its own product token, bounded: %s', (userAgent, name) => {
    const parsed = parseUserAgent(userAgent);
    expect(parsed.kind).toBe('bot');
    expect(parsed.browser).toBe(name);
    expect(parsed.version).toBeNull();
  });

  it('treats a non-string at runtime as unknown instead of throwing', () => {
    expect(parseUserAgent(['curl/8'] as unknown as string).kind).toBe('unknown');
  });
});

// One or more per rule of ua-parser-js 1.x that names a policy family, old and new, plus browsers
// that name none: the pre-check must never send one of the former past the full parser.
const PRE_CHECK_CORPUS = [
  ...MODERN,
  ...Object.values(NOT_FAST),
  'Mozilla/5.0 (Linux; U; Android 4.0.4; en-us; Galaxy Nexus Build/IMM76B) AppleWebKit/535.19 (KHTML, like Gecko) CrMo/18.0.1025.133 Mobile Safari/535.19',
  'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)',
  'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)',
  'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko',
  'Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)',
  'Mozilla/4.0 (compatible; MSIE 7.0; Windows Phone OS 7.0; Trident/3.1; IEMobile/7.0; Nokia;N70)',
  'Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.0.3) Gecko/2008092416 Firefox/3.0.3',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15',
  'Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.229 Version/11.62',
  'Opera/9.80 (Android 2.3.3; Linux; Opera Mobi/ADR-1111101157; U; es-ES) Presto/2.9.201 Version/11.50',
  'Opera/9.80 (Android 3.2.1; Linux; Opera Tablet/ADR-1109081720; U; ja) Presto/2.8.149 Version/11.10',
  'Opera/9.64 (Windows NT 5.1; U; en) Presto/2.1.1',
  'Mozilla/5.0 (Linux; U; Android 4.1.2; en-us; GT-I9100 Build/JZO54K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30',
  'Mozilla/5.0 (iPhone; U; CPU iPhone OS 4_3_3 like Mac OS X; en-us) AppleWebKit/533.17.9 (KHTML, like Gecko) Version/5.0.2 Mobile/8J2 Safari/6533.18.5',
  'Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_8; en-us) AppleWebKit/534.50 (KHTML, like Gecko) Version/5.1 Safari/534.50',
  'Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/125.2 (KHTML, like Gecko) Safari/125.8',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/37.0.2062.94 Chrome/37.0.2062.94 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 5.1.1; Nexus 5 Build/LMY48B; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/43.0.2357.65 Mobile Safari/537.36',
  // None of the families: counted as unknown without looking the browser up.
  'Lynx/2.8.9rel.1 libwww-FM/2.14 SSL-MM/1.4.1 OpenSSL/1.1.1d',
  'w3m/0.5.3+git20190105',
  'Links (2.20.2; Linux 5.10.0-9-amd64 x86_64; GNU C 10.2.1; text)',
  'NetSurf/3.10 (Linux)',
  'Mozilla/5.0 (compatible; Konqueror/4.5; Linux) KHTML/4.5.4 (like Gecko)',
  'Mozilla/5.0 (X11; Linux) Foo/12345',
  'Mozilla/5.0 (Windows NT 10.0)',
];

describe('pre-check before ua-parser-js', () => {
  const families: ReadonlySet<string> = new Set(BROWSER_FAMILIES);

  // The names ua-parser-js gives that the parser files under a policy family (FAMILY_NAMES).
  const FAMILY_RAW_NAMES = ['IE', 'IEMobile', 'Chrome', 'Chromium', 'Chrome WebView', 'Chrome Headless', 'Firefox', 'Safari', 'Mobile Safari', 'Android Browser', 'Opera', 'Opera Mobi', 'Opera Tablet'];

  it.each(PRE_CHECK_CORPUS)('skips only user agents that name no policy family: %s', (userAgent) => {
    const raw = new UAParser(userAgent).getBrowser().name ?? '';
    if (MAY_NAME_A_POLICY_FAMILY.test(userAgent)) expect(parseWithUaParser(userAgent).browser).not.toBeNull();
    else {
      expect(FAMILY_RAW_NAMES).not.toContain(raw);
      // No policy family; a bot is named by its own product token (never a family name).
      const parsed = parseWithUaParser(userAgent);
      if (parsed.bot) expect(families.has(parsed.browser ?? '')).toBe(false);
      else expect(parsed.browser).toBeNull();
    }
  });

  it('still reads the OS and isbot of a skipped user agent', () => {
    expect(parseWithUaParser('Mozilla/5.0 (X11; Linux) Foo/12345')).toEqual({ browser: null, version: null, os: 'Linux', bot: false, kind: 'unknown' });
    expect(parseWithUaParser('Lynx/2.8.9rel.1 libwww-FM/2.14 SSL-MM/1.4.1 OpenSSL/1.1.1d')).toMatchObject({ browser: null, kind: 'unknown' });
    expect(parseWithUaParser('Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)')).toMatchObject({ browser: 'YandexBot', version: null, bot: true, kind: 'bot' });
  });

  it('has a corpus where most user agents name a family, from every rule', () => {
    const named = PRE_CHECK_CORPUS.map((ua) => parseWithUaParser(ua).browser).filter((name) => families.has(name ?? ''));
    expect(named.length).toBeGreaterThan(30);
    expect(new Set(named)).toEqual(new Set(['IE', 'IE Mobile', 'Chrome', 'Firefox', 'Safari', 'Mobile Safari', 'Android Browser', 'Opera']));
  });
});

describe('cache', () => {
  it(`stays at ${MAX_CACHED_USER_AGENTS} entries however many user agents arrive`, () => {
    for (let i = 0; i < MAX_CACHED_USER_AGENTS + 300; i++) {
      parseUserAgent(`Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; build ${i})`);
    }
    expect(userAgentCacheSize()).toBe(MAX_CACHED_USER_AGENTS);
  });

  it('keeps the full parses of returning clients however many new modern user agents stream by', () => {
    const returning = Array.from({ length: MAX_CACHED_USER_AGENTS }, (_, i) => `Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; client ${i})`);
    for (const userAgent of returning) parseUserAgent(userAgent);
    for (let i = 0; i < 5_000; i++) {
      parseUserAgent(`${CHROME} build/${i}`);
      parseUserAgent(CHROME.replace('(KHTML, like Gecko)', `(KHTML, like Gecko) App/${i}`).toUpperCase());
      parseUserAgent(padTo(`${CHROME} id/${i}`, 510));
    }
    expect(userAgentCacheSize()).toBe(MAX_CACHED_USER_AGENTS);
    expect(returning.every(isUserAgentCached)).toBe(true);
  });

  it('returns equal but separate objects, so a caller cannot corrupt the cache', () => {
    const userAgent = 'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)';
    const first = parseUserAgent(userAgent);
    first.version = '99.0';
    const second = parseUserAgent(userAgent);
    expect(userAgentCacheSize()).toBe(1);
    expect(second.version).toBe('10.0');
    expect(second).toEqual(parseWithUaParser(userAgent));
  });
});

// ua-parser-js has shipped several ReDoS bugs (CVE-2020-7733, CVE-2020-7793, CVE-2021-27292):
// hostile input must be cut to MAX_USER_AGENT_LENGTH before any regular expression sees it.
describe('hostile user agents', () => {
  const payloads = {
    'repeated spaces': `Mozilla/5.0 (Windows NT 10.0${' '.repeat(16_384)})`,
    'repeated dots after Version/': `Mozilla/5.0 Version/1${'.1'.repeat(8_192)} Safari/`,
    'iOS-looking prefix': `Mozilla/5.0 (iPhone; CPU iPhone OS ${'1_'.repeat(8_192)}`,
    'random bytes': Array.from({ length: 16_384 }, (_, i) => String.fromCharCode(32 + ((i * 7919) % 95))).join(''),
  };

  it.each(Object.entries(payloads))('parses 16 KB of %s quickly into a valid ClientInfo', (_name, userAgent) => {
    const started = performance.now();
    const client = parseUserAgent(userAgent);
    expect(performance.now() - started).toBeLessThan(200);
    expect(['browser', 'bot', 'library', 'unknown']).toContain(client.kind);
    for (const field of [client.browser, client.version, client.os]) {
      expect(field === null || (typeof field === 'string' && field.length <= 64)).toBe(true);
    }
  });

  // Built against each regular expression and loop of the fast path and of the bot check: long
  // runs that a backtracking pattern would retry at every split. Each is parsed a few hundred times;
  // with catastrophic backtracking a single parse would outlast the test's timeout.
  const adversarial = {
    'digits after Android': `Mozilla/5.0 (Linux; Android ${'1'.repeat(490)}) x`,
    'a model of spaces': `Mozilla/5.0 (Linux; Android 10; ${' a'.repeat(240)}) AppleWebKit/537.36`,
    'nested parentheses': `Mozilla/5.0 (${'('.repeat(498)}`,
    'rv: repeated in the platform': `Mozilla/5.0 (Windows NT 10.0${'; rv:1'.repeat(80)}) x`,
    'slashes in a token': `${CHROME} ${'a/'.repeat(190)}`,
    'a version of dots': `Mozilla/5.0 (Windows NT 10.0) Chrome/${'1.'.repeat(240)}`,
    'a Baidu-like word': `${CHROME} b${'ai'.repeat(190)}`,
    'another Baidu-like word': `${CHROME} bd${'ub'.repeat(190)}`,
    'one long word': `${'a'.repeat(511)}!`,
    'word/1.0 runs': `Mozilla/5.0 ${'x/1.0 '.repeat(83)}`,
    semicolons: `Mozilla/5.0 (${'; a'.repeat(166)};`,
    'at-signs': `Mozilla/5.0 (${'@a'.repeat(249)}`,
    'many short tokens': `${CHROME} ${'a '.repeat(195)}b`,
    'the KHTML comment repeated': `Mozilla/5.0 (Windows NT 10.0) ${'(KHTML, like Gecko) '.repeat(25)}`,
  };

  it.each(Object.entries(adversarial))('does bounded work on %s', (_name, userAgent) => {
    const cut = userAgent.slice(0, MAX_USER_AGENT_LENGTH).trim();
    expect(cut.length).toBeGreaterThan(400);
    for (let i = 0; i < 300; i++) {
      parseModernBrowser(cut);
      isBot(cut, cut.toLowerCase());
    }
    expect(parseWithUaParser(cut)).toEqual(parseUserAgent(userAgent));
  });

  it('ignores everything after the first MAX_USER_AGENT_LENGTH characters', () => {
    const padding = 'x'.repeat(MAX_USER_AGENT_LENGTH);
    expect(parseUserAgent(`Mozilla/5.0 (compatible; Googlebot/2.1; ${padding})`).kind).toBe('bot');
    expect(parseUserAgent(`Mozilla/5.0 (compatible; ${padding}; Googlebot/2.1)`).kind).not.toBe('bot');
  });

  it('never throws on random input', () => {
    let seed = 42;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    const alphabet = 'Mozilla/5.0 (;) MSIE Trident Version Safari Chrome Android iPhone OS_ rv:0123456789.-_';
    for (let i = 0; i < 300; i++) {
      const length = next() % 300;
      let userAgent = '';
      for (let j = 0; j < length; j++) userAgent += alphabet[next() % alphabet.length];
      expect(() => parseUserAgent(userAgent)).not.toThrow();
    }
  });
});
