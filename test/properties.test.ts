/**
 * Property-based tests (fast-check) for the pure cores: classification, trusted TLS headers,
 * version comparison, report maths, the stats file format, bounded label maps and the HyperLogLog sketch.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { runs } from './helpers/long.js';
import { describe, expect, it } from 'vitest';
import { classifyClient } from '../src/classify/classify.js';
import {
  BROWSER_FAMILIES,
  DEFAULT_USER_AGENT_POLICY,
  buildPolicy,
  compareVersions,
  parseVersion,
  type BrowserFamily,
  type PolicyInput,
  type UserAgentPolicyOverrides,
} from '../src/classify/policy.js';
import { MAX_USER_AGENT_LENGTH, parseModernBrowser, parseWithUaParser } from '../src/classify/user-agent.js';
import { buildReport, type ReportDocument, type WindowName } from '../src/report/document.js';
import { normaliseTlsVersion, parseTrustedTlsHeader } from '../src/tls/facts.js';
import { HyperLogLog } from '../src/stats/hyperloglog.js';
import {
  DAY_MS,
  HOUR_MS,
  MAX_CLIENTS_PER_BUCKET,
  MAX_OS_PER_HOUR,
  addTo,
  dayStart,
  emptyState,
  hourStart,
  mergeState,
  prune,
  recordHandshake,
  recordHandshakeFailure,
  recordRequest,
  recordUpstreamError,
  type StatsState,
} from '../src/stats/model.js';
import {
  CLIENT_KINDS,
  FAILURE_REASONS,
  FALLBACK_ACTIONS,
  OTHER,
  PROTOCOL_LABELS,
  type ProtocolLabel,
  type RequestLabels,
} from '../src/stats/labels.js';
import { fromDocument, toDocument } from '../src/stats/serialize.js';
import { type StorageStatus } from '../src/stats/traffic-stats.js';
import { clientLabel as legacyClientLabel } from '../src/stats/labels.js';
import { TLS_PROTOCOLS, type ClientKind, type FallbackAction, type HandshakeFailureReason, type TlsFacts, type TlsProtocol } from '../src/types.js';

// ---------------------------------------------------------------------------------------------
// 1. Classification

const MAX_FIELD = 64;

/** Fragments of real user agents, glued at random so that the parsers' interesting paths are reached. */
const UA_TOKENS = [
  'Mozilla/5.0 ',
  'Mozilla/4.0 ',
  '(',
  ')',
  '; ',
  ' ',
  '.',
  '_',
  '/',
  'compatible',
  'MSIE ',
  'Trident/',
  'Windows NT ',
  'Windows NT 5.1',
  'Windows Phone ',
  'IEMobile/',
  'Chrome/',
  'Chromium/',
  'HeadlessChrome/',
  'Firefox/',
  'rv:',
  'Gecko/20100101 ',
  'like Gecko',
  'Safari/',
  'Version/',
  'Mobile/',
  'AppleWebKit/',
  '(KHTML, like Gecko)',
  'Android ',
  'Linux; ',
  'U; ',
  'wv',
  'Build/',
  'iPhone; CPU iPhone OS ',
  'iPad; CPU OS ',
  ' like Mac OS X',
  'Macintosh; Intel Mac OS X ',
  'X11; Linux x86_64',
  'Opera/',
  'Opera Mobi',
  'OPR/',
  'Presto/',
  'Edge/',
  'Edg/',
  'EdgA/',
  'SamsungBrowser/',
  'CriOS/',
  'FxiOS/',
  'Java/',
  'curl/',
  'Wget/',
  'python-requests/',
  'okhttp/',
  'Dalvik/',
  'CFNetwork/',
  'Darwin/',
  'Googlebot/2.1',
  '+http://www.google.com/bot.html',
  'bingbot',
  'crawler',
  'spider',
  'Microsoft-CryptoAPI/',
  'WinHttp',
];

const digitRun = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 120 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }).map((n) => '1'.repeat(n)) },
  { weight: 1, arbitrary: fc.stringMatching(/^0{0,3}\d{1,6}$/) },
);

const uaSoup = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...UA_TOKENS) }, { weight: 2, arbitrary: digitRun }, { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 4 }) }), {
    maxLength: 40,
  })
  .map((parts) => parts.join(''));

const CHROME_PLATFORMS = [
  'Windows NT 10.0; Win64; x64',
  'Windows NT 6.1; WOW64',
  'Windows NT 5.1',
  'Windows NT 7.7',
  'X11; Linux x86_64',
  'Macintosh; Intel Mac OS X 10_15_7',
  'Linux; Android 10; K',
  'Linux; Android 4.4.2; Nexus 5 Build/KOT49H',
  'Linux; Android 12; wv',
  'Android 9; Mobile',
];

