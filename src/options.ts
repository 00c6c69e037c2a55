import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import net from 'node:net';
import type https from 'node:https';
import type { Registry } from 'prom-client';
import { CertificateError, InvalidOptionError } from './errors.js';
import {
  BROWSER_FAMILIES,
  buildPolicy,
  type ClassificationPolicy,
  type UserAgentPolicyOverrides,
} from './classify/policy.js';
import { isWithin, normalisePath, normalisePrefix, type NormalisedPath } from './http/request-path.js';
import { checkPageContent, type FallbackPageContent } from './fallback/page-options.js';
import { resolveConnectionGuardOptions, type ConnectionGuardSettings } from './tls/connection-guard.js';
import { cipherListFor, lowersSecurityLevel, MIN_TLS_VERSIONS, SIGNATURE_ALGORITHMS, type MinTlsVersion } from './tls/profiles.js';
import type { StatsSource, TrafficStats } from './stats/traffic-stats.js';
import { compileTrustedProxies, trustedProxyEntryError, type TrustedProxies } from './tls/trusted-proxies.js';
import { TLS_PROTOCOLS, type FallbackMode, type TlsProtocol, type Verdict } from './types.js';
import {
  assertKnownKeys,
  assertPlainObject,
  hasControlCharacters,
  oneOf,
  optionalFunction,
  optionalString,
  stringArray,
} from './validate.js';

/** What we log through: any pino-compatible logger, or `console`. */
export interface Logger {
  warn(message: string): void;
  info?(message: string): void;
}

// ---------------------------------------------------------------------------------------------------
// createLegacyTlsServer

export type PemInput = string | Buffer;

export interface LegacyTlsServerOptions extends Omit<https.ServerOptions, 'minVersion' | 'cert' | 'key' | 'handshakeTimeout'> {
  /**
   * Lowest TLS version completed.
   * @default 'TLSv1'
   */
  minVersion?: MinTlsVersion;
  /** PEM certificate chain(s). Several, with `key` in the same order, serve RSA and ECDSA side by side. */
  cert?: PemInput | PemInput[];
  /** PEM private key(s), in the order of `cert`. */
  key?: PemInput | PemInput[];
  /**
   * Where the one start-up warning goes (generated certificate).
   * @default console
   */
  logger?: Logger;
  /** Counts every completed and failed handshake (see `TrafficStats`). */
  stats?: TrafficStats;
  /**
   * Milliseconds from accept to a finished handshake; slower connections are closed and reported as
   * `'timeout'` (Node's own option, whose default is 120000).
   * @default 10000
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds from accept to the first byte of the ClientHello; silent connections are closed and
   * reported as `'timeout'`. At most `handshakeTimeout`.
   * @default 5000
   */
  clientHelloTimeout?: number;
  /**
   * Most connections open at once. When full, the oldest connection that has been in its handshake for
   * over a second is closed (`'evicted'`) to let the new one in; when there is none, the new one is
   * refused (`'connection-limit'`).
   * @default no limit
   */
  maxConnections?: number;
  /**
   * Most unfinished handshakes from one address (an IPv6 /64) at once; more are refused
   * (`'connection-limit'`). 0 for no cap, e.g. behind a TCP load balancer that hides client addresses.
   * Applies only with `maxConnections` unless given.
   * @default 32
   */
  maxHandshakesPerAddress?: number;
}

export interface ResolvedServerOptions {
  tls: https.ServerOptions;
  needsGeneratedCertificate: boolean;
  warn: (message: string) => void;
  stats: TrafficStats | undefined;
  connections: ConnectionGuardSettings;
}

