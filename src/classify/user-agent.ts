import UAParser from 'ua-parser-js';
import type { ClientInfo } from '../types.js';
import { botName, isBot } from './bots.js';
import { LiteralScanner } from './literals.js';

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

/** Whether the full parse of `userAgent` is cached (for tests and diagnostics). */
export function isUserAgentCached(userAgent: string): boolean {
  return cache.has(cutUserAgent(userAgent));
}

export function clearUserAgentCache(): void {
  cache.clear();
}

function cutUserAgent(userAgent: unknown): string {
  if (typeof userAgent !== 'string') return '';
  return (userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent).trim();
}

// ---------------------------------------------------------------------------------------------
// Fast path: user agents whose browser token proves them modern, read token by token.
//
// The full parser's answer comes from ua-parser-js (lists of browser and OS patterns: the first one
// that matches anywhere wins), LIBRARIES and isbot. The fast path gives that same answer without
// ua-parser-js when the user agent shows it plainly:
// - the platform comment after `Mozilla/5.0 (` is one of a few exact shapes (Windows NT, macOS,
//   X11 Linux, Android, iOS), which names the OS; only an Android model name is free text there;
// - the space-separated tokens after it hold one browser's tokens (AppleWebKit/ + Chrome/ + Safari/,
//   Gecko/ + Firefox/, Version/ + Safari/, plus Edg/, OPR/, CriOS/…), each at most once, with plain
//   numeric versions, and the version that decides the family is modern by the policy table's
//   defaults;
// - every other token, wherever it stands, and the model name contain none of FULL_PARSER_WORDS;
// - isbot is asked as always (bots keep their family and OS, as in the full parser).
// Letter case does not matter, as it does not to ua-parser-js and isbot. The work is linear in the
// length: one toLowerCase, one pass over the tokens, literal scans, and regular expressions without
// nested repetition, each run once on the platform comment, on one token or on the whole string.

/** First version of each family the fast path answers for: the policy table's defaults. */
const MODERN_CHROME = 30;
const MODERN_FIREFOX = 27;
const MODERN_SAFARI = 7;
const MODERN_OPERA = 17;

/**
 * Words that send a user agent with them in its free text to the full parser. For every pattern of
 * ua-parser-js 1.x that comes before the one naming the fast path's browser (its browser list) or OS
 * (its OS list), and for the unanchored LIBRARIES patterns, one word that every match contains.
 * Over-inclusive on purpose (`win`, `mac`, `browser`): a false alarm costs one full parse, a miss a
 * wrong answer. test/user-agent.test.ts appends every word of ua-parser-js's lists to modern user
 * agents and checks that the fast path then steps aside or agrees with the full parser.
 */
