import { describe, expect, it } from 'vitest';
import {
  BROWSER_FAMILIES,
  DEFAULT_LEGACY_PROTOCOLS,
  DEFAULT_USER_AGENT_POLICY,
  buildPolicy,
  classifyClient,
  compareVersions,
  isLegacyClient,
  parseUserAgent,
  parseVersion,
  type ClassificationPolicy,
} from '../src/classify/index.js';
import type { TlsFacts, TlsProtocol } from '../src/types.js';

const UA = {
  ie11Compat:
    'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/7.0; SLCC2; .NET CLR 2.0.50727; .NET CLR 3.5.30729; .NET CLR 3.0.30729; Media Center PC 6.0; .NET4.0C; .NET4.0E)',
  ie11: 'Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko',
  ie10: 'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)',
  ie10Compat: 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.2; WOW64; Trident/6.0; .NET4.0E)',
  ie8Xp: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; .NET CLR 2.0.50727)',
  ie6Xp: 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)',
  ieMobile10:
    'Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)',
  ieMobile11:
    'Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0; NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537',
  safari6:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_8_5) AppleWebKit/536.30.1 (KHTML, like Gecko) Version/6.0.5 Safari/536.30.1',
  safari7: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9) AppleWebKit/537.71 (KHTML, like Gecko) Version/7.0 Safari/537.71',
  safari5WebKitOnly:
    'Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_8; en-us) AppleWebKit/533.21.1 (KHTML, like Gecko) Safari/533.21.1',
  safariWebKit537Only:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.78.2 (KHTML, like Gecko) Safari/537.78.2',
  ios4:
    'Mozilla/5.0 (iPhone; U; CPU iPhone OS 4_3_3 like Mac OS X; en-us) AppleWebKit/533.17.9 (KHTML, like Gecko) Version/5.0.2 Mobile/8J2 Safari/6533.18.5',
  ios5:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) Version/5.1 Mobile/9B206 Safari/7534.48.3',
  ios6:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 6_1_4 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Version/6.0 Mobile/10B350 Safari/8536.25',
  ios6NoVersion:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 6_1_3 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Mobile/10B329 Safari/8536.25',
  chromeIos5:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/534.46 (KHTML, like Gecko) CriOS/19.0.1084.60 Mobile/9B206 Safari/7534.48.3',
  firefoxIos1:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 8_3 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) FxiOS/1.0 Mobile/12F69 Safari/600.1.4',
  android23:
    'Mozilla/5.0 (Linux; U; Android 2.3.6; en-us; Nexus S Build/GRK39F) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1',
  android43Stock:
    'Mozilla/5.0 (Linux; U; Android 4.3; en-us; SCH-I535 Build/JSS15J) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30',
  android44Stock:
    'Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SM-T530NU Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30',
  android44WebView:
    'Mozilla/5.0 (Linux; Android 4.4.2; Nexus 5 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/30.0.0.0 Mobile Safari/537.36',
  chrome34Android43:
    'Mozilla/5.0 (Linux; Android 4.3; GT-I9300 Build/JSS15J) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Mobile Safari/537.36',
  chrome29: 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/29.0.1547.57 Safari/537.36',
  chrome30: 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.101 Safari/537.36',
  chrome35: 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36',
  chrome124:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  firefox26: 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:26.0) Gecko/20100101 Firefox/26.0',
  firefox27: 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:27.0) Gecko/20100101 Firefox/27.0',
  opera1216: 'Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.16',
  opera15:
    'Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/28.0.1500.52 Safari/537.36 OPR/15.0.1147.100',
  opera17:
    'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.101 Safari/537.36 OPR/17.0.1241.53',
  java7: 'Java/1.7.0_25',
  java8: 'Java/1.8.0_151',
  java11: 'Java/11.0.2',
  edgeHtml:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.18363',
  edge:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  samsung:
    'Mozilla/5.0 (Linux; Android 13; SM-S901B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  samsungOld:
    'Mozilla/5.0 (Linux; Android 5.0.2; SAMSUNG SM-G920F Build/LRX22G) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/3.0 Chrome/38.0.2125.102 Mobile Safari/537.36',
  bingbotAsIe9:
    'Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
} as const;

const policy = buildPolicy();

function facts(protocol: TlsProtocol | null): TlsFacts {
  return { protocol, cipher: null, servername: null, source: protocol === null ? 'none' : 'socket' };
}

function verdict(userAgent: string | undefined | null, protocol: TlsProtocol | null = 'TLSv1.2', p = policy) {
  return classifyClient(facts(protocol), userAgent, p);
}