export function resolveServerOptions(options: LegacyTlsServerOptions): ResolvedServerOptions {
  assertPlainObject(options as unknown, 'options');
  const { minVersion: rawMin = 'TLSv1', cert, key, logger, ciphers, stats, handshakeTimeout, clientHelloTimeout, maxConnections, maxHandshakesPerAddress, ...rest } = options;
  const minVersion = oneOf(rawMin, MIN_TLS_VERSIONS, 'minVersion');
  if (rest.maxVersion !== undefined && TLS_PROTOCOLS.indexOf(rest.maxVersion as TlsProtocol) < TLS_PROTOCOLS.indexOf(minVersion)) {
    throw new InvalidOptionError('maxVersion', rest.maxVersion, `it must not be below minVersion '${minVersion}'`);
  }
  const pairs = resolveCertificatePairs(cert, key, rest.passphrase);
  const cipherList = ciphers === undefined ? cipherListFor(minVersion) : withSecurityLevel(ciphers, minVersion);
  const connections = resolveConnectionGuardOptions({ handshakeTimeout, clientHelloTimeout, maxConnections, maxHandshakesPerAddress });
  return {
    tls: {
      ...rest,
      minVersion,
      handshakeTimeout: connections.handshakeTimeout,
      ciphers: cipherList,
      // Level 0 is for TLS 1.0/1.1's signatures; without this a TLS 1.2 client could sign with SHA-1.
      ...(rest.sigalgs === undefined && lowersSecurityLevel(cipherList) && { sigalgs: SIGNATURE_ALGORITHMS }),
      ...(pairs && { cert: pairs.map((p) => p.cert), key: pairs.map((p) => p.key) }),
    },
    needsGeneratedCertificate: pairs === undefined && rest.pfx === undefined && rest.SNICallback === undefined,
    warn: resolveWarn(logger),
    stats: resolveStats(stats),
    connections,
  };
}

export function resolveWarn(logger: Logger | undefined): (message: string) => void {
  if (logger === undefined) return (message) => console.warn(message);
  if (typeof logger?.warn !== 'function') throw new InvalidOptionError('logger', logger, 'expected an object with a warn(message) method, such as a pino logger or console');
  return (message) => logger.warn(message);
}

// A custom cipher list without @SECLEVEL=0 silently breaks every TLS 1.0/1.1 handshake on OpenSSL 3.
function withSecurityLevel(ciphers: unknown, minVersion: MinTlsVersion): string {
  if (typeof ciphers !== 'string' || ciphers.trim() === '') throw new InvalidOptionError('ciphers', ciphers, 'expected an OpenSSL cipher string');
  if (minVersion === 'TLSv1.2' || /@SECLEVEL=/i.test(ciphers)) return ciphers;
  return `${ciphers}:@SECLEVEL=0`;
}

function resolveCertificatePairs(cert: unknown, key: unknown, passphrase: string | undefined): { cert: string; key: string }[] | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    const missing = cert === undefined ? 'cert' : 'key';
    throw new InvalidOptionError(missing, undefined, `\`cert\` and \`key\` go together: pass both, or neither for a generated self-signed certificate`);
  }
  const certs = Array.isArray(cert) ? cert : [cert];
  const keys = Array.isArray(key) ? key : [key];
  if (certs.length === 0 || certs.length !== keys.length) {
    throw new InvalidOptionError('key', key, `pass one key per certificate, in the same order (got ${certs.length} cert(s) and ${keys.length} key(s))`);
  }
  return certs.map((c, i) => {
    const pemCert = pemText(c, `cert[${i}]`);
    const pemKey = pemText(keys[i], `key[${i}]`);
    let x509: X509Certificate;
    let privateKey: KeyObject;
    try {
      x509 = new X509Certificate(pemCert);
    } catch (cause) {
      throw new CertificateError(`cert[${i}] is not a PEM certificate (${(cause as Error).message}); pass the contents of the .pem/.crt file, not its path`, { cause });
    }
    try {
      privateKey = createPrivateKey({ key: pemKey, ...(passphrase !== undefined && { passphrase }) });
    } catch (cause) {
      throw new CertificateError(`key[${i}] is not a PEM private key (${(cause as Error).message}); pass the contents of the key file, not its path`, { cause });
    }
    if (!x509.checkPrivateKey(privateKey)) {
      throw new CertificateError(`key[${i}] does not belong to cert[${i}] (subject ${x509.subject.replace(/\n/g, ', ')}); check the order of cert and key`);
    }
    return { cert: pemCert, key: pemKey };
  });
}