const FULL_PARSER_WORDS: readonly string[] = [
  // The tokens the fast path reads: a second one, or one inside another word, reads otherwise.
  'mozilla', 'webkit', 'khtml', 'gecko', 'chrome', 'chromium', 'crmo', 'ios', 'safari', 'mobile', 'version/', 'firefox', 'edg', 'opr/', 'opera',
  // Browsers that ua-parser-js looks for before Chrome, Safari or Firefox.
  'opx/', 'oprgx/', 'myie2', 'browser', 'kindle', 'lunascape', 'maxthon', 'netfront', 'jasmine', 'blazer', 'sleipnir', 'avant', 'slim',
  'msie', '(ie', 'flock', 'rockmelt', 'midori', 'epiphany', 'silk', 'skyfire', 'bolt', 'iron', 'vivaldi', 'iridium', 'phantomjs', 'bowser',
  'qupzilla', 'falkon', 'rekonq', 'puffin', 'brave', 'whale', 'duckduckgo', 'klar', 'helio', 'dragon', 'heytap', 'weibo', 'quark', 'ddg/',
  'ucweb', 'qbcore', 'micromessenger', 'konqueror', 'trident', 'avast', 'avg/', 'focus/', 'opt/', 'coc_coc', 'dolfin', 'coast/', 'qihoo',
  'qq/', 'metasr', 'sogou', 'electron', 'tesla', '2345explorer', 'linkedin', 'qihu', 'fban', 'fb_iab', 'fbav', 'kakao', 'naver', 'daum',
  'line/', 'alipay', 'twitter', 'instagram', 'snapchat', 'gsa/', 'musical_ly', 'headless', 'droid', 'omniweb', 'arora', 'navigator',
  'netscape', 'wolvic', 'librewolf', 'ekiohf', 'swiftfox', 'icedragon', 'iceweasel', 'camino', 'chimera', 'fennec', 'maemo', 'minimo',
  'conkeror', 'seamonkey', 'k-meleon', 'icecat', 'iceape', 'firebird', 'phoenix', 'palemoon', 'basilisk', 'waterfox',
  // Operating systems; `win` also stands for LIBRARIES' WinHttp, `cfnetwork` and `aiohttp` for theirs.
  'win', 'xbox', 'darwin', 'cfnetwork', 'mac', 'haiku', 'harmony', 'ubuntu', 'bada', 'blackberry', 'bb10', 'kaios', 'meego',
  'qnx', 'rim tablet', 'sailfish', 'series', 'symb', 's60', 'tizen', 'webos', 'web0s', 'wos', 'watch', 'crkey', 'cros', 'viera', 'netrange',
  'nettv', 'nintendo', 'playstation', 'joli', 'palm', 'mint', 'mageia', 'vectorlinux', 'debian', 'suse', 'gentoo', 'arch', 'slackware',
  'fedora', 'mandriva', 'centos', 'pclinuxos', 'red hat', 'redhat', 'zenwalk', 'linpus', 'raspbian', 'plan 9', 'minix', 'risc os',
  'contiki', 'deepin', 'manjaro', 'elementary', 'sabayon', 'linspire', 'hurd', 'gnu', 'bsd', 'dragonfly', 'sunos', 'solaris',
  'aix', 'beos', 'os/2', 'amigaos', 'morphos', 'openvms', 'fuchsia', 'hp-ux', 'serenityos', 'unix', 'aiohttp',
];
const fullParserWords = new LiteralScanner(FULL_PARSER_WORDS);
// Free tokens may hold `\w`, `.`, `+`, `-` and `/`: other characters (brackets, `;`, `,`, `@`, `|`…)
// are what many patterns of ua-parser-js and isbot key on, so the scan of free tokens stops at them as
// at a word. The Android model name, checked by ANDROID_MODEL, may hold parentheses.
const NOT_IN_TOKENS = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i)).filter((char) => !/[\w.+/-]/.test(char));
const freeTokenWords = new LiteralScanner([...FULL_PARSER_WORDS, ...NOT_IN_TOKENS]);
// ua-parser-js's Baidu pattern has no fixed word; it starts with a `b` that starts a word, so it is cheap.
const BAIDU = /\bb[ai]*d(?:uhd|[ub]*[aekoprswx]{5,6})/;

const PREFIX = 'mozilla/5.0 (';
const KHTML = '(khtml, like gecko)';
const SPACE = 0x20;
const OPEN_PARENTHESIS = 0x28;
const CLOSE_PARENTHESIS = 0x29;
const VERSION = /^\d{1,10}(?:\.\d{1,10}){0,5}$/;
// iOS build numbers: `15E148`, `21E236`, `9B206`, `8J2`.
const IOS_BUILD = /^\d{1,2}[a-z]\d{1,5}[a-z]?$/;
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

const WINDOWS_PLATFORM = /^windows nt (\d{1,2}\.\d)(?:; win64; x64|; wow64)?$/;
const MAC_PLATFORM = /^macintosh; intel mac os x (\d{2})[._](\d{1,2})(?:[._]\d{1,2})?$/;
const IOS_PLATFORM = /^(?:iphone; cpu iphone os|ipad; cpu os|ipod touch; cpu iphone os) (\d{1,2})_(\d{1,2})(?:_\d{1,2})? like mac os x$/;
const ANDROID_PREFIX = 'linux; android ';
const WEBVIEW_SUFFIX = '; wv';
const ANDROID_VERSION = /^\d{1,2}(?:\.\d{1,2}){0,2}$/;
// Models may carry a parenthesised year or variant: `moto g power (2022)`.
const ANDROID_MODEL = /^[\w .+/()-]{1,64}$/;
const ANDROID_FIREFOX_PLATFORM = /^android (\d{1,2}(?:\.\d{1,2}){0,2}); (?:mobile|tablet)$/;
const FIREFOX_RV = /; rv:\d{1,4}\.\d{1,4}$/;

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

