import net from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { BROWSER_FAMILIES, buildPolicy, type ClassificationPolicy, type UserAgentPolicyOverrides } from '../classify/policy.js';
import { isWithin, normalisePath, normalisePrefix, type NormalisedPath } from '../http/request-path.js';
import { hasControlCharacters, loggerOption, warnerOf } from '../schema/common.js';
import { defineOptions } from '../schema/define.js';
import { custom, fn, list, oneOf, string } from '../schema/option.js';
import { closest } from '../schema/typo.js';
import { statsRecorderOption } from '../stats/options.js';
import type { StatsRecorder } from '../stats/types.js';
import { compileTrustedProxies, trustedProxyEntryError, type TrustedProxies } from '../tls/trusted-proxies.js';
import { TLS_PROTOCOLS, type FallbackMode, type Logger, type TlsProtocol, type Verdict } from '../types.js';
import { checkPageContent, resolveSwitchOffDate, type FallbackPageContent } from './page-options.js';
import type { FallbackPageRenderer } from './page-set.js';
import { checkGroups, checkHosts, compileSites, NOTICE_KINDS, parseGroupsText, parseJsonOption, type GroupsOption, type HostsOption, type NoticeKind, type SiteResolver } from './sites.js';

export type { FallbackPageContent } from './page-options.js';
export type { FallbackPageRenderer } from './page-set.js';
export type { GroupOptions, GroupsOption, HostsOption, NoticeKind, SiteOptions } from './sites.js';

export type ExcludeRule = string | RegExp;

/** `legacyTlsFallback`'s options; `Context` is what `skip` and `onLegacy` get (Koa's `ctx`, Express's `req`). */
export interface FallbackOptions<Context> {
  /** What legacy requests get: a redirect to the page, the page in place, or nothing (count only). */
  mode?: FallbackMode;
  /** Path of the built-in fallback page, served by the middleware itself. */
  fallbackPath?: string;
  /** Absolute URL of a fallback page elsewhere; replaces `fallbackPath` as the redirect target. */
  fallbackUrl?: string;
  /** Host names this server answers for: only decides whether `fallbackUrl` is on this site. */
  serverNames?: string[];
  /** Negotiated protocols that make a request legacy. */
  legacyProtocols?: TlsProtocol[];
  /** Per-browser overrides of the minimum-version table, or `false` to ignore user agents. */
  userAgents?: UserAgentPolicyOverrides | false;
  /** Path prefixes (segment-wise) or RegExps never sent to the fallback page. */
  exclude?: ExcludeRule[];
  /** Return `true` to leave a request alone. */
  skip?: (context: Context) => boolean;
  /** Contents of the built-in page, or a function returning the whole page. */
  page?: FallbackPageContent | FallbackPageRenderer;
  /** Called for every legacy request before the response is decided (all modes). */
  onLegacy?: (context: Context, verdict: Verdict) => void | Promise<void>;
  /** Header a TLS-terminating proxy sets to the visitor's TLS version (e.g. `x-amzn-tls-version`). */
  trustedHeader?: string;
  /** IPs, CIDRs, `'loopback'` or `'private'`: the peers whose `trustedHeader` (and `X-Forwarded-For`, for the visitor estimate) is believed. */
  trustedProxies?: string[];
  /** Counts every request and what was done with it (see `TrafficStats`). */
  stats?: StatsRecorder;
  /** Where warnings met at run time go (an unreadable trusted header, once). */
  logger?: Logger;
  /** The day legacy clients are switched off (`'2027-03-01'`): until then they are served, and warned. */
  switchOff?: string;
  /** How legacy clients are warned before `switchOff`: a one-time page, or response headers only. */
  notice?: NoticeKind;
  /** Options per host (`mode`, `switchOff`, `notice`), by the name the Host header gives. */
  hosts?: HostsOption;
  /** Path groups (`{ '/api': 'API' }`), counted apart in the report, each with options of its own if given. */
  groups?: GroupsOption;
  /** Clock, in milliseconds since the epoch: decides which side of `switchOff` a request is on. */
  now?: () => number;
}