describe('classifyClient by user agent (on TLS 1.2)', () => {
  it.each([
    ['IE 10', UA.ie10],
    ['IE 10 in compatibility view', UA.ie10Compat],
    ['IE 8 on XP', UA.ie8Xp],
    ['IE 6 on XP', UA.ie6Xp],
    ['IE Mobile 10 (Windows Phone 8.0)', UA.ieMobile10],
    ['Safari 6 on OS X 10.8', UA.safari6],
    ['Safari 5 that reports only WebKit 533', UA.safari5WebKitOnly],
    ['Mobile Safari on iOS 4.3', UA.ios4],
    ['Android 2.3 stock browser', UA.android23],
    ['Android 4.3 stock browser', UA.android43Stock],
    ['Chrome 29', UA.chrome29],
    ['Firefox 26', UA.firefox26],
    ['Opera 12.16 (Presto)', UA.opera1216],
    ['Opera 15', UA.opera15],
    ['Java 7', UA.java7],
  ])('%s is legacy', (_name, userAgent) => {
    const result = verdict(userAgent);
    expect(result.legacy).toBe(true);
    expect(result.reasons).toEqual(['user-agent']);
  });

  it.each([
    ['IE 11', UA.ie11],
    ['IE 11 in compatibility view (MSIE 7.0 + Trident/7.0)', UA.ie11Compat],
    ['IE Mobile 11', UA.ieMobile11],
    ['Safari 7', UA.safari7],
    ['Safari that reports only WebKit 537 (6.1 or 7: unknown)', UA.safariWebKit537Only],
    ['Mobile Safari on iOS 5', UA.ios5],
    ['Mobile Safari on iOS 6', UA.ios6],
    ['Mobile Safari on iOS 6 without Version/', UA.ios6NoVersion],
    ['Chrome 19 on iOS 5', UA.chromeIos5],
    ['Firefox 1.0 on iOS 8', UA.firefoxIos1],
    ['Android 4.4 stock browser', UA.android44Stock],
    ['Android 4.4 WebView', UA.android44WebView],
    ['Chrome 34 on Android 4.3', UA.chrome34Android43],
    ['Chrome 30', UA.chrome30],
    ['Chrome 124', UA.chrome124],
    ['Firefox 27', UA.firefox27],
    ['Opera 17', UA.opera17],
    ['Java 8', UA.java8],
    ['Java 11', UA.java11],
    ['Edge (EdgeHTML)', UA.edgeHtml],
    ['Edge (Chromium)', UA.edge],
    ['Samsung Internet', UA.samsung],
    ['Samsung Internet 3 on Android 5', UA.samsungOld],
    ['a bot that names IE 9', UA.bingbotAsIe9],
    ['curl', 'curl/7.29.0'],
    ['an empty user agent', ''],
    ['a missing user agent', undefined],
    ['a null user agent', null],
    ['garbage', 'qwerty/1.0 (asdf)'],
  ])('%s is not legacy', (_name, userAgent) => {
    const result = verdict(userAgent);
    expect(result.reasons).toEqual([]);
    expect(result.legacy).toBe(false);
  });

  it('reports the parsed client and the facts it was given', () => {
    const tls = facts('TLSv1.2');
    const result = classifyClient(tls, UA.ie8Xp, policy);
    expect(result.tls).toBe(tls);
    expect(result.client).toEqual({ browser: 'IE', version: '8.0', os: 'Windows XP', bot: false, kind: 'browser' });
  });

  it('marks Java clients as libraries', () => {
    expect(verdict(UA.java7).client).toEqual({
      browser: 'Java',
      version: '1.7.0_25',
      os: null,
      bot: false,
      kind: 'library',
    });
    expect(verdict(UA.java8).client.kind).toBe('library');
  });

  it('gives kind unknown for missing user agents', () => {
    for (const userAgent of ['', undefined, null]) expect(verdict(userAgent).client.kind).toBe('unknown');
  });
});

describe('classifyClient by TLS version', () => {
  it('records both reasons, TLS first, when both apply', () => {
    expect(verdict(UA.ie10, 'TLSv1')).toMatchObject({ legacy: true, reasons: ['tls-version', 'user-agent'] });
  });

  it.each(['TLSv1', 'TLSv1.1'] as const)('a modern browser on %s is legacy by TLS version only', (protocol) => {
    expect(verdict(UA.chrome124, protocol)).toMatchObject({ legacy: true, reasons: ['tls-version'] });
  });

  it.each(['TLSv1.2', 'TLSv1.3'] as const)('a modern browser on %s is not legacy', (protocol) => {
    expect(verdict(UA.chrome124, protocol).legacy).toBe(false);
  });

  it('an unknown protocol is not a TLS reason', () => {
    expect(verdict(UA.chrome124, null).reasons).toEqual([]);
    expect(verdict(UA.ie8Xp, null).reasons).toEqual(['user-agent']);
  });

  it('a bot on TLS 1.0 is still legacy by TLS version', () => {
    expect(verdict(UA.bingbotAsIe9, 'TLSv1').reasons).toEqual(['tls-version']);
  });
});

