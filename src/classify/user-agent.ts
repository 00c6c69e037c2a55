import UAParser from 'ua-parser-js';
import { isbot } from 'isbot';
import type { ClientInfo } from '../types.js';

/** User agents are cut to this many characters before any regular expression sees them. */
export const MAX_USER_AGENT_LENGTH = 512;
/** Size of the LRU cache of full parses. */
export const MAX_CACHED_USER_AGENTS = 2048;
// Parsed fields end up as report labels; a 400-character "version" is noise, not information.
const MAX_FIELD_LENGTH = 64;
// ua-parser-js 1.x cuts user agents to this length (its UA_MAX_LENGTH) before matching.
const UA_PARSER_MAX_LENGTH = 500;

const UNKNOWN_CLIENT: Readonly<ClientInfo> = Object.freeze({
  browser: null,
  version: null,
  os: null,
  bot: false,
  kind: 'unknown',
});

// Only full parses are cached: the fast path costs about as much as a cache lookup, and caching
// its results would let a stream of distinct modern user agents evict the expensive entries.
const cache = new Map<string, Readonly<ClientInfo>>();

/**
 * What the user agent says the client is. Never throws. Results are fresh objects, safe to mutate.
 * `bot` is true exactly when `kind` is `'bot'`: HTTP libraries are `kind: 'library'`, `bot: false`.
 */