function pemText(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new InvalidOptionError(name, value, 'expected PEM text as a string or Buffer');
}

// ---------------------------------------------------------------------------------------------------
// legacyTlsFallback (shared by the Koa and Express adapters)

// The page's options (languages, texts) belong to the fallback feature.
export type { FallbackPageContent } from './fallback/page-options.js';

/** Returns the whole HTML of the fallback page. `verdict` is `null` when the page is previewed directly. */
export type FallbackPageRenderer = (verdict: Verdict | null) => string;

export type ExcludeRule = string | RegExp;

export interface FallbackCoreOptions<Context> {
  /** @default 'redirect' */
  mode?: FallbackMode;
  /**
   * Path of the built-in fallback page, served by the middleware itself.
   * @default '/legacy-browser'
   */
  fallbackPath?: string;
  /** Absolute URL of a fallback page elsewhere; replaces `fallbackPath` as the redirect target. */
  fallbackUrl?: string;
  /**
   * Host names this server answers for. Only used to tell whether `fallbackUrl` is on this site: if its
   * host is listed, its path (never `/`) is not redirected. Never taken from a request header.
   * @default []
   */
  serverNames?: string[];
  /** @default ['TLSv1', 'TLSv1.1'] */
  legacyProtocols?: TlsProtocol[];
  /** Per-browser overrides of the minimum-version table, or `false` to ignore user agents. */
  userAgents?: UserAgentPolicyOverrides | false;
  /** Path prefixes (segment-wise) or RegExps never sent to the fallback page. */
  exclude?: ExcludeRule[];
  /** Return `true` to leave a request alone. */
  skip?: (context: Context) => boolean;
  /** Contact details for the built-in page, or a function returning the whole page. */
  page?: FallbackPageContent | FallbackPageRenderer;
  /** Called for every legacy request before the response is decided (all modes). */
  onLegacy?: (context: Context, verdict: Verdict) => void | Promise<void>;
  /** Header a TLS-terminating proxy sets to the visitor's TLS version (e.g. `x-amzn-tls-version`). */
  trustedHeader?: string;
  /** IPs, CIDRs, `'loopback'` or `'private'`: the peers whose `trustedHeader` is believed. */
  trustedProxies?: string[];
  /** Counts every request and what was done with it (see `TrafficStats`). */
  stats?: TrafficStats;
  /**
   * Where the warnings about configuration met at run time go (an unreadable trusted header, once).
   * @default console
   */
  logger?: Logger;
}

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
  stats: TrafficStats | undefined;
  warn: (message: string) => void;
}

const FALLBACK_OPTION_KEYS = [
  'mode', 'fallbackPath', 'fallbackUrl', 'serverNames', 'legacyProtocols', 'userAgents', 'exclude', 'skip', 'page',
  'onLegacy', 'trustedHeader', 'trustedProxies', 'stats', 'logger',
] as const;

export const DEFAULT_FALLBACK_PATH = '/legacy-browser';