interface Platform {
  os: string;
  device: 'desktop' | 'mac' | 'android' | 'ios';
  /** Firefox's form: the comment ends with `; rv:…`. */
  gecko: boolean;
  /** Android WebView: the comment ends with `; wv`. */
  webview: boolean;
  /** Where the Android model name (free text) is in the user agent; equal when there is none. */
  modelStart: number;
  modelEnd: number;
}

/** The tokens after the platform comment that the fast path reads: each one's value, or null. */
interface Tokens {
  webkit: string | null;
  khtml: boolean;
  chrome: string | null;
  safari: string | null;
  safariAt: number;
  /** `Mobile` alone (Chrome on Android) and `Mobile/15E148` (iOS). */
  mobile: boolean;
  mobileBuild: string | null;
  version: string | null;
  versionAt: number;
  gecko: string | null;
  firefox: string | null;
  /** The one token that names a browser other than Chrome, Safari or Firefox. */
  brand: 'edge' | 'opera' | 'samsung' | 'crios' | 'fxios' | null;
  brandVersion: string | null;
}

/**
 * Recognises clearly modern browsers without ua-parser-js; `null` means "not sure, use the full
 * parser". When it answers, it answers exactly what {@link parseWithUaParser} would. `userAgent` is
 * cut and trimmed already.
 */
export function parseModernBrowser(userAgent: string): ClientInfo | null {
  const length = userAgent.length;
  if (length <= PREFIX.length || length > MAX_USER_AGENT_LENGTH) return null;
  const lower = userAgent.toLowerCase();
  // Outside printable ASCII, lower-casing can change lengths, or make a letter the full parser does
  // not see (the Kelvin sign becomes `k`); no browser sends it.
  if (!lower.startsWith(PREFIX) || NOT_PRINTABLE_ASCII.test(userAgent)) return null;
  const close = closingParenthesis(lower, PREFIX.length);
  if (close < 0 || lower.charCodeAt(close + 1) !== SPACE) return null;
  const platform = readPlatform(lower, PREFIX.length, close);
  if (platform === null) return null;
  if (platform.modelEnd > platform.modelStart && namesAnother(lower, platform.modelStart, platform.modelEnd, fullParserWords)) return null;

  const tokens: Tokens = {
    webkit: null,
    khtml: false,
    chrome: null,
    safari: null,
    safariAt: -1,
    mobile: false,
    mobileBuild: null,
    version: null,
    versionAt: -1,
    gecko: null,
    firefox: null,
    brand: null,
    brandVersion: null,
  };
  let freeStart = -1;
  let at = close + 2;
  while (at < length) {
    let end: number;
    let token: TokenKind;
    if (lower.charCodeAt(at) === OPEN_PARENTHESIS) {
      if (tokens.khtml || !lower.startsWith(KHTML, at)) return null;
      end = at + KHTML.length;
      tokens.khtml = true;
      token = READ;
    } else {
      end = lower.indexOf(' ', at);
      if (end < 0) end = length;
      token = readToken(tokens, lower, at, end);
      if (token === REFUSED) return null;
    }
    const read = token === READ;
    if (end !== length && lower.charCodeAt(end) !== SPACE) return null;
    // ua-parser-js reads only the first UA_PARSER_MAX_LENGTH characters: a token it sees cut short
    // would have another value there, so only what lies before the cut can decide anything.
    if (read && end > UA_PARSER_MAX_LENGTH) return null;
    if (read) {
      if (freeStart >= 0 && namesAnother(lower, freeStart, at - 1, freeTokenWords)) return null;
      freeStart = -1;
    } else if (freeStart < 0) {
      freeStart = at;
    }
    at = end + 1;
  }
  if (freeStart >= 0 && namesAnother(lower, freeStart, length, freeTokenWords)) return null;

  const answer = decide(platform, tokens);
  if (answer === null) return null;
  const bot = isBot(userAgent, lower);
  return { browser: answer.family, version: limit(answer.version), os: platform.os, bot, kind: bot ? 'bot' : 'browser' };
}