/** The exact shapes the fast path knows, with random (sometimes huge) version numbers. */
const modernShape = fc.oneof(
  fc
    .tuple(fc.constantFrom(...CHROME_PLATFORMS), digitRun, digitRun, digitRun, digitRun, fc.constantFrom('', 'Mobile '), fc.option(digitRun))
    .map(
      ([platform, a, b, c, d, mobile, edge]) =>
        `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${a}.${b}.${c}.${d} ${mobile}Safari/537.36${edge === null ? '' : ` Edg/${edge}.0.0.0`}`,
    ),
  // Padded to lengths around the parsers' cut-offs (ua-parser-js reads 500 characters, we keep 512).
  fc
    .tuple(fc.constantFrom(...CHROME_PLATFORMS), fc.integer({ min: 490, max: 520 }), fc.option(digitRun))
    .map(([platform, length, edge]) => {
      const shape = (major: string) =>
        `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36${edge === null ? '' : ` Edg/${edge}.0.0.0`}`;
      return shape(`1${'0'.repeat(Math.max(1, length - shape('').length - 1))}`);
    }),
  fc
    .tuple(fc.constantFrom(...CHROME_PLATFORMS), digitRun, digitRun, fc.constantFrom('20100101', '120.0'))
    .map(([platform, major, minor, gecko]) => `Mozilla/5.0 (${platform}; rv:${major}.${minor}) Gecko/${gecko} Firefox/${major}.${minor}`),
  fc
    .tuple(fc.integer({ min: 10, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9 }))
    .map(
      ([osMajor, osMinor, safari, minor]) =>
        `Mozilla/5.0 (Macintosh; Intel Mac OS X ${osMajor}_${osMinor}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari}.${minor} Safari/605.1.15`,
    ),
  fc
    .tuple(fc.constantFrom('iPhone', 'iPad', 'iPod touch'), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }))
    .map(
      ([device, osMajor, osMinor, safari]) =>
        `Mozilla/5.0 (${device}; CPU ${device === 'iPhone' ? 'iPhone ' : ''}OS ${osMajor}_${osMinor} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari}.0 Mobile/15E148 Safari/604.1`,
    ),
);

const userAgentArb: fc.Arbitrary<string | undefined | null> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: MAX_USER_AGENT_LENGTH - 8, maxLength: 20_000, size: 'max' }) },
  // Long strings whose first 512 characters are a plausible user agent.
  { weight: 1, arbitrary: fc.tuple(uaSoup, fc.integer({ min: 0, max: 20_000 })).map(([ua, n]) => `${ua}${'9'.repeat(n)}`) },
  { weight: 4, arbitrary: uaSoup },
  { weight: 3, arbitrary: modernShape },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(null) },
);

const factsArb: fc.Arbitrary<TlsFacts> = fc.record({
  protocol: fc.constantFrom<TlsProtocol | null>(...TLS_PROTOCOLS, null),
  cipher: fc.option(fc.string({ unit: 'binary' })),
  servername: fc.option(fc.string({ unit: 'binary' })),
  source: fc.constantFrom<TlsFacts['source']>('socket', 'header', 'none'),
});

const overrideValue = fc.oneof(
  fc.constant(false as const),
  fc.constant(undefined),
  fc.nat({ max: 40 }),
  fc.stringMatching(/^\d{1,2}(\.\d{1,2}){0,2}$/),
  fc.constantFrom('', 'x', ' 7 ', '1.8_0'),
);

const overridesArb: fc.Arbitrary<UserAgentPolicyOverrides> = fc.record(
  Object.fromEntries(BROWSER_FAMILIES.map((family) => [family, overrideValue])) as Record<BrowserFamily, typeof overrideValue>,
  { requiredKeys: [] },
) as fc.Arbitrary<UserAgentPolicyOverrides>;

const policyInputArb: fc.Arbitrary<PolicyInput> = fc.record(
  {
    legacyProtocols: fc.option(fc.subarray([...TLS_PROTOCOLS]), { nil: undefined }),
    userAgents: fc.oneof(fc.constant(undefined), fc.constant(false as const), overridesArb),
  },
  { requiredKeys: [] },
);

/** Minimum version of `family` under `input`, modelled from the documentation of PolicyInput. */
function modelMinimum(input: PolicyInput, family: string): string | undefined {
  if (input.userAgents === false || !(BROWSER_FAMILIES as readonly string[]).includes(family)) return undefined;
  const key = family as BrowserFamily;
  const override = input.userAgents?.[key];
  if (override === false) return undefined;
  if (override !== undefined) return String(override);
  return DEFAULT_USER_AGENT_POLICY[key];
}