export function resolveFallbackOptions<Context>(options: FallbackCoreOptions<Context>, extraKeys: readonly string[] = []): ResolvedFallbackOptions<Context> {
  assertPlainObject(options as unknown, 'options');
  assertKnownKeys(options as Record<string, unknown>, [...FALLBACK_OPTION_KEYS, ...extraKeys], '');
  const mode = oneOf(options.mode ?? 'redirect', ['redirect', 'render', 'observe'] as const, 'mode');
  const fallbackPath = resolveFallbackPath(options.fallbackPath);
  const fallbackUrl = resolveFallbackUrl(options.fallbackUrl);
  const trustedProxyEntries = options.trustedProxies === undefined ? [] : stringArray(options.trustedProxies, 'trustedProxies');
  trustedProxyEntries.forEach((entry, i) => {
    const problem = trustedProxyEntryError(entry);
    if (problem) throw new InvalidOptionError(`trustedProxies[${i}]`, entry, `it ${problem}; use an IP ('10.0.0.5'), a CIDR ('10.0.0.0/8'), 'loopback' or 'private'`);
  });
  const trustedHeader = resolveTrustedHeader(options.trustedHeader);
  if (trustedHeader && trustedProxyEntries.length === 0) {
    throw new InvalidOptionError('trustedProxies', options.trustedProxies, 'set it to the addresses of the proxy that sets `trustedHeader`; a header believed from anyone can be forged by anyone');
  }
  return {
    mode,
    fallbackPath,
    redirectTarget: fallbackUrl?.href ?? fallbackPath,
    localFallbackPath: resolveLocalFallbackPath(fallbackUrl, options.serverNames),
    policy: resolvePolicy(options.legacyProtocols, options.userAgents),
    exclude: resolveExclude(options.exclude),
    skip: optionalFunction(options.skip, 'skip'),
    page: resolvePage(options.page),
    onLegacy: optionalFunction(options.onLegacy, 'onLegacy'),
    trustedHeader,
    trustedProxies: compileTrustedProxies(trustedProxyEntries),
    stats: resolveStats(options.stats),
    warn: resolveWarn(options.logger),
  };
}

/**
 * Whether the fallback URL is served by this very site is configuration (`serverNames`), never a request
 * header: a legacy client sending `Host: help.example.com` must not make itself exempt.
 */