/**
 * Whether free text between `start` and `end` (a run of whole tokens, or the model name) could make
 * the full parser name another browser or OS, or a library, or is not made of plain tokens.
 */
function namesAnother(lower: string, start: number, end: number, words: LiteralScanner): boolean {
  // The Baidu pattern matches letters only, so never across the spaces that bound free text.
  return words.find(lower, start, end) || BAIDU.test(lower.slice(start, end));
}

const READ = 0;
const FREE = 1;
const REFUSED = 2;
type TokenKind = typeof READ | typeof FREE | typeof REFUSED;

/** Names of the tokens the fast path reads. */
const READ_NAMES = [
  'applewebkit',
  'chrome',
  'safari',
  'mobile',
  'version',
  'gecko',
  'firefox',
  'edg',
  'edga',
  'edge',
  'edgios',
  'opr',
  'samsungbrowser',
  'crios',
  'fxios',
] as const;

type ReadName = (typeof READ_NAMES)[number];
// By first character and length, so that the name of a free token is ruled out without a copy.
const READ_NAMES_BY_KEY = new Map<number, ReadName[]>();
for (const name of READ_NAMES) {
  const key = nameKey(name.charCodeAt(0), name.length);
  READ_NAMES_BY_KEY.set(key, [...(READ_NAMES_BY_KEY.get(key) ?? []), name]);
}

function nameKey(firstCode: number, length: number): number {
  return firstCode * 1024 + length;
}

/**
 * Notes the token between `at` and `end` if the fast path reads it (once each, plain version), or
 * says it is free text (checked by the caller with the other free tokens), or refuses it. Free text
 * is never copied.
 */
function readToken(tokens: Tokens, lower: string, at: number, end: number): TokenKind {
  if (at === end) return REFUSED;
  let slash = lower.indexOf('/', at);
  if (slash >= end) slash = -1;
  const candidates = READ_NAMES_BY_KEY.get(nameKey(lower.charCodeAt(at), (slash < 0 ? end : slash) - at));
  if (candidates === undefined) return FREE;
  let name: ReadName | undefined;
  for (const candidate of candidates) if (lower.startsWith(candidate, at)) name = candidate;
  if (name === undefined) return FREE;
  const value = slash < 0 ? null : lower.slice(slash + 1, end);
  let brand: Tokens['brand'] = null;
  switch (name) {
    case 'applewebkit':
      if (tokens.webkit !== null) return REFUSED;
      tokens.webkit = value;
      break;
    case 'chrome':
      if (tokens.chrome !== null) return REFUSED;
      tokens.chrome = value;
      break;
    case 'safari':
      if (tokens.safari !== null) return REFUSED;
      tokens.safari = value;
      tokens.safariAt = at;
      break;
    case 'version':
      if (tokens.version !== null) return REFUSED;
      tokens.version = value;
      tokens.versionAt = at;
      break;
    case 'gecko':
      if (tokens.gecko !== null) return REFUSED;
      tokens.gecko = value;
      break;
    case 'firefox':
      if (tokens.firefox !== null) return REFUSED;
      tokens.firefox = value;
      break;
    case 'mobile':
      if (value === null) {
        if (tokens.mobile) return REFUSED;
        tokens.mobile = true;
        return READ;
      }
      if (tokens.mobileBuild !== null || !IOS_BUILD.test(value)) return REFUSED;
      tokens.mobileBuild = value;
      return READ;
    case 'edg':
    case 'edga':
    case 'edge':
    case 'edgios':
      brand = 'edge';
      break;
    case 'opr':
      brand = 'opera';
      break;
    case 'samsungbrowser':
      brand = 'samsung';
      break;
    case 'crios':
      brand = 'crios';
      break;
    case 'fxios':
      brand = 'fxios';
      break;
  }
  if (value === null || !VERSION.test(value)) return REFUSED;
  if (brand !== null) {
    if (tokens.brand !== null) return REFUSED;
    tokens.brand = brand;
    tokens.brandVersion = value;
  }
  return READ;
}