describe('property: classification is total', () => {
  it('classifyClient never throws and returns a well-formed verdict', () => {
    fc.assert(
      fc.property(factsArb, userAgentArb, policyInputArb, (facts, userAgent, input) => {
        const policy = buildPolicy(input);
        const verdict = classifyClient(facts, userAgent, policy);

        expect(verdict.tls).toBe(facts);
        expect(verdict.legacy).toBe(verdict.reasons.length > 0);
        // Subset of the two reasons, no duplicates, in this order.
        expect([[], ['tls-version'], ['user-agent'], ['tls-version', 'user-agent']]).toContainEqual(verdict.reasons);

        const { client } = verdict;
        expect(CLIENT_KINDS).toContain(client.kind);
        expect(client.bot).toBe(client.kind === 'bot');
        for (const field of [client.browser, client.version, client.os]) {
          if (field !== null) {
            expect(typeof field).toBe('string');
            expect(field.length).toBeLessThanOrEqual(MAX_FIELD);
          }
        }

        // The protocol is the fact: legacy by TLS version exactly for the configured protocols, and for
        // a trusted header that names none (fail closed).
        const legacyProtocols: readonly TlsProtocol[] = input.legacyProtocols === undefined ? ['TLSv1', 'TLSv1.1'] : [...input.legacyProtocols];
        const tlsLegacy = facts.protocol === null ? facts.source === 'header' : legacyProtocols.includes(facts.protocol);
        expect(verdict.reasons.includes('tls-version')).toBe(tlsLegacy);

        // The user agent is a hint, judged against the merged table; bots and unknown families never.
        const minimum = client.browser === null ? undefined : modelMinimum(input, client.browser);
        const uaLegacy =
          client.kind !== 'bot' &&
          client.version !== null &&
          minimum !== undefined &&
          parseVersion(client.version).length > 0 &&
          parseVersion(minimum).length > 0 &&
          compareVersions(client.version, minimum) < 0;
        expect(verdict.reasons.includes('user-agent')).toBe(uaLegacy);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('the fast path, when it answers, answers what the full parser would', () => {
    fc.assert(
      fc.property(modernShape, (userAgent) => {
        const fast = parseModernBrowser(userAgent);
        if (fast !== null) expect(fast).toStrictEqual(parseWithUaParser(userAgent));
      }),
      { numRuns: runs(1000) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Trusted TLS header

const SPELLINGS: readonly (readonly [spelling: string, protocol: TlsProtocol])[] = [
  ['tlsv1', 'TLSv1'],
  ['tlsv1.0', 'TLSv1'],
  ['tlsv1.1', 'TLSv1.1'],
  ['tlsv1.2', 'TLSv1.2'],
  ['tlsv1.3', 'TLSv1.3'],
  ['tls1', 'TLSv1'],
  ['tls1.0', 'TLSv1'],
  ['tls1.1', 'TLSv1.1'],
  ['tls1.2', 'TLSv1.2'],
  ['tls1.3', 'TLSv1.3'],
];
const WHITESPACE = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\ufeff', '\u2028', '\u3000'];
const CIPHER = /^[A-Za-z0-9_-]{1,64}$/;

const randomCase = (text: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: text.length, maxLength: text.length }).map((upper) =>
    [...text].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''),
  );
const whitespace = fc.array(fc.constantFrom(...WHITESPACE), { maxLength: 4 }).map((ws) => ws.join(''));

/** A documented spelling, any case, surrounded by whitespace; with the protocol it stands for. */
const spelledVersion: fc.Arbitrary<[string, TlsProtocol]> = fc
  .constantFrom(...SPELLINGS)
  .chain(([spelling, protocol]) => fc.tuple(whitespace, randomCase(spelling), whitespace).map(([a, s, b]): [string, TlsProtocol] => [`${a}${s}${b}`, protocol]));

/** Near misses of the spellings: the same letters, digits and dots in random order. */
const nearMiss = fc
  .array(fc.constantFrom('t', 'T', 'l', 'L', 's', 'S', 'v', 'V', 'ſ', 'K', '1', '.', '0', '1', '2', '3', '4', ' ', '\t', '\u00a0', 'x', '_'), { maxLength: 10 })
  .map((c) => c.join(''));

const versionCandidate = fc.oneof(
  { weight: 3, arbitrary: spelledVersion.map(([s]) => s) },
  { weight: 3, arbitrary: nearMiss },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constantFrom('TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'SSLv3', 'none', 'TLSv1.4', 'tlsv2', 'DTLSv1.2', 'tls 1.2', 'v1.2') },
  // Valid spellings buried in more whitespace than a header may carry.
  { weight: 1, arbitrary: fc.tuple(spelledVersion, fc.integer({ min: 100, max: 300 })).map(([[s], n]) => `${' '.repeat(n)}${s}`) },
);

/** Model of normaliseTlsVersion from its documentation: the listed spellings, any case, trimmed. */
function modelNormalise(value: string): TlsProtocol | null {
  if (value.length > 128) return null;
  const match = /^\s*tlsv?1(?:\.([0-3]))?\s*$/i.exec(value);
  if (match === null) return null;
  return match[1] === undefined || match[1] === '0' ? 'TLSv1' : (`TLSv1.${match[1]}` as TlsProtocol);
}

const headerChunk = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'TLSv1',
      'TLSv1.1',
      'TLSv1.2',
      'TLSv1.3',
      'tlsv1.0',
      'TLS1.2',
      'SSLv3',
      'none',
      ':',
      ',',
      ', ',
      ' ',
      '\t',
      '\r\n',
      '\0',
      '\x7f',
      '\u0085',
      '\u00a0',
      '\ufeff',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'TLS_AES_128_GCM_SHA256',
      'TLS_CHACHA20_POLY1305_SHA256',
      'sessionResumed',
      'fullHandshake',
      'AES128-SHA',
      'é',
      '\u{1F4A5}',
      '\ud800',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{60,70}$/) },
);
const headerString = fc.oneof(
  { weight: 4, arbitrary: fc.array(headerChunk, { maxLength: 12 }).map((c) => c.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.tuple(headerChunk, fc.integer({ min: 1, max: 5_000 })).map(([c, n]) => c.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 100, maxLength: 20_000, size: 'max' }) },
);
const headerValue: fc.Arbitrary<string | string[] | undefined> = fc.oneof(
  { weight: 4, arbitrary: headerString },
  { weight: 2, arbitrary: fc.array(headerString, { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

describe('property: trusted TLS header', () => {
  it('parseTrustedTlsHeader never throws and returns a known protocol and a clean cipher', () => {
    fc.assert(
      fc.property(headerValue, (value) => {
        const parsed = parseTrustedTlsHeader(value);
        expect(Object.keys(parsed).sort()).toEqual(['cipher', 'protocol']);
        expect([...TLS_PROTOCOLS, null]).toContain(parsed.protocol);
        if (parsed.cipher !== null) expect(parsed.cipher).toMatch(CIPHER);
        // Node joins repeated headers with ", ": the array form and the joined form mean the same.
        if (Array.isArray(value)) expect(parseTrustedTlsHeader(value.join(','))).toStrictEqual(parsed);
      }),
      { numRuns: runs(1500) },
    );
  });

  it('well-formed values are read; repeats agree, disagreements and floods give nothing', () => {
    fc.assert(
      fc.property(
        spelledVersion,
        fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), { nil: undefined }),
        fc.constantFrom('', ':sessionResumed', ':fullHandshake'),
        fc.integer({ min: 1, max: 7 }),
        fc.option(spelledVersion, { nil: undefined }),
        ([version, protocol], cipher, tail, copies, other) => {
          const one = cipher === undefined ? version : `${version}:${cipher}${tail}`;
          fc.pre(one.length <= 128 && !one.includes(','));
          const expected = { protocol, cipher: cipher ?? null };
          expect(parseTrustedTlsHeader(one)).toStrictEqual(expected);
          const repeated = Array.from({ length: copies }, () => one);
          expect(parseTrustedTlsHeader(repeated.join(', '))).toStrictEqual(copies <= 4 ? expected : { protocol: null, cipher: null });
          expect(parseTrustedTlsHeader(repeated)).toStrictEqual(copies <= 4 ? expected : { protocol: null, cipher: null });
          if (other !== undefined && other[1] !== protocol) {
            expect(parseTrustedTlsHeader([one, other[0]])).toStrictEqual({ protocol: null, cipher: null });
            expect(parseTrustedTlsHeader(`${other[0]},${one}`)).toStrictEqual({ protocol: null, cipher: null });
          }
        },
      ),
      { numRuns: runs(1000) },
    );
  });

  it('normaliseTlsVersion accepts exactly the documented spellings and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(versionCandidate, fc.constant(null), fc.constant(undefined)), (value) => {
        const result = normaliseTlsVersion(value);
        expect(result).toBe(typeof value === 'string' ? modelNormalise(value) : null);
        if (result !== null) expect(normaliseTlsVersion(result)).toBe(result);
      }),
      { numRuns: runs(3000) },
    );
    for (const [spelling, protocol] of SPELLINGS) expect(normaliseTlsVersion(spelling)).toBe(protocol);
    for (const protocol of TLS_PROTOCOLS) expect(normaliseTlsVersion(protocol)).toBe(protocol);
  });

  it('every documented spelling is accepted in any case with surrounding whitespace', () => {
    fc.assert(
      fc.property(spelledVersion, ([value, protocol]) => {
        expect(normaliseTlsVersion(value)).toBe(protocol);
      }),
      { numRuns: runs(1000) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Version comparison

/** A dotted version with its numeric parts known by construction. */
const versionArb: fc.Arbitrary<{ text: string; parts: number[] }> = fc
  .tuple(
    fc.constantFrom('', ' ', '\t'),
    fc.array(
      fc.tuple(
        fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 3 }) }, { weight: 1, arbitrary: fc.nat({ max: 1_000_000_000 }) }),
        fc.constantFrom('', '0', '00'),
        fc.constantFrom('.', '_'),
      ),
      { maxLength: 5 },
    ),
    fc.constantFrom('', 'b', 'rc1', '-beta', ' (x)', '.x', '..1', '._'),
  )
  .map(([prefix, parts, suffix]) => ({
    text: prefix + parts.map(([n, zeros, sep], i) => `${i === 0 ? '' : sep}${zeros}${n}`).join('') + suffix,
    parts: parts.map(([n]) => n),
  }));

function modelCompare(a: readonly number[], b: readonly number[]): -1 | 0 | 1 {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const l = a[i] ?? 0;
    const r = b[i] ?? 0;
    if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
}

describe('property: compareVersions', () => {
  it('is reflexive, antisymmetric and agrees with the numeric parts', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        expect(compareVersions(a.text, a.text)).toBe(0);
        expect(compareVersions(a.text, b.text) + compareVersions(b.text, a.text)).toBe(0);
        expect(compareVersions(a.text, b.text)).toBe(modelCompare(a.parts, b.parts));
      }),
      { numRuns: runs(2000) },
    );
  });

  it('is transitive', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        const ab = compareVersions(a.text, b.text);
        const bc = compareVersions(b.text, c.text);
        const ac = compareVersions(a.text, c.text);
        if (ab <= 0 && bc <= 0) expect(ac).toBeLessThanOrEqual(0);
        if (ab >= 0 && bc >= 0) expect(ac).toBeGreaterThanOrEqual(0);
        if (ab === 0 && bc === 0) expect(ac).toBe(0);
      }),
      { numRuns: runs(2000) },
    );
  });

  it('sorts consistently (a total preorder)', () => {
    fc.assert(
      fc.property(fc.array(versionArb.map((v) => v.text), { minLength: 2, maxLength: 10 }), (versions) => {
        const sorted = [...versions].sort(compareVersions);
        for (let i = 0; i < sorted.length; i++) {
          for (let j = i + 1; j < sorted.length; j++) expect(compareVersions(sorted[i] ?? '', sorted[j] ?? '')).toBeLessThanOrEqual(0);
        }
      }),
      { numRuns: runs(500) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 4–5. Report maths and the stats file

const NOWS = [
  Date.UTC(2024, 4, 15, 13, 37, 42, 123), // mid-hour
  Date.UTC(2024, 4, 15, 13), // on an hour boundary
  Date.UTC(2024, 4, 15), // on a day boundary
  Date.UTC(2024, 4, 16) - 1, // the last millisecond of a day
];
const STORAGE: StorageStatus = { store: 'memory', file: null, lastSavedAt: null, error: null };

const VISITORS = Array.from({ length: 200 }, (_, i) => createHash('sha256').update(`visitor ${i}`).digest());

type Event =
  | {
      type: 'request';
      time: number;
      protocol: ProtocolLabel;
      kind: ClientKind;
      uaLegacy: boolean;
      action: FallbackAction;
      browser: string | null;
      version: string | null;
      os: string | null;
      visitor: number;
    }
  | { type: 'handshake'; time: number; protocol: ProtocolLabel; resumed: boolean }
  | { type: 'failure'; time: number; reason: HandshakeFailureReason }
  | { type: 'upstream'; time: number; status: 502 | 504 };

type RequestEvent = Extract<Event, { type: 'request' }>;

const TLS_LEGACY: readonly ProtocolLabel[] = ['TLSv1', 'TLSv1.1'];

function timeArb(now: number): fc.Arbitrary<number> {
  const lastHour = hourStart(now);
  const today = dayStart(now);
  const edges = [
    lastHour,
    lastHour - 23 * HOUR_MS,
    lastHour - 24 * HOUR_MS,
    lastHour - 167 * HOUR_MS,
    lastHour - 719 * HOUR_MS,
    today,
    today - 6 * DAY_MS,
    today - 29 * DAY_MS,
    now,
  ];
  const clamp = (t: number) => Math.min(now, Math.max(now - 40 * DAY_MS, t));
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: now - 40 * DAY_MS, max: now }) },
    { weight: 3, arbitrary: fc.integer({ min: now - 30 * HOUR_MS, max: now }) },
    { weight: 1, arbitrary: fc.integer({ min: now - 3 * HOUR_MS, max: now }) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...edges), fc.integer({ min: -2, max: 1 })).map(([edge, delta]) => clamp(edge + delta)) },
  );
}