describe('classifyClient with tokens added to the user agent', () => {
  it.each([
    ['Chrome 124 + build/N', `${UA.chrome124} build/987654321`, false],
    ['Chrome 124 + an app token before Chrome/', UA.chrome124.replace('Chrome/', 'MyApp/2.1 Chrome/'), false],
    ['Chrome 124 in upper case', UA.chrome124.toUpperCase(), false],
    ['Chrome 29 + build/N', `${UA.chrome29} build/987654321`, true],
    ['Firefox 26 + build/N', `${UA.firefox26} build/1`, true],
    ['IE 10 in compatibility view + a token', UA.ie10Compat.replace(')', '; MyApp 1.0)'), true],
    ['Android 4.3 stock browser + a token', `${UA.android43Stock} MyApp/1.0`, true],
    ['Opera 15 + a token', `${UA.opera15} MyApp/1.0`, true],
  ] as const)('%s: legacy %s, as without the token', (_name, userAgent, legacy) => {
    expect(verdict(userAgent).legacy).toBe(legacy);
  });

  it('a stock Android browser below 4.4 is legacy whatever its Chrome/ token says', () => {
    const stock = 'Mozilla/5.0 (Linux; Android 4.3; SM-N900 Build/JSS15J) AppleWebKit/537.36 (KHTML, like Gecko) Version/1.5 Chrome/30.0.1599.103 Mobile Safari/537.36';
    expect(verdict(stock).client).toMatchObject({ browser: 'Android Browser', version: '4.3' });
    expect(verdict(`${stock} MyApp/1.0`).legacy).toBe(true);
  });

  it('two Chrome/ tokens: the first one is read, as ua-parser-js reads it', () => {
    expect(verdict(UA.chrome124.replace('Safari/', 'Chrome/29.0.1547.57 Safari/')).client.version).toBe('124.0.0.0');
    expect(verdict(UA.chrome29.replace('Safari/', 'Chrome/124.0.0.0 Safari/')).legacy).toBe(true);
  });

  it('a raised row applies to user agents with tokens added, in any case', () => {
    const chrome125 = buildPolicy({ userAgents: { Chrome: '125' } });
    expect(verdict(`${UA.chrome124} build/1`, 'TLSv1.2', chrome125).reasons).toEqual(['user-agent']);
    expect(verdict(UA.chrome124.toUpperCase(), 'TLSv1.2', chrome125).reasons).toEqual(['user-agent']);
    expect(verdict(`${UA.opera17} build/1`, 'TLSv1.2', buildPolicy({ userAgents: { Opera: '18' } })).legacy).toBe(true);
  });

  it('Edge and Samsung Internet stay off the Chrome row', () => {
    const chrome200 = buildPolicy({ userAgents: { Chrome: '200' } });
    expect(verdict(`${UA.edge} build/1`, 'TLSv1.2', chrome200).legacy).toBe(false);
    expect(verdict(`${UA.samsung} build/1`, 'TLSv1.2', chrome200).legacy).toBe(false);
    expect(verdict(`${UA.chrome124} build/1`, 'TLSv1.2', chrome200).legacy).toBe(true);
  });

  it('a bot with a modern browser token is a bot, and never legacy by user agent', () => {
    const result = verdict(`${UA.chrome29.replace('Chrome/29', 'Chrome/124')} SiteAuditCrawler/1.0`, 'TLSv1.2', buildPolicy({ userAgents: { Chrome: '200' } }));
    expect(result.client).toMatchObject({ browser: 'Chrome', kind: 'bot', bot: true });
    expect(result.legacy).toBe(false);
  });
});