/** Index of the `)` that closes the comment opened just before `start`, or -1. */
function closingParenthesis(text: string, start: number): number {
  let depth = 1;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === OPEN_PARENTHESIS) depth++;
    else if (code === CLOSE_PARENTHESIS && --depth === 0) return i;
  }
  return -1;
}

/** The platform comment between `start` and `end`, or null unless it is one of the known shapes. */
function readPlatform(lower: string, start: number, end: number): Platform | null {
  let comment = lower.slice(start, end);
  const rv = comment.includes('; rv:') ? FIREFOX_RV.exec(comment) : null;
  if (rv !== null) comment = comment.slice(0, rv.index);
  const gecko = rv !== null;
  let match = WINDOWS_PLATFORM.exec(comment);
  if (match !== null) {
    const name = WINDOWS_NAMES[match[1] as string];
    return name === undefined ? null : { os: `Windows ${name}`, device: 'desktop', gecko, webview: false, modelStart: 0, modelEnd: 0 };
  }
  match = MAC_PLATFORM.exec(comment);
  if (match !== null) return { os: `Mac OS ${match[1]}.${match[2]}`, device: 'mac', gecko, webview: false, modelStart: 0, modelEnd: 0 };
  if (comment === 'x11; linux x86_64') return { os: 'Linux', device: 'desktop', gecko, webview: false, modelStart: 0, modelEnd: 0 };
  if (gecko) {
    match = ANDROID_FIREFOX_PLATFORM.exec(comment);
    return match === null ? null : { os: formatOs('Android', match[1]), device: 'android', gecko, webview: false, modelStart: 0, modelEnd: 0 };
  }
  match = IOS_PLATFORM.exec(comment);
  if (match !== null) return { os: `iOS ${match[1]}.${match[2]}`, device: 'ios', gecko, webview: false, modelStart: 0, modelEnd: 0 };
  // `linux; android <version>[; <model>][; wv]`
  if (!comment.startsWith(ANDROID_PREFIX)) return null;
  let rest = comment.slice(ANDROID_PREFIX.length);
  const webview = rest.endsWith(WEBVIEW_SUFFIX);
  if (webview) rest = rest.slice(0, -WEBVIEW_SUFFIX.length);
  const semicolon = rest.indexOf('; ');
  const version = semicolon < 0 ? rest : rest.slice(0, semicolon);
  if (!ANDROID_VERSION.test(version)) return null;
  const os = formatOs('Android', version);
  if (semicolon < 0) return { os, device: 'android', gecko, webview, modelStart: 0, modelEnd: 0 };
  const model = rest.slice(semicolon + 2);
  if (!ANDROID_MODEL.test(model)) return null;
  const modelStart = start + ANDROID_PREFIX.length + semicolon + 2;
  return { os, device: 'android', gecko, webview, modelStart, modelEnd: modelStart + model.length };
}

/**
 * The family and version the full parser would name, from the tokens the fast path read, when that
 * version is modern; null otherwise. Each rule states which ua-parser-js pattern would win.
 */