export function parseUserAgent(userAgent: string | undefined | null): ClientInfo {
  const cut = cutUserAgent(userAgent);
  if (cut === '') return { ...UNKNOWN_CLIENT };
  const fast = parseModernBrowser(cut);
  if (fast !== null) return fast;
  let info = cache.get(cut);
  if (info === undefined) {
    info = Object.freeze(parseWithUaParser(cut));
    if (cache.size >= MAX_CACHED_USER_AGENTS) {
      // A Map iterates in insertion order and hits are re-inserted, so the first key is the LRU.
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
  } else {
    cache.delete(cut);
  }
  cache.set(cut, info);
  return { ...info };
}

/** Number of user agents currently cached (for tests and diagnostics). */
export function userAgentCacheSize(): number {
  return cache.size;
}

export function clearUserAgentCache(): void {
  cache.clear();
}

function cutUserAgent(userAgent: unknown): string {
  if (typeof userAgent !== 'string') return '';
  return (userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent).trim();
}

// ---------------------------------------------------------------------------------------------
// Fast path: exact shapes of current mainstream browsers, matched whole (`^…$`) so that any extra
// token (OPR/, YaBrowser/, SamsungBrowser/, "; wv", a bot URL…) sends the string to the full parser.
// Every repeat is delimited by a character it cannot match, so matching stays linear, and the
// input is already cut to MAX_USER_AGENT_LENGTH.

const CHROME_SHAPE =
  /^Mozilla\/5\.0 \(([^()]+)\) AppleWebKit\/537\.36 \(KHTML, like Gecko\) Chrome\/((\d+)(?:\.\d+){3}) (?:Mobile )?Safari\/537\.36(?: EdgA?\/(\d+(?:\.\d+){3}))?$/;
const FIREFOX_SHAPE =
  /^Mozilla\/5\.0 \(([^()]+); rv:\d+\.\d+\) Gecko\/(?:20100101|\d+\.\d+) Firefox\/((\d+)\.\d+)$/;
const SAFARI_MAC_SHAPE =
  /^Mozilla\/5\.0 \(Macintosh; Intel Mac OS X (\d{2})_(\d{1,2})(?:_\d{1,2})?\) AppleWebKit\/\d{3}(?:\.\d{1,3}){1,3} \(KHTML, like Gecko\) Version\/((\d{1,2})(?:\.\d{1,2}){0,2}) Safari\/\d{3}(?:\.\d{1,3}){1,3}$/;
const SAFARI_IOS_SHAPE =
  /^Mozilla\/5\.0 \((?:iPhone|iPad|iPod touch); CPU (?:iPhone )?OS (\d{1,2})_(\d{1,2})(?:_\d{1,2})? like Mac OS X\) AppleWebKit\/\d{3}(?:\.\d{1,3}){1,3} \(KHTML, like Gecko\) Version\/((\d{1,2})(?:\.\d{1,2}){0,2}) Mobile\/\w{1,12} Safari\/\d{3}(?:\.\d{1,3}){1,3}$/;

const WINDOWS_PLATFORM = /^Windows NT (\d{1,2}\.\d)(?:; Win64; x64|; WOW64)?$/;
const MAC_PLATFORM = /^Macintosh; Intel Mac OS X (\d{2})[._](\d{1,2})(?:[._]\d{1,2})?$/;
// One plain model segment at most: anything richer (webview flag, locale, vendor tokens) goes slow.
const ANDROID_PLATFORM = /^(?:Linux; )?Android (\d{1,2}(?:\.\d{1,2}){0,2})(?:; ([\w .+-]{1,40}(?: Build\/[\w.-]{1,30})?))?$/;
const ANDROID_FIREFOX_PLATFORM = /^Android (\d{1,2}(?:\.\d{1,2}){0,2}); (?:Mobile|Tablet)$/;

// Same names ua-parser-js gives these NT versions.
const WINDOWS_NAMES: Readonly<Record<string, string>> = {
  '5.1': 'XP',
  '5.2': 'XP',
  '6.0': 'Vista',
  '6.1': '7',
  '6.2': '8',
  '6.3': '8.1',
  '6.4': '10',
  '10.0': '10',
};

const MODERN_CHROME = 30;
const MODERN_FIREFOX = 27;
const MODERN_SAFARI = 7;

/**
 * Recognises clearly modern mainstream browsers without ua-parser-js; `null` means "not sure, use
 * the full parser". When it answers, it answers exactly what {@link parseWithUaParser} would.
 */
export function parseModernBrowser(userAgent: string): ClientInfo | null {
  // ua-parser-js reads only the first UA_PARSER_MAX_LENGTH characters: past that it could answer otherwise.
  if (userAgent.length > UA_PARSER_MAX_LENGTH || !userAgent.startsWith('Mozilla/5.0 (')) return null;
  let match = CHROME_SHAPE.exec(userAgent);
  if (match !== null) {
    const os = platformOs(match[1] ?? '', false);
    if (os === null || Number(match[3]) < MODERN_CHROME) return null;
    const edge = match[4];
    return browser(edge === undefined ? 'Chrome' : 'Edge', edge ?? match[2] ?? null, os);
  }
  match = FIREFOX_SHAPE.exec(userAgent);
  if (match !== null) {
    const os = platformOs(match[1] ?? '', true);
    if (os === null || Number(match[3]) < MODERN_FIREFOX) return null;
    return browser('Firefox', match[2] ?? null, os);
  }
  match = SAFARI_MAC_SHAPE.exec(userAgent);
  if (match !== null) {
    if (Number(match[4]) < MODERN_SAFARI) return null;
    return browser('Safari', match[3] ?? null, `Mac OS ${match[1]}.${match[2]}`);
  }
  match = SAFARI_IOS_SHAPE.exec(userAgent);
  if (match !== null) {
    if (Number(match[4]) < MODERN_SAFARI) return null;
    return browser('Mobile Safari', match[3] ?? null, `iOS ${match[1]}.${match[2]}`);
  }
  return null;
}

function platformOs(platform: string, firefox: boolean): string | null {
  let match = WINDOWS_PLATFORM.exec(platform);
  if (match !== null) {
    const name = WINDOWS_NAMES[match[1] ?? ''];
    return name === undefined ? null : `Windows ${name}`;
  }
  match = MAC_PLATFORM.exec(platform);
  if (match !== null) return `Mac OS ${match[1]}.${match[2]}`;
  if (platform === 'X11; Linux x86_64') return 'Linux';
  match = (firefox ? ANDROID_FIREFOX_PLATFORM : ANDROID_PLATFORM).exec(platform);
  if (match !== null && match[2] !== 'wv') return formatOs('Android', match[1]);
  return null;
}

function browser(name: string, version: string | null, os: string): ClientInfo {
  // Same length cap as the full path: `Chrome/` followed by 400 digits is still a Chrome shape.
  return { browser: name, version: limit(version), os, bot: false, kind: 'browser' };
}

// ---------------------------------------------------------------------------------------------
// Full path.

// Checked before isbot, which flags most of these too: a cron job running curl or a Java program
// is software acting for its owner, and reports should show it apart from crawlers. Patterns are
// anchored at the product token (or are plain substrings) so that a browser never matches them.
const LIBRARIES: readonly (readonly [name: string, pattern: RegExp])[] = [
  ['Java', /^Java\/(\d[\w.]*)/],
  ['curl', /^curl\/(\d[\w.-]*)/i],
  ['Wget', /^Wget\/(\d[\w.-]*)/i],
  ['python-requests', /^python-requests\/(\d[\w.]*)/i],
  ['Python-urllib', /^Python-urllib\/(\d[\w.]*)/i],
  ['python-httpx', /^python-httpx\/(\d[\w.]*)/i],
  ['aiohttp', /\baiohttp\/(\d[\w.]*)/i],
  ['Go-http-client', /^Go-http-client\/(\d[\w.]*)/i],
  ['okhttp', /^okhttp\/(\d[\w.-]*)/i],
  ['Apache-HttpClient', /^Apache-HttpClient\/(\d[\w.-]*)/i],
  ['.NET', /^Microsoft[ -]\.NET|^\.NET\b/i],
  ['WinHttp', /\bWinHttp\b/i],
  ['Microsoft-CryptoAPI', /^Microsoft-CryptoAPI\/(\d[\w.]*)/i],
  ['libwww-perl', /^libwww-perl\/(\d[\w.]*)/i],
  ['Guzzle', /^GuzzleHttp\/(\d[\w.]*)/i],
  ['PHP', /^PHP\b(?:\/(\d[\w.]*))?/i],
  ['node-fetch', /^node-fetch\b(?:\/(\d[\w.]*))?/i],
  ['undici', /^undici\b/i],
  ['Node.js', /^node$/i],
  ['axios', /^axios\/(\d[\w.]*)/i],
  ['ddclient', /^ddclient\/(\d[\w.]*)/i],
  ['Dalvik', /^Dalvik\/(\d[\w.]*)/],
  ['CFNetwork', /\bCFNetwork\/(\d[\w.]*)/],
  ['Ruby', /^Ruby\b/],
  ['HTTPie', /^HTTPie\/(\d[\w.]*)/i],
  ['PostmanRuntime', /^PostmanRuntime\/(\d[\w.]*)/],
];

// ua-parser-js takes some names from the user agent's own spelling, so keys are lower-cased.
const FAMILY_NAMES: Readonly<Record<string, string>> = {
  ie: 'IE',
  'internet explorer': 'IE',
  iemobile: 'IE Mobile',
  'ie mobile': 'IE Mobile',
  chrome: 'Chrome',
  chromium: 'Chrome',
  // WebView and headless builds share Chrome's version numbers and TLS stack.
  'chrome webview': 'Chrome',
  'chrome headless': 'Chrome',
  'mobile chrome': 'Chrome',
  firefox: 'Firefox',
  'mobile firefox': 'Firefox',
  safari: 'Safari',
  'mobile safari': 'Mobile Safari',
  mobilesafari: 'Mobile Safari',
  'android browser': 'Android Browser',
  opera: 'Opera',
  // Opera Mobile 11–12 is Presto like desktop 12, and 14–16 is Chromium 26–29: same cut-off.
  'opera mobi': 'Opera',
  'opera tablet': 'Opera',
};

const OS_NAMES: Readonly<Record<string, string>> = {
  android: 'Android',
  ios: 'iOS',
  'mac os': 'Mac OS',
  windows: 'Windows',
  linux: 'Linux',
};

// On iOS every browser is WebKit over the system TLS stack, so Chrome or Firefox version numbers
// say nothing about TLS there; renaming keeps them off the Chrome/Firefox/Opera rows.
const IOS_RENAMES: Readonly<Record<string, string>> = {
  Safari: 'Mobile Safari',
  Chrome: 'Chrome iOS',
  Firefox: 'Firefox iOS',
  Opera: 'Opera iOS',
};

/**
 * Every token from which ua-parser-js 1.x can name a family of the policy table (see its browser
 * regexes: crmo/crios, chrome, chromium, headlesschrome, " wv)" + chrome → Chrome; opera, opr/ →
 * Opera; msie, "(ie ", iemobile, trident → IE; fxios, firefox → Firefox; safari → Safari, Mobile
 * Safari, Android Browser). A user agent with none of them can never be legacy by user agent, so its
 * browser is not looked up: that is ua-parser-js's most expensive part (about 9 µs when nothing
 * matches, the path of made-up user agents). Such clients are counted as `unknown`, also the rare
 * real browsers among them (Lynx, w3m, NetSurf): they are named only in that one label.
 * test/classify.test.ts holds this list against ua-parser-js on a corpus of real user agents.
 */
export const MAY_NAME_A_POLICY_FAMILY = /chrom|crmo|crios|opera|opr\/|msie|\(ie |iemobile|trident|fxios|firefox|safari/i;

/** The full parse (library list, isbot, ua-parser-js), without the fast path or the cache. */
export function parseWithUaParser(userAgent: string): ClientInfo {
  const cut = cutUserAgent(userAgent);
  if (cut === '') return { ...UNKNOWN_CLIENT };
  for (const [name, pattern] of LIBRARIES) {
    const match = pattern.exec(cut);
    if (match !== null) {
      return { browser: name, version: limit(match[1]), os: null, bot: false, kind: 'library' };
    }
  }
  try {
    const parser = new UAParser(cut);
    // getResult() would also run the device list, which costs more than browser and OS together.
    const rawOs = parser.getOS();
    const osName = rawOs.name === undefined ? null : (OS_NAMES[rawOs.name.toLowerCase()] ?? rawOs.name);
    if (!MAY_NAME_A_POLICY_FAMILY.test(cut)) {
      const bot = isbot(cut);
      return { browser: null, version: null, os: osName === null ? null : limit(formatOs(osName, rawOs.version)), bot, kind: bot ? 'bot' : 'unknown' };
    }
    const rawBrowser = parser.getBrowser();
    const family = normaliseFamily(rawBrowser.name, osName);
    const version = family === null ? null : familyVersion(cut, family, rawBrowser.version, osName, rawOs.version);
    const bot = isbot(cut);
    return {
      browser: limit(family),
      version: limit(version),
      os: osName === null ? null : limit(formatOs(osName, rawOs.version)),
      bot,
      kind: bot ? 'bot' : family === null ? 'unknown' : 'browser',
    };
  } catch {
    return { ...UNKNOWN_CLIENT };
  }
}

function normaliseFamily(rawName: string | undefined, osName: string | null): string | null {
  if (rawName === undefined || rawName === '') return null;
  const family = FAMILY_NAMES[rawName.toLowerCase()] ?? rawName;
  return osName === 'iOS' ? (IOS_RENAMES[family] ?? family) : family;
}

function familyVersion(
  userAgent: string,
  family: string,
  rawVersion: string | undefined,
  osName: string | null,
  osVersion: string | undefined,
): string | null {
  switch (family) {
    case 'IE':
    case 'IE Mobile':
      return tridentVersion(userAgent) ?? rawVersion ?? null;
    case 'Android Browser':
      // The stock browser's own "Version/4.0" is constant; its TLS comes with the OS.
      return osName === 'Android' && osVersion ? osVersion : null;
    case 'Safari':
    case 'Mobile Safari':
      // Without a Version/ token ua-parser-js falls back to a substring map that turns
      // "Safari/8536.25" into "1.0"; only Version/ or a known WebKit build is trusted.
      if (/\bVersion\/\d/.test(userAgent)) return rawVersion ?? null;
      return family === 'Safari' && osName === 'Mac OS' ? safariFromWebKit(userAgent) : null;
    default:
      return rawVersion ?? null;
  }
}

/** IE in compatibility view claims MSIE 7.0; the Trident token tells the real engine (4 = IE 8). */
function tridentVersion(userAgent: string): string | null {
  const match = /\bTrident\/(\d{1,2})\./.exec(userAgent);
  const trident = Number(match?.[1]);
  return trident >= 4 && trident <= 7 ? `${trident + 4}.0` : null;
}

/** Safari releases by AppleWebKit major build, where one build maps to one release line. */
function safariFromWebKit(userAgent: string): string | null {
  const match = /\bAppleWebKit\/(\d{2,4})\b/.exec(userAgent);
  const build = Number(match?.[1]);
  if (build >= 85 && build < 400) return '1';
  if (build >= 400 && build < 500) return '2';
  if (build >= 522 && build < 530) return '3';
  if (build >= 530 && build < 533) return '4';
  if (build === 533) return '5.0';
  if (build === 534) return '5.1';
  if (build === 536) return '6.0';
  // 537 is shared by Safari 6.1 (TLS 1.0) and 7 (TLS 1.2): unknown, hence not legacy.
  return null;
}

/** `Android` + `4.4.2` → `Android 4.4`: two numeric parts are enough and keep report labels few. */
function formatOs(name: string, version: string | undefined): string {
  if (!version) return name;
  const numeric = /^\d+(?:\.\d+)?/.exec(version);
  return `${name} ${numeric === null ? version : numeric[0]}`;
}

function limit(value: string | null | undefined): string | null {
  if (value == null || value === '') return null;
  return value.length > MAX_FIELD_LENGTH ? value.slice(0, MAX_FIELD_LENGTH) : value;
}