function eventArb(now: number): fc.Arbitrary<Event> {
  const time = timeArb(now);
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        type: fc.constant('request' as const),
        time,
        protocol: fc.constantFrom(...PROTOCOL_LABELS),
        kind: fc.constantFrom(...CLIENT_KINDS),
        uaLegacy: fc.boolean(),
        action: fc.constantFrom(...FALLBACK_ACTIONS),
        browser: fc.option(fc.oneof(fc.constantFrom('IE', 'Java', 'Chrome', 'Safari', 'Mobile Safari', 'Android Browser', 'Opera', 'Firefox'), fc.string({ maxLength: 60 }))),
        version: fc.option(fc.oneof(fc.nat({ max: 40 }).map(String), fc.constantFrom('1.7.0_25', '4.3', '10.0', '5.0.2'))),
        os: fc.option(fc.oneof(fc.nat({ max: 29 }).map((n) => `OS ${n}`), fc.constantFrom('Windows XP', 'iOS 6.1', 'Android 4.3', '__proto__', '10'), fc.string({ maxLength: 40 }))),
        visitor: fc.oneof(fc.nat({ max: 5 }), fc.nat({ max: VISITORS.length - 1 })),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ type: fc.constant('handshake' as const), time, protocol: fc.constantFrom(...PROTOCOL_LABELS), resumed: fc.boolean() }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('failure' as const), time, reason: fc.constantFrom(...FAILURE_REASONS) }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('upstream' as const), time, status: fc.constantFrom(502 as const, 504 as const) }) },
  );
}