describe('policy overrides', () => {
  it('raising Chrome to 40 makes Chrome 35 legacy', () => {
    expect(verdict(UA.chrome35).legacy).toBe(false);
    expect(verdict(UA.chrome35, 'TLSv1.2', buildPolicy({ userAgents: { Chrome: '40' } })).reasons).toEqual(['user-agent']);
    expect(verdict(UA.chrome35, 'TLSv1.2', buildPolicy({ userAgents: { Chrome: 40 } })).legacy).toBe(true);
  });

  it('a raised row applies to the fast path too', () => {
    expect(verdict(UA.chrome124, 'TLSv1.2', buildPolicy({ userAgents: { Chrome: '125' } })).legacy).toBe(true);
  });

  it('IE: false makes IE 8 not legacy by user agent, but TLS 1.0 still counts', () => {
    const noIe = buildPolicy({ userAgents: { IE: false } });
    expect(verdict(UA.ie8Xp, 'TLSv1.2', noIe).legacy).toBe(false);
    expect(verdict(UA.ie8Xp, 'TLSv1', noIe).reasons).toEqual(['tls-version']);
    expect(verdict(UA.chrome29, 'TLSv1.2', noIe).legacy).toBe(true);
  });

  it('userAgents: false switches the user-agent rule off', () => {
    const off = buildPolicy({ userAgents: false });
    expect(off.userAgents).toBe(false);
    expect(verdict(UA.ie6Xp, 'TLSv1.2', off).legacy).toBe(false);
    expect(verdict(UA.ie6Xp, 'TLSv1', off).reasons).toEqual(['tls-version']);
  });

  it("legacyProtocols: ['TLSv1'] makes TLS 1.1 not legacy", () => {
    const only10 = buildPolicy({ legacyProtocols: ['TLSv1'] });
    expect(verdict(UA.chrome124, 'TLSv1.1', only10).legacy).toBe(false);
    expect(verdict(UA.chrome124, 'TLSv1', only10).legacy).toBe(true);
  });

  it('merges over the defaults without changing them', () => {
    const merged = buildPolicy({ userAgents: { Firefox: '30', Java: false } });
    expect(merged.userAgents).toEqual({ ...omit(DEFAULT_USER_AGENT_POLICY, 'Java'), Firefox: '30' });
    expect(DEFAULT_USER_AGENT_POLICY.Firefox).toBe('27');
    expect(DEFAULT_USER_AGENT_POLICY.Java).toBe('1.8');
  });

  it('defaults to the DESIGN.md table and TLS 1.0/1.1', () => {
    expect(policy.userAgents).toEqual(DEFAULT_USER_AGENT_POLICY);
    expect([...policy.legacyProtocols]).toEqual(['TLSv1', 'TLSv1.1']);
    expect(DEFAULT_LEGACY_PROTOCOLS.has('TLSv1.2')).toBe(false);
    expect(Object.keys(DEFAULT_USER_AGENT_POLICY).sort()).toEqual([...BROWSER_FAMILIES].sort());
  });

  it('ignores keys that are not families instead of adding rows for them', () => {
    const odd = buildPolicy({ userAgents: { Yandex: '99' } as never });
    expect(odd.userAgents).toEqual(DEFAULT_USER_AGENT_POLICY);
  });
});

describe('isLegacyClient', () => {
  const client = (browser: string | null, version: string | null) =>
    ({ browser, version, os: null, bot: false, kind: 'browser' }) as const;

  it('needs a known family and a readable version', () => {
    expect(isLegacyClient(client('IE', '8.0'), policy)).toBe(true);
    expect(isLegacyClient(client('IE', null), policy)).toBe(false);
    expect(isLegacyClient(client('IE', 'unknown'), policy)).toBe(false);
    expect(isLegacyClient(client(null, '1.0'), policy)).toBe(false);
    expect(isLegacyClient(client('Netscape', '4.0'), policy)).toBe(false);
    expect(isLegacyClient(client('constructor', '1'), policy)).toBe(false);
  });

  it('skips a row whose minimum cannot be read', () => {
    const broken: ClassificationPolicy = { legacyProtocols: new Set(), userAgents: { IE: 'eleven' } };
    expect(isLegacyClient(client('IE', '8.0'), broken)).toBe(false);
  });

  it('agrees with parseUserAgent output', () => {
    expect(isLegacyClient(parseUserAgent(UA.ie11Compat), policy)).toBe(false);
    expect(isLegacyClient(parseUserAgent(UA.ie10Compat), policy)).toBe(true);
  });
});

describe('compareVersions', () => {
  it.each([
    ['29.0.1547.57', '30', -1],
    ['30.0.1599.101', '30', 1],
    ['30', '30.0.0', 0],
    ['1.7.0_25', '1.8', -1],
    ['1.8.0_151', '1.8', 1],
    ['11.0.2', '1.8', 1],
    ['4.3', '4.4', -1],
    ['4.4.2', '4.4', 1],
    ['12.16', '17', -1],
    ['10', '9', 1],
    ['5.0.2', '5.1', -1],
    ['12.16b', '12.16', 0],
  ] as const)('compareVersions(%s, %s) is %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
  });

  it('parseVersion reads numbers up to the first non-numeric tail', () => {
    expect(parseVersion('1.7.0_25')).toEqual([1, 7, 0, 25]);
    expect(parseVersion('11.0a1.5')).toEqual([11, 0]);
    expect(parseVersion('W.X.Y.Z')).toEqual([]);
  });
});

describe('never throws', () => {
  it('for odd inputs', () => {
    const inputs = ['\u0000', '()()()', '/'.repeat(5000), 'Mozilla/5.0 (' + ';'.repeat(10_000), '\uD800', 'Trident/99.0 MSIE x'];
    for (const userAgent of inputs) {
      expect(() => verdict(userAgent, 'TLSv1')).not.toThrow();
    }
  });
});

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}