function resolveLocalFallbackPath(fallbackUrl: URL | undefined, value: unknown): NormalisedPath | undefined {
  const serverNames = value === undefined ? [] : stringArray(value, 'serverNames');
  serverNames.forEach((name, i) => {
    if (!/^(?=.{1,253}$)[A-Za-z0-9*](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(name) && !net.isIP(name)) {
      throw new InvalidOptionError(`serverNames[${i}]`, name, "expected a host name such as 'www.example.com' (no scheme, port or path)");
    }
  });
  if (!fallbackUrl || !serverNames.some((name) => hostMatches(name, fallbackUrl.hostname))) return undefined;
  // Compared with normalised request paths, so normalised the same way (a URL's pathname always is one).
  const path = normalisePrefix(fallbackUrl.pathname);
  if (path === null || path.path === '/') {
    throw new InvalidOptionError('fallbackUrl', fallbackUrl.href, `it is the root of ${fallbackUrl.hostname}, which this server answers for (serverNames), so no legacy request would ever be redirected; point it at a path such as '${fallbackUrl.origin}/old-browser', or serve the built-in page with fallbackPath`);
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

function resolveFallbackPath(value: unknown): string {
  if (value === undefined) return DEFAULT_FALLBACK_PATH;
  // A path starting with "//" or containing "\" is read by browsers as another host: an open redirect.
  if (typeof value !== 'string' || !/^\/(?![/\\])[^?#\\\s]+$/.test(value) || hasControlCharacters(value)) {
    throw new InvalidOptionError('fallbackPath', value, "expected a path on this site such as '/legacy-browser' (starting with one '/', not '/' itself, no query, fragment, backslash or space)");
  }
  // Browsers request the percent-encoded, dot-segment-free spelling ('/ä' arrives as '/%C3%A4'); any
  // other spelling never matches the request path, so the page itself would be redirected: a loop.
  // Request paths are decided on in their normalised form (see http/request-path.ts): that must agree too.
  const canonical = new URL(value, 'http://localhost').pathname;
  if (canonical !== value || normalisePath(value)?.path !== value) {
    throw new InvalidOptionError('fallbackPath', value, `browsers request it as '${canonical}', which would be redirected again in a loop; write it that way`);
  }
  return value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;
}

function resolveFallbackUrl(value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  if (typeof value === 'string' && !hasControlCharacters(value)) {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    // Never echo credentials into an error message that ends up in logs.
    throw new InvalidOptionError('fallbackUrl', url && (url.username || url.password) ? '<URL with credentials>' : value, "expected an absolute http(s) URL without credentials, such as 'https://help.example.com/old-browser'; for a page on this site use fallbackPath");
  }
  return url;
}

function resolveTrustedHeader(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(value)) {
    throw new InvalidOptionError('trustedHeader', value, "expected an HTTP header name such as 'x-amzn-tls-version' or 'cloudfront-viewer-tls'");
  }
  return value.toLowerCase();
}

function resolvePolicy(legacyProtocols: unknown, userAgents: unknown): ClassificationPolicy {
  let protocols: TlsProtocol[] | undefined;
  if (legacyProtocols !== undefined) {
    protocols = stringArray(legacyProtocols, 'legacyProtocols').map((p, i) => oneOf(p, TLS_PROTOCOLS, `legacyProtocols[${i}]`));
  }
  if (userAgents !== undefined && userAgents !== false) {
    assertPlainObject(userAgents, 'userAgents');
    assertKnownKeys(userAgents, BROWSER_FAMILIES, 'userAgents.');
    for (const [family, version] of Object.entries(userAgents)) {
      const ok = version === false || (typeof version === 'number' && version > 0) || (typeof version === 'string' && /^\d+(\.\d+)*$/.test(version));
      if (!ok) throw new InvalidOptionError(`userAgents.${family}`, version, "expected the first version with TLS 1.2 on (a number or a string like '4.4'), or false to never treat this browser as legacy");
    }
  }
  return buildPolicy({
    ...(protocols && { legacyProtocols: protocols }),
    ...(userAgents !== undefined && { userAgents: userAgents as UserAgentPolicyOverrides | false }),
  });
}

function resolveExclude(value: unknown): ((path: NormalisedPath) => boolean)[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError('exclude', value, "expected an array of path prefixes and RegExps, such as ['/api', /^\\/static\\//]");
  return value.map((rule: unknown, i) => {
    if (rule instanceof RegExp) {
      // A /g or /y RegExp keeps lastIndex between calls and would match every other request. Both
      // readings must match, as for prefixes: a path some server reads otherwise is not excluded.
      const stateless = new RegExp(rule.source, rule.flags.replace(/[gy]/g, ''));
      return (path: NormalisedPath) => stateless.test(path.path) && stateless.test(path.lenient);
    }
    const prefix = typeof rule === 'string' && !hasControlCharacters(rule) ? normalisePrefix(rule) : null;
    if (prefix) return prefix.path === '/' ? () => true : (path: NormalisedPath) => isWithin(path, prefix);
    throw new InvalidOptionError(`exclude[${i}]`, rule, "expected a path prefix starting with '/' or a RegExp");
  });
}

function resolvePage(value: unknown): FallbackPageContent | FallbackPageRenderer {
  if (value === undefined) return {};
  if (typeof value === 'function') return value as FallbackPageRenderer;
  return checkPageContent(value);
}

// ---------------------------------------------------------------------------------------------------
// TrafficStats

export interface TrafficStatsOptions {
  /** JSON file the counts are kept in across restarts. Without it, counts live in memory only. */
  statsFile?: string;
  /**
   * Milliseconds between two writes of `statsFile`: the most a crash can lose.
   * @default 10000
   */
  flushInterval?: number;
  /**
   * Days of hourly counts (and daily visitor sketches) kept.
   * @default 90
   */
  retentionDays?: number;
  /** pino-compatible logger for the periodic summary and storage problems. Default: warnings to `console`, no summary. */
  logger?: Logger;
  /**
   * Milliseconds between two summary log lines (only with a `logger`); `0` turns them off.
   * @default 300000
   */
  summaryInterval?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

export function resolveTrafficStatsOptions(options: TrafficStatsOptions) {
  assertPlainObject(options as unknown, 'options');
  assertKnownKeys(options as Record<string, unknown>, ['statsFile', 'flushInterval', 'retentionDays', 'logger', 'summaryInterval', 'now'], '');
  const statsFile = optionalString(options.statsFile, 'statsFile', 4096);
  if (statsFile !== undefined && (statsFile.trim() === '' || statsFile.endsWith('/'))) {
    throw new InvalidOptionError('statsFile', statsFile, "expected a file path such as './legacy-tls-stats.json'");
  }
  if (options.logger !== undefined) resolveWarn(options.logger);
  return {
    statsFile,
    flushInterval: integerInRange(options.flushInterval ?? 10_000, 'flushInterval', 100, 3_600_000, 'milliseconds'),
    retentionDays: integerInRange(options.retentionDays ?? 90, 'retentionDays', 1, 3660, 'days'),
    summaryInterval: options.summaryInterval === 0 ? 0 : integerInRange(options.summaryInterval ?? 300_000, 'summaryInterval', 1000, 86_400_000, 'milliseconds, or 0 to turn summaries off'),
    logger: options.logger,
    now: optionalFunction<() => number>(options.now, 'now') ?? Date.now,
  };
}

function integerInRange(value: unknown, name: string, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, value, `expected a whole number of ${unit} from ${min} to ${max}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// legacyTlsReport

export interface LegacyTlsReportOptions {
  /** The numbers to show: the `TrafficStats` shared with the server and the middleware. */
  stats: StatsSource;
  /** Secret for the report (Bearer token, or Basic password). Without it only loopback clients are served. */
  token?: string;
  /**
   * Path prefix of the report endpoints.
   * @default '/_legacy-tls'
   */
  prefix?: string;
  /** prom-client registry to register the metrics in (e.g. your application's); a private one otherwise. */
  registry?: Registry;
  /** Where the start-up warning goes. @default console */
  logger?: Logger;
}

export const MIN_REPORT_TOKEN_LENGTH = 16;

export function resolveReportOptions(options: LegacyTlsReportOptions) {
  assertPlainObject(options as unknown, 'options');
  assertKnownKeys(options as unknown as Record<string, unknown>, ['stats', 'token', 'prefix', 'registry', 'logger'], '');
  const stats = options.stats as Partial<StatsSource> | undefined;
  if (typeof stats?.snapshot !== 'function' || typeof stats.storageStatus !== 'function' || typeof stats.now !== 'function') {
    throw new InvalidOptionError('stats', options.stats, 'expected the TrafficStats instance shared by the server and the middleware, `new TrafficStats({ statsFile })`');
  }
  // The token is a secret: no error about it may show its value.
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || token.length < MIN_REPORT_TOKEN_LENGTH || token.length > 1024 || /\s/.test(token))) {
    throw new InvalidOptionError('token', '<hidden>', `expected a string of ${MIN_REPORT_TOKEN_LENGTH} to 1024 characters without spaces, e.g. from \`openssl rand -hex 24\``);
  }
  const prefix = options.prefix ?? '/_legacy-tls';
  if (typeof prefix !== 'string' || !/^\/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/-]*[^/]$/.test(prefix)) {
    throw new InvalidOptionError('prefix', prefix, "expected a path such as '/_legacy-tls' (starting with '/', not ending with '/')");
  }
  if (options.registry !== undefined && typeof (options.registry as { metrics?: unknown }).metrics !== 'function') {
    throw new InvalidOptionError('registry', options.registry, 'expected a prom-client Registry');
  }
  return { stats: stats as StatsSource, token, prefix, registry: options.registry, warn: resolveWarn(options.logger) };
}

function resolveStats(value: unknown): TrafficStats | undefined {
  if (value === undefined) return undefined;
  // Duck-typed: a second copy of this package (or a test double) must work as well as an instanceof.
  const stats = value as Partial<TrafficStats> | undefined;
  if (typeof stats?.snapshot !== 'function' || typeof stats.recordRequest !== 'function') {
    throw new InvalidOptionError('stats', value, 'expected a TrafficStats instance, `new TrafficStats({ statsFile })`, shared by the server, the middleware and the report');
  }
  return value as TrafficStats;
}