/** What TrafficStats would record: the flags are consistent with the protocol (default policy) and the kind. */
function sampleFlags(e: RequestEvent): { tlsLegacy: boolean; uaLegacy: boolean; legacy: boolean } {
  const tlsLegacy = TLS_LEGACY.includes(e.protocol);
  // Bots are never legacy by user agent, and a client the parser could not name has no row.
  const uaLegacy = e.uaLegacy && (e.kind === 'browser' || e.kind === 'library');
  return { tlsLegacy, uaLegacy, legacy: tlsLegacy || uaLegacy };
}

function buildState(events: readonly Event[]): StatsState {
  const state = emptyState();
  for (const e of events) {
    if (e.type === 'request') {
      const { tlsLegacy, uaLegacy, legacy } = sampleFlags(e);
      recordRequest(state, e.time, {
        protocol: e.protocol,
        kind: e.kind,
        legacy,
        tlsLegacy,
        uaLegacy,
        action: e.action,
        client: legacy ? legacyClientLabel(e.browser, e.version, e.os) : null,
        os: e.os === null ? null : e.os.slice(0, 32),
      }, VISITORS[e.visitor] ?? Buffer.alloc(32));
    } else if (e.type === 'handshake') recordHandshake(state, e.time, e.protocol, e.resumed);
    else if (e.type === 'failure') recordHandshakeFailure(state, e.time, e.reason);
    else recordUpstreamError(state, e.time, e.status);
  }
  return state;
}

const scenarioArb = fc.constantFrom(...NOWS).chain((now) => fc.tuple(fc.constant(now), fc.array(eventArb(now), { maxLength: 300 })));

const WINDOW_HOURS: Record<WindowName, number> = { '24h': 24, '7d': 168, '30d': 720 };
const WINDOW_DAYS: Record<WindowName, number> = { '24h': 1, '7d': 7, '30d': 30 };

const sumOf = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);
const countWhere = <T>(items: readonly T[], predicate: (item: T) => boolean): number => items.filter(predicate).length;