const HOST_NAME = /^(?=.{1,253}$)(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

const pageField = (help: string, flag: string, arg = 'TEXT') => string({ help, cli: { group: 'Fallback page', flag, arg } });

export const FALLBACK_OPTIONS = defineOptions({
  mode: oneOf<FallbackMode>(['redirect', 'render', 'observe'], {
    default: 'redirect',
    help: '`redirect`: legacy `GET`/`HEAD` get a `302` to the fallback page; `render`: the page in place (`200`); `observe`: count only, the response is never changed. Other methods get `426` in the first two.',
    cli: { group: 'Fallback page', arg: 'MODE' },
  }),
  fallbackPath: string({
    default: '/legacy-browser',
    help: 'Path where the middleware serves the built-in page (to anyone, so you can preview it). A legacy client may GET it and what is below it (its assets), nothing else.',
    check: checkFallbackPath,
  }),
  fallbackUrl: custom<string | undefined>({
    type: 'string',
    help: 'Absolute http(s) URL of a fallback page elsewhere; becomes the redirect target.',
    validate: (value, name) => {
      if (typeof value === 'string' && value.length <= 2000 && fallbackUrlOf(value)) return value;
      // Never echo credentials into an error message that ends up in logs.
      const shown = typeof value === 'string' ? value.replace(/\/\/[^/?#]*@/, '//***@') : value;
      throw new InvalidOptionError(name, shown, "expected an absolute http(s) URL without credentials, such as 'https://help.example.com/old-browser'; for a page on this site use {{fallbackPath}}");
    },
    arg: 'URL',
    cli: { group: 'Fallback page' },
  }),
  serverNames: list<string>({
    type: 'string[]',
    default: [],
    help: 'Host names this server answers for (`*.example.com` covers one label). Only decides whether `fallbackUrl` is on this site, whose path is then never redirected; never taken from a request header.',
    item: (value, name) => {
      if (typeof value === 'string' && (HOST_NAME.test(value) || net.isIP(value) !== 0)) return value;
      throw new InvalidOptionError(name, value, "expected a host name such as 'www.example.com' (no scheme, port or path)");
    },
    cli: { group: 'Fallback page', flag: 'server-name', arg: 'HOST' },
  }),
  legacyProtocols: list<TlsProtocol>({
    type: "('TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3')[]",
    default: ['TLSv1', 'TLSv1.1'],
    help: 'Negotiated protocols that make a request legacy.',
    item: (value, name) => {
      if (typeof value === 'string' && (TLS_PROTOCOLS as readonly string[]).includes(value)) return value as TlsProtocol;
      throw new InvalidOptionError(name, value, `expected one of ${TLS_PROTOCOLS.map((p) => `'${p}'`).join(', ')}`);
    },
  }),
  userAgents: custom<UserAgentPolicyOverrides | false | undefined>({
    type: '{ [family]: version | false } | false',
    defaultText: 'the table in docs/library.md',
    help: `Per-browser overrides of the first version that is *not* legacy (\`{ Chrome: 40, IE: false }\`), or \`false\` to ignore user agents. Families: ${BROWSER_FAMILIES.join(', ')}.`,
    validate: checkUserAgents,
  }),
  exclude: list<ExcludeRule>({
    type: '(string | RegExp)[]',
    default: [],
    help: "Path prefixes (by segment: `'/api'` covers `/api` and `/api/x`, not `/apix`) or RegExps never sent to the fallback page, any method. Matched on the normalised path, in every reading.",
    item: (value, name) => {
      if (value instanceof RegExp || (typeof value === 'string' && !hasControlCharacters(value) && normalisePrefix(value) !== null)) return value as ExcludeRule;
      throw new InvalidOptionError(name, value, "expected a path prefix starting with '/' or a RegExp");
    },
    cli: { group: 'Fallback page', arg: 'PREFIX' },
  }),
  skip: fn<(context: never) => boolean>({ type: '(ctx) => boolean', help: 'Return `true` to leave a request alone (Koa: `ctx`; Express: `req`).' }),
  page: custom<FallbackPageContent | FallbackPageRenderer>({
    type: 'object | (verdict) => string',
    default: {},
    help: 'Contents of the built-in page (below), or a function returning the whole HTML (`verdict` is `null` when the page is previewed). Every text is HTML-escaped.',
    validate: (value, name) => (typeof value === 'function' ? (value as FallbackPageRenderer) : checkPageContent(value, name)),
    fields: {
      organisation: pageField('Organisation name, shown above the heading and in the title; a string, or one per language (`{ en: …, de: … }`).', 'organisation'),
      email: pageField('Contact e-mail, a `mailto:` link.', 'email', 'ADDRESS'),
      phone: pageField('Contact phone number, a `tel:` link.', 'phone', 'NUMBER'),
      address: pageField('Postal address; line breaks are kept. A string, or one per language.', 'address'),
      hours: pageField('Opening hours, free text. A string, or one per language.', 'hours'),
      message: pageField('A message of your own under the explanation. A string, or one per language.', 'message'),
      lang: pageField('The default language (BCP 47): the page for visitors whose `Accept-Language` matches no offered language.', 'lang', 'TAG'),
      languages: custom({ type: 'string[]', defaultText: 'your languages, then the 12 built-in ones', help: 'The languages offered; the order breaks ties.', validate: (v) => v }),
      texts: custom({ type: '{ [lang]: Partial<PageTexts> }', defaultText: 'none', help: 'Your own wording: some keys of a built-in language, or every key of a new one (docs/library.md lists the keys).', validate: (v) => v }),
    },
  }),
  onLegacy: fn<(context: never, verdict: Verdict) => void | Promise<void>>({
    type: '(ctx, verdict) => void | Promise<void>',
    help: 'Called for every legacy request that would be acted on (all modes), before the response is decided; not for the page itself nor excluded or skipped paths.',
  }),
  trustedHeader: string({
    help: "Header a TLS-terminating proxy sets to the visitor's TLS version (`x-amzn-tls-version`, `cloudfront-viewer-tls`). Believed only from `trustedProxies`; a value naming no known version makes the request legacy.",
    check: (value) => (/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(value) ? undefined : "expected an HTTP header name such as 'x-amzn-tls-version' or 'cloudfront-viewer-tls'"),
    cli: { group: 'Proxy trust', arg: 'NAME' },
  }),
  trustedProxies: list<string>({
    type: 'string[]',
    default: [],
    help: "IPs, CIDRs, `'loopback'` or `'private'`: the proxies whose `trustedHeader` is believed, and whose `X-Forwarded-For` (or `Forwarded`) names the visitor counted in the visitor estimate. Required with `trustedHeader`; useful without it.",
    item: (value, name) => {
      const problem = trustedProxyEntryError(value);
      if (problem === null) return (value as string).trim();
      throw new InvalidOptionError(name, value, `it ${problem}; use an IP ('10.0.0.5'), a CIDR ('10.0.0.0/8'), 'loopback' or 'private'`);
    },
    commaSeparated: true,
    cli: { group: 'Proxy trust', arg: 'LIST' },
  }),
  stats: statsRecorderOption('Counts every request and the action taken.'),
  logger: loggerOption('Where warnings met at run time go (an unreadable trusted header, once).'),
  switchOff: string({
    type: "'YYYY-MM-DD'",
    help: 'The day legacy clients are switched off, from midnight UTC. Before it they are served as with `observe`, every response to them carries `Deprecation` and `Sunset` headers, and HTML pages get a one-time notice (`notice`); the fallback page shows the date. From that day on, `mode` applies.',
    check: (value) => {
      try {
        resolveSwitchOffDate(value);
        return undefined;
      } catch (error) {
        return (error as InvalidOptionError).expected;
      }
    },
    cli: { group: 'Fallback page', arg: 'DATE' },
  }),
  notice: oneOf<NoticeKind>(NOTICE_KINDS, {
    default: 'interstitial',
    help: "Before `switchOff`: `interstitial`: a browser's first page of the day is a notice with the date and a link on (which sets a cookie for the day); `headers`: the headers only. Bots, libraries and requests for parts of a page (images, scripts, XHRs) only ever get the headers.",
    cli: { group: 'Fallback page', arg: 'interstitial|headers' },
  }),
  hosts: custom<HostsOption | undefined>({
    type: "{ [host]: { mode?, switchOff?: 'YYYY-MM-DD' | false, notice? } }",
    defaultText: 'none',
    help: "Options per host (`'*.example.com'` covers one label), matched on the Host header (and SNI): `{ 'api.example.com': { switchOff: '2026-12-01' } }` switches the API off first. A Host that disagrees with the SNI, or is spelt oddly, gets the stricter options; one that names no configured host gets the global ones.",
    validate: (value, name) => checkHosts(value, name),
    arg: 'JSON',
    parse: (text, name) => parseJsonOption(text, name, '{"api.example.com": {"switchOff": "2026-12-01"}}'),
    cli: { group: 'Fallback page' },
  }),
  groups: custom<GroupsOption | undefined>({
    type: '{ [prefix]: name | { name, mode?, switchOff?, notice? } }',
    defaultText: 'none',
    help: "Sections of the site by path prefix (segment-wise, on the normalised path, as `exclude`): `{ '/api': 'API', '/shop': { name: 'Shop', switchOff: '2027-06-01' } }`. Counted apart in the report and the metrics; options given here win over the host's and the global ones.",
    validate: (value, name) => checkGroups(value, name),
    arg: 'PREFIX=NAME,…|JSON',
    parse: parseGroupsText,
    cli: { group: 'Fallback page' },
  }),
  now: fn<() => number>({ type: '() => number', help: 'Clock, in milliseconds since the epoch; for tests.', default: Date.now, defaultText: '`Date.now`' }),
});

/** The options, checked once and made ready for the engine: nothing here is computed per request. */
export interface ResolvedFallbackOptions<Context> {
  mode: FallbackMode;
  fallbackPath: string;
  /** Redirect target: `fallbackPath`, or `fallbackUrl` when given. */
  redirectTarget: string;
  /** Path of `fallbackUrl` when its host is one of `serverNames`: never redirected. */
  localFallbackPath: NormalisedPath | undefined;
  policy: ClassificationPolicy;
  exclude: ((path: NormalisedPath) => boolean)[];
  skip: ((context: Context) => boolean) | undefined;
  page: FallbackPageContent | FallbackPageRenderer;
  onLegacy: ((context: Context, verdict: Verdict) => void | Promise<void>) | undefined;
  trustedHeader: string | undefined;
  trustedProxies: TrustedProxies;
  stats: StatsRecorder | undefined;
  warn: (message: string) => void;
  /** Hosts, groups and their options (the global ones included), compiled. */
  sites: SiteResolver;
  now: () => number;
}

export function resolveFallbackOptions<Context>(options: FallbackOptions<Context>): ResolvedFallbackOptions<Context> {
  const o = FALLBACK_OPTIONS.resolve(options);
  if (o.trustedHeader !== undefined && o.trustedProxies.length === 0) {
    throw new InvalidOptionError('trustedProxies', options.trustedProxies, 'set it to the addresses of the proxy that sets {{trustedHeader}}; a header believed from anyone can be forged by anyone');
  }
  const fallbackUrl = o.fallbackUrl === undefined ? undefined : fallbackUrlOf(o.fallbackUrl);
  const fallbackPath = o.fallbackPath.length > 1 && o.fallbackPath.endsWith('/') ? o.fallbackPath.slice(0, -1) : o.fallbackPath;
  return {
    mode: o.mode,
    fallbackPath,
    redirectTarget: fallbackUrl?.href ?? fallbackPath,
    localFallbackPath: localFallbackPath(fallbackUrl, o.serverNames),
    policy: buildPolicy({ legacyProtocols: o.legacyProtocols, userAgents: o.userAgents }),
    exclude: o.exclude.map(excludeRule),
    skip: o.skip as ((context: Context) => boolean) | undefined,
    page: o.page,
    onLegacy: o.onLegacy as ((context: Context, verdict: Verdict) => void | Promise<void>) | undefined,
    trustedHeader: o.trustedHeader?.toLowerCase(),
    trustedProxies: compileTrustedProxies(o.trustedProxies),
    stats: o.stats,
    warn: warnerOf(o.logger),
    sites: compileSites({ mode: o.mode, switchOff: o.switchOff, notice: o.notice }, o.hosts, o.groups),
    now: o.now,
  };
}

function checkFallbackPath(value: string): string | undefined {
  // A path starting with "//" or containing "\" is read by browsers as another host: an open redirect.
  if (!/^\/(?![/\\])[^?#\\\s]+$/.test(value) || hasControlCharacters(value)) {
    return "expected a path on this site such as '/legacy-browser' (starting with one '/', not '/' itself, no query, fragment, backslash or space)";
  }
  // Browsers request the percent-encoded, dot-segment-free spelling ('/ä' arrives as '/%C3%A4'), and
  // decisions are made on the normalised path: any other spelling never matches the request path, so
  // the page itself would be redirected, in a loop.
  const canonical = new URL(value, 'http://localhost').pathname;
  if (canonical !== value || normalisePath(value)?.path !== value) {
    return `browsers request it as '${canonical}', which would be redirected again in a loop; write it that way`;
  }
  return undefined;
}

function fallbackUrlOf(value: string): URL | undefined {
  if (hasControlCharacters(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  // Credentials would end up in a Location header and in logs.
  return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password ? url : undefined;
}

function checkUserAgents(value: unknown, name: string): UserAgentPolicyOverrides | false {
  if (value === false) return false;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(name, value, "expected an object such as { Chrome: 40, IE: false }, or false to ignore user agents");
  }
  for (const [family, version] of Object.entries(value)) {
    if (!(BROWSER_FAMILIES as readonly string[]).includes(family)) {
      const suggestion = closest(family, BROWSER_FAMILIES);
      throw InvalidOptionError.unknown(`${name}.${family}`, suggestion ? `did you mean \`${suggestion}\`?` : `the families are ${BROWSER_FAMILIES.join(', ')}.`);
    }
    const ok = version === false || (typeof version === 'number' && version > 0) || (typeof version === 'string' && /^\d+(\.\d+)*$/.test(version));
    if (!ok) throw new InvalidOptionError(`${name}.${family}`, version, "expected the first version with TLS 1.2 on (a number or a string like '4.4'), or false to never treat this browser as legacy");
  }
  return value as UserAgentPolicyOverrides;
}

function excludeRule(rule: ExcludeRule): (path: NormalisedPath) => boolean {
  if (rule instanceof RegExp) {
    // A /g or /y RegExp keeps lastIndex between calls and would match every other request. Both
    // readings must match, as for prefixes: a path some server reads otherwise is not excluded.
    const stateless = new RegExp(rule.source, rule.flags.replace(/[gy]/g, ''));
    return (path) => stateless.test(path.path) && stateless.test(path.lenient);
  }
  const prefix = normalisePrefix(rule) as NormalisedPath;
  return prefix.path === '/' ? () => true : (path) => isWithin(path, prefix);
}

/**
 * Whether the fallback URL is served by this very site is configuration (`serverNames`), never a request
 * header: a legacy client sending `Host: help.example.com` must not make itself exempt.
 */
function localFallbackPath(fallbackUrl: URL | undefined, serverNames: readonly string[]): NormalisedPath | undefined {
  if (!fallbackUrl || !serverNames.some((name) => hostMatches(name, fallbackUrl.hostname))) return undefined;
  // Compared with normalised request paths, so normalised the same way (a URL's pathname always is one).
  const path = normalisePrefix(fallbackUrl.pathname);
  if (path === null || path.path === '/') {
    throw new InvalidOptionError(
      'fallbackUrl',
      fallbackUrl.href,
      `it is the root of ${fallbackUrl.hostname}, which this server answers for ({{serverNames}}), so no legacy request would ever be redirected; point it at a path such as '${fallbackUrl.origin}/old-browser', or serve the built-in page with {{fallbackPath}}`,
    );
  }
  return path;
}

/** `*.example.com` covers one label, as in a certificate; names compare case-insensitively. */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (!p.startsWith('*.')) return p === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot) === p.slice(1);
}