function decide(platform: Platform, tokens: Tokens): { family: string; version: string } | null {
  const { brand, brandVersion } = tokens;
  if (platform.gecko) {
    // Gecko/ + Firefox/, nothing of WebKit's: ua-parser-js's `firefox/` pattern.
    if (tokens.gecko === null || tokens.firefox === null || tokens.webkit !== null || tokens.khtml || tokens.chrome !== null) return null;
    if (tokens.safari !== null || tokens.version !== null || tokens.mobile || tokens.mobileBuild !== null || brand !== null) return null;
    return major(tokens.firefox) >= MODERN_FIREFOX ? { family: 'Firefox', version: tokens.firefox } : null;
  }
  // WebKit browsers: AppleWebKit/ (KHTML, like Gecko) … Safari/, no Gecko/ or Firefox/.
  if (tokens.webkit === null || !tokens.khtml || tokens.safari === null || tokens.gecko !== null || tokens.firefox !== null) return null;
  if (platform.device === 'ios') {
    // Every browser on iOS is WebKit over the system's TLS; the full parser renames Chrome and
    // Firefox there so that their version numbers never meet the desktop rows.
    if (tokens.mobileBuild === null || tokens.mobile || tokens.chrome !== null) return null;
    if (brand === 'crios') return { family: 'Chrome iOS', version: brandVersion as string };
    if (brand === 'edge') return { family: 'Edge', version: brandVersion as string };
    if (brand === 'fxios') return { family: 'Firefox iOS', version: brandVersion as string };
    if (brand !== null || tokens.version === null || tokens.versionAt > tokens.safariAt) return null;
    return major(tokens.version) >= MODERN_SAFARI ? { family: 'Mobile Safari', version: tokens.version } : null;
  }
  if (tokens.mobileBuild !== null || brand === 'crios' || brand === 'fxios') return null;
  if (tokens.chrome === null) {
    // Safari on macOS: `Version/… Safari/`, in that order, and no `Mobile`, which would make it Mobile Safari.
    if (platform.device !== 'mac' || brand !== null || tokens.mobile || tokens.version === null || tokens.versionAt > tokens.safariAt) return null;
    return major(tokens.version) >= MODERN_SAFARI ? { family: 'Safari', version: tokens.version } : null;
  }
  // Chromium. `Version/` beside `Chrome/` is Android's stock browser (Android Browser, legacy below
  // Android 4.4 whatever Chrome/ says) unless the comment ends with `; wv` (Chrome WebView).
  if (major(tokens.chrome) < MODERN_CHROME || (tokens.version !== null && !platform.webview)) return null;
  if (brand === 'edge') return { family: 'Edge', version: brandVersion as string };
  if (brand === 'samsung') return { family: 'Samsung Internet', version: brandVersion as string };
  if (brand === 'opera') return major(brandVersion as string) >= MODERN_OPERA ? { family: 'Opera', version: brandVersion as string } : null;
  return { family: 'Chrome', version: tokens.chrome };
}

function major(version: string): number {
  return Number.parseInt(version, 10);
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
 * browser is not looked up: that is ua-parser-js's most expensive part, the more so when nothing
 * matches (the path of made-up user agents). Such clients are counted as `unknown`, also the rare
 * real browsers among them (Lynx, w3m, NetSurf): they are named only in that one label.
 * test/user-agent.test.ts holds this list against ua-parser-js on a corpus of real user agents.
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
    const lower = cut.toLowerCase();
    const parser = new UAParser(cut);
    // getResult() would also run the device list, which costs more than browser and OS together.
    const rawOs = parser.getOS();
    const osName = rawOs.name === undefined ? null : (OS_NAMES[rawOs.name.toLowerCase()] ?? rawOs.name);
    if (!MAY_NAME_A_POLICY_FAMILY.test(cut)) {
      const bot = isBot(cut, lower);
      // A bot names itself (`Googlebot/2.1`); its version says nothing about its TLS, so none is kept.
      return { browser: bot ? limit(botName(cut)) : null, version: null, os: osName === null ? null : limit(formatOs(osName, rawOs.version)), bot, kind: bot ? 'bot' : 'unknown' };
    }
    const rawBrowser = parser.getBrowser();
    const family = normaliseFamily(rawBrowser.name, osName);
    const version = family === null ? null : familyVersion(cut, family, rawBrowser.version, osName, rawOs.version);
    const bot = isBot(cut, lower);
    return {
      // A bot that borrows a browser's name keeps it (its OS and family are facts of its own kind).
      browser: limit(family ?? (bot ? botName(cut) : null)),
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
      if (/\bversion\/\d/i.test(userAgent)) return rawVersion ?? null;
      return family === 'Safari' && osName === 'Mac OS' ? safariFromWebKit(userAgent) : null;
    default:
      return rawVersion ?? null;
  }
}

/** IE in compatibility view claims MSIE 7.0; the Trident token tells the real engine (4 = IE 8). */
function tridentVersion(userAgent: string): string | null {
  const match = /\btrident\/(\d{1,2})\./i.exec(userAgent);
  const trident = Number(match?.[1]);
  return trident >= 4 && trident <= 7 ? `${trident + 4}.0` : null;
}

/** Safari releases by AppleWebKit major build, where one build maps to one release line. */
function safariFromWebKit(userAgent: string): string | null {
  const match = /\bapplewebkit\/(\d{2,4})\b/i.exec(userAgent);
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