function checkReport(report: ReportDocument, events: readonly Event[], now: number): void {
  const lastHour = hourStart(now);
  const requests = events.filter((e): e is RequestEvent => e.type === 'request');
  const totals: number[] = [];
  for (const name of ['24h', '7d', '30d'] as const) {
    const w = report.windows[name];
    const from = lastHour - (WINDOW_HOURS[name] - 1) * HOUR_MS;
    const to = lastHour + HOUR_MS;
    const inWindow = (t: number) => t >= from && t < to;
    // The fallback page's own views are counted apart from the site's requests.
    const window = requests.filter((e) => inWindow(e.time) && e.action !== 'page');
    const where = `window ${name}`;
    const views = requests.filter((e) => inWindow(e.time) && e.action === 'page');
    expect(w.pageViews.total, where).toBe(views.length);
    expect(w.pageViews.legacy, where).toBe(countWhere(views, (e) => sampleFlags(e).legacy));

    // Shares.
    for (const share of [w.legacyShare, w.legacyShareBrowsers, ...w.whatIf.flatMap((row) => [row.requestShare, row.browserVisitorShare])]) {
      expect(share, where).toBeGreaterThanOrEqual(0);
      expect(share, where).toBeLessThanOrEqual(1);
    }

    // Breakdowns add up, and match the samples exactly (request counts are exact).
    const r = w.requests;
    expect(sumOf(r.byProtocol), where).toBe(r.total);
    expect(sumOf(r.byKind), where).toBe(r.total);
    expect(sumOf(r.byAction), where).toBe(r.total);
    expect(r.legacy, where).toBeLessThanOrEqual(r.total);
    expect(r.total, where).toBe(window.length);
    expect(r.legacy, where).toBe(countWhere(window, (e) => sampleFlags(e).legacy));
    expect(r.byReason['tls-version'], where).toBe(countWhere(window, (e) => sampleFlags(e).tlsLegacy));
    expect(r.byReason['user-agent'], where).toBe(countWhere(window, (e) => sampleFlags(e).uaLegacy));
    for (const protocol of PROTOCOL_LABELS) expect(r.byProtocol[protocol], where).toBe(countWhere(window, (e) => e.protocol === protocol));
    for (const kind of CLIENT_KINDS) expect(r.byKind[kind], where).toBe(countWhere(window, (e) => e.kind === kind));
    for (const action of FALLBACK_ACTIONS) expect(r.byAction[action], where).toBe(countWhere(window, (e) => e.action === action));

    // What-if: a higher minimum never sends fewer people to the fallback page.
    const [at12, at13] = w.whatIf;
    expect(at12?.minimum).toBe('TLSv1.2');
    expect(at13?.minimum).toBe('TLSv1.3');
    if (at12 === undefined || at13 === undefined) throw new Error('whatIf rows missing');
    expect(at13.requests, where).toBeGreaterThanOrEqual(at12.requests);
    expect(at13.browserVisitors, where).toBeGreaterThanOrEqual(at12.browserVisitors);
    expect(at12.requests, where).toBe(countWhere(window, (e) => sampleFlags(e).uaLegacy || TLS_LEGACY.includes(e.protocol)));
    expect(at13.requests, where).toBe(countWhere(window, (e) => sampleFlags(e).uaLegacy || e.protocol !== 'TLSv1.3' && e.protocol !== 'none'));
    for (const row of w.whatIf) expect(row.browserVisitors, where).toBeLessThanOrEqual(w.visitors.browsers);

    // Visitors: an estimate, but never wildly above the distinct hashes the window's sketches saw.
    const sketched =
      name === '24h'
        ? requests.filter((e) => inWindow(e.time))
        : requests.filter((e) => dayStart(e.time) >= dayStart(now) - (WINDOW_DAYS[name] - 1) * DAY_MS);
    const distinct = new Set(sketched.map((e) => e.visitor)).size;
    expect(w.visitors.total, where).toBeLessThanOrEqual(distinct * 1.1 + 2);
    expect(w.visitors.browsers, where).toBeLessThanOrEqual(w.visitors.total);

    // Handshakes and failures.
    const handshakes = events.filter((e) => e.type === 'handshake' && inWindow(e.time));
    expect(w.handshakes.total, where).toBe(handshakes.length);
    expect(w.handshakes.resumed, where).toBe(countWhere(handshakes, (e) => e.type === 'handshake' && e.resumed));
    expect(w.handshakeFailures.total, where).toBe(countWhere(events, (e) => e.type === 'failure' && inWindow(e.time)));
    for (const status of [502, 504] as const) {
      expect(w.upstreamErrors.byStatus[String(status) as '502' | '504'], where).toBe(countWhere(events, (e) => e.type === 'upstream' && e.status === status && inWindow(e.time)));
    }
    expect(w.upstreamErrors.total, where).toBe(w.upstreamErrors.byStatus['502'] + w.upstreamErrors.byStatus['504']);

    // Top clients.
    expect(w.topLegacyClients.length, where).toBeLessThanOrEqual(10);
    expect(w.topLegacyClients.reduce((a, row) => a + row.requests, 0), where).toBeLessThanOrEqual(r.legacy);
    for (const row of w.topLegacyClients) expect(row.visitors, where).toBeLessThanOrEqual(row.requests);

    // Series: hourly points cover the window exactly; daily points cover whole UTC days.
    if (name === '24h') {
      expect(w.series).toHaveLength(24);
      expect(w.series.reduce((a, p) => a + p.requests, 0), where).toBe(r.total);
      expect(w.series.reduce((a, p) => a + p.legacy, 0), where).toBe(r.legacy);
    } else {
      expect(w.series).toHaveLength(WINDOW_DAYS[name]);
      const firstDay = dayStart(now) - (WINDOW_DAYS[name] - 1) * DAY_MS;
      const daily = requests.filter((e) => e.time >= firstDay && e.time < dayStart(now) + DAY_MS && e.action !== 'page');
      expect(w.series.reduce((a, p) => a + p.requests, 0), where).toBe(daily.length);
    }
    for (const p of w.series) expect(sumOf(p.byProtocol)).toBe(p.requests);
    totals.push(r.total);
  }
  const [day, week, month] = totals as [number, number, number];
  expect(day).toBeLessThanOrEqual(week);
  expect(week).toBeLessThanOrEqual(month);
}

describe('property: report maths', () => {
  it('buildReport adds up, for every window', () => {
    fc.assert(
      fc.property(scenarioArb, ([now, events]) => {
        checkReport(buildReport(buildState(events), now, STORAGE), events, now);
      }),
      { numRuns: runs(250) },
    );
  });
});

describe('property: stats file round-trip', () => {
  it('fromDocument(JSON(toDocument(state))) gives back the same document, salt and report', () => {
    fc.assert(
      fc.property(
        scenarioArb,
        fc.array(fc.nat({ max: 50 }), { maxLength: 2 }),
        fc.option(fc.integer({ min: 1, max: 45 }), { nil: undefined }),
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        ([now, events], splits, retentionDays, saltBytes) => {
          // Some states are merged from parts (as a cluster primary does), some pruned (as on every flush).
          const cut = splits.length === 0 ? events.length : Math.min(events.length, splits[0] ?? 0);
          const state = buildState(events.slice(0, cut));
          if (cut < events.length) mergeState(state, buildState(events.slice(cut)));
          if (retentionDays !== undefined) prune(state, now, retentionDays);
          const salt = Buffer.from(saltBytes);

          const document = toDocument(state, salt, now);
          const loaded = fromDocument(JSON.parse(JSON.stringify(document)));
          expect(loaded.salt.equals(salt)).toBe(true);
          const again = toDocument(loaded.state, loaded.salt, now + 60_000);
          expect(again.savedAt).toBe(new Date(now + 60_000).toISOString());
          expect({ ...again, savedAt: document.savedAt }).toStrictEqual(document);
          expect(buildReport(loaded.state, now, STORAGE)).toStrictEqual(buildReport(state, now, STORAGE));
        },
      ),
      { numRuns: runs(150) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 5b. Bounded label maps (client and OS labels): exact totals, bounded size, heaviest kept

interface LabelEvent {
  hour: number;
  client: string;
  os: string;
  amount: number;
  visitor: number;
}

const LABEL_HOUR = Date.UTC(2024, 4, 15, 10);
/** Shrinking a 400-event counterexample can take minutes: stop after 20 s (a failure found is still reported). */
const LABEL_RUN_LIMIT = { interruptAfterTimeLimit: 20_000 };

/** A few heavy keys and many light ones, so maps fill up, evict and churn (arrays of them use `size: 'max'`: fast-check's default size stays far below any cap). */
const labelKeyArb = (prefix: string) => fc.oneof(fc.nat({ max: 5 }).map((n) => `${prefix} heavy ${n}`), fc.nat({ max: 150 }).map((n) => `${prefix} ${n}`));

const labelEventArb: fc.Arbitrary<LabelEvent> = fc.record({
  hour: fc.nat({ max: 2 }),
  client: labelKeyArb('client'),
  os: labelKeyArb('os'),
  amount: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 20 })),
  visitor: fc.nat({ max: VISITORS.length - 1 }),
});

function labelSample(client: string, os: string | null): RequestLabels {
  return { protocol: 'TLSv1', kind: 'browser', legacy: true, tlsLegacy: true, uaLegacy: false, action: 'redirected', client, os };
}

function recordLabels(state: StatsState, events: readonly LabelEvent[]): void {
  for (const e of events) recordRequest(state, LABEL_HOUR + e.hour * HOUR_MS, labelSample(e.client, e.os), VISITORS[e.visitor] ?? null, e.amount);
}

/** What each hour was given: key -> total, per hour start. */
function truth(events: readonly LabelEvent[], pick: (e: LabelEvent) => string): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  for (const e of events) {
    const hour = LABEL_HOUR + e.hour * HOUR_MS;
    const map = out.get(hour) ?? new Map<string, number>();
    out.set(hour, map);
    addTo(map, pick(e), e.amount);
  }
  return out;
}

function checkBounded(counts: Map<string, number>, given: Map<string, number>, cap: number): void {
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  expect(total(counts)).toBe(total(given));
  expect([...counts.keys()].filter((key) => key !== OTHER).length).toBeLessThanOrEqual(cap);
  for (const [key, n] of counts) if (key !== OTHER) expect(n).toBeLessThanOrEqual(given.get(key) ?? 0);
}

describe('property: bounded label maps', () => {
  it('add up exactly, stay bounded and keep sketches with their counts, recorded in one go or merged from parts', () => {
    fc.assert(
      fc.property(fc.array(labelEventArb, { maxLength: 400, size: 'max' }), fc.array(fc.nat({ max: 400 }), { maxLength: 3 }), (events, cuts) => {
        const bounds = [...new Set([0, ...cuts.map((c) => Math.min(c, events.length)), events.length])].sort((a, b) => a - b);
        const state = emptyState();
        recordLabels(state, events.slice(0, bounds[1] ?? events.length));
        for (let i = 1; i + 1 < bounds.length; i++) {
          // A cluster delta or a late load: the part is counted elsewhere, then merged in.
          const part = emptyState();
          recordLabels(part, events.slice(bounds[i], bounds[i + 1]));
          mergeState(state, part);
        }
        const clients = truth(events, (e) => e.client);
        const systems = truth(events, (e) => e.os);
        for (const [start, hour] of state.hours) {
          checkBounded(hour.clients, clients.get(start) ?? new Map(), MAX_CLIENTS_PER_BUCKET);
          checkBounded(hour.os, systems.get(start) ?? new Map(), MAX_OS_PER_HOUR);
          for (const key of hour.clientVisitors?.keys() ?? []) expect(hour.clients.has(key)).toBe(true);
        }
        const day = [...state.days.values()][0];
        if (day) {
          const requests = new Map([...day.clients].map(([key, c]) => [key, c.requests]));
          const given = new Map<string, number>();
          for (const e of events) addTo(given, e.client, e.amount);
          checkBounded(requests, given, MAX_CLIENTS_PER_BUCKET);
        }
      }),
      { numRuns: runs(200), ...LABEL_RUN_LIMIT },
    );
  });

  it('evict exactly the lightest entry, the oldest of equals, as a plain scan would (recorded or merged)', () => {
    /** The rule written the slow, obvious way. */
    const reference = (map: Map<string, number>, key: string, amount: number, cap: number) => {
      const count = map.get(key);
      if (count !== undefined) return void map.set(key, count + amount);
      const named = [...map].filter(([k]) => k !== OTHER);
      if (named.length >= cap) {
        const [victim, weight] = named.reduce((a, b) => (b[1] < a[1] ? b : a));
        map.set(OTHER, (map.get(OTHER) ?? 0) + weight);
        map.delete(victim);
      }
      map.set(key, amount);
    };
    const mergeReference = (into: Map<string, number>, from: Map<string, number>, cap: number) => {
      const arriving: [string, number][] = [];
      for (const [key, n] of from) {
        if (key === OTHER || into.has(key)) into.set(key, (into.get(key) ?? 0) + n);
        else arriving.push([key, n]);
      }
      for (const [key, n] of arriving.sort((a, b) => a[1] - b[1])) reference(into, key, n, cap);
    };
    // Mostly heavy arrivals with some light ones: newcomers lighter than every entry have to happen.
    const arrivalArb = fc.record({
      client: fc.nat({ max: 60 }).map((n) => `client ${n}`),
      amount: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 3, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(labelEventArb, arrivalArb), { maxLength: 400, size: 'max' }), fc.nat({ max: 400 }), (events, cut) => {
        const state = emptyState();
        const expected = new Map<string, number>();
        const part = emptyState();
        const partExpected = new Map<string, number>();
        for (const [i, e] of events.entries()) {
          const [into, model] = i < cut ? [state, expected] : [part, partExpected];
          recordRequest(into, LABEL_HOUR, labelSample(e.client, null), null, e.amount);
          reference(model, e.client, e.amount, MAX_CLIENTS_PER_BUCKET);
        }
        mergeState(state, part);
        mergeReference(expected, partExpected, MAX_CLIENTS_PER_BUCKET);
        const clients = state.hours.get(LABEL_HOUR)?.clients ?? new Map<string, number>();
        expect([...clients].sort()).toEqual([...expected].sort());
      }),
      { numRuns: runs(300), ...LABEL_RUN_LIMIT },
    );
  });

  it('never lets one-off keys push out a key heavier than every other', () => {
    fc.assert(
      fc.property(fc.array(labelEventArb, { maxLength: 300, size: 'max' }), fc.nat({ max: 300 }), (events, oneOffs) => {
        const state = emptyState();
        recordLabels(state, events.map((e) => ({ ...e, hour: 0 })));
        const before = state.hours.get(LABEL_HOUR)?.clients ?? new Map<string, number>();
        const heaviest = Math.max(0, ...[...before].filter(([key]) => key !== OTHER).map(([, n]) => n));
        // Heavier than every other key, and than a one-off: with a count of 1 it would be a one-off itself.
        const weight = Math.max(2, heaviest + 1);
        recordRequest(state, LABEL_HOUR, labelSample('the heavy one', null), VISITORS[0] ?? null, weight);
        for (let i = 0; i < oneOffs; i++) recordRequest(state, LABEL_HOUR, labelSample(`one-off ${i}`, null), VISITORS[i % VISITORS.length] ?? null);
        const hour = state.hours.get(LABEL_HOUR);
        expect(hour?.clients.get('the heavy one')).toBe(weight);
        expect([...state.days.values()][0]?.clients.get('the heavy one')?.requests).toBe(weight);
      }),
      { numRuns: runs(200), ...LABEL_RUN_LIMIT },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 6. HyperLogLog

/** Distinct 8-byte hashes: a few chosen by fast-check (edge cases such as all zeros), the rest derived from a seed. */
const hashSetArb: fc.Arbitrary<Buffer[]> = fc
  .tuple(
    fc.uniqueArray(fc.uint8Array({ minLength: 8, maxLength: 8 }), { maxLength: 20, selector: (b) => Buffer.from(b).toString('hex') }),
    fc.oneof(fc.nat({ max: 50 }), fc.nat({ max: 5_000 })),
    fc.nat(),
  )
  .map(([chosen, n, seed]) => {
    const seen = new Set<string>();
    const out: Buffer[] = [];
    const push = (b: Buffer) => {
      const hex = b.toString('hex');
      if (!seen.has(hex)) {
        seen.add(hex);
        out.push(b);
      }
    };
    for (const b of chosen) push(Buffer.from(b));
    for (let i = 0; out.length < Math.min(5_000, n + chosen.length); i++) push(createHash('sha256').update(`${seed}:${i}`).digest().subarray(0, 8));
    return out;
  });

const precisionArb = fc.oneof(fc.constant(11), fc.constant(8), fc.integer({ min: 4, max: 16 }));

function sketchOf(hashes: readonly Buffer[], precision: number): HyperLogLog {
  const sketch = new HyperLogLog(precision);
  for (const h of hashes) sketch.add(h);
  return sketch;
}

describe('property: HyperLogLog', () => {
  it('fromString(toString()) round-trips', () => {
    fc.assert(
      fc.property(hashSetArb, precisionArb, (hashes, precision) => {
        const sketch = sketchOf(hashes, precision);
        const text = sketch.toString();
        const back = HyperLogLog.fromString(text, precision);
        expect(back.count()).toBe(sketch.count());
        expect(back.toString()).toBe(text);
        expect(back.isEmpty()).toBe(hashes.length === 0);
      }),
      { numRuns: runs(60) },
    );
  });

  it('merge is commutative and idempotent, and is the sketch of the union', () => {
    fc.assert(
      fc.property(hashSetArb, hashSetArb, precisionArb, (a, b, precision) => {
        const sa = sketchOf(a, precision);
        const sb = sketchOf(b, precision);
        const ab = sa.clone();
        ab.merge(sb);
        const ba = sb.clone();
        ba.merge(sa);
        expect(ab.count()).toBe(ba.count());
        expect(ab.toString()).toBe(ba.toString());
        expect(ab.toString()).toBe(sketchOf([...a, ...b], precision).toString());
        expect(HyperLogLog.union([sa, sb]).toString()).toBe(ab.toString());

        const aa = sa.clone();
        aa.merge(sa);
        expect(aa.count()).toBe(sa.count());
        expect(aa.toString()).toBe(sa.toString());
        const self = sa.clone();
        self.merge(self);
        expect(self.toString()).toBe(sa.toString());
        // Merging never changed the inputs.
        expect(sa.toString()).toBe(sketchOf(a, precision).toString());
      }),
      { numRuns: runs(40) },
    );
  });
});
