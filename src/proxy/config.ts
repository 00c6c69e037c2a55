import net from 'node:net';
import os from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { FALLBACK_OPTIONS, type ExcludeRule, type FallbackPageContent, type FallbackPageRenderer, type GroupsOption, type HostsOption, type NoticeKind } from '../fallback/options.js';
import { hasControlCharacters } from '../schema/common.js';
import { defineOptions, type Resolved } from '../schema/define.js';
import { boolean, custom, integer, list, string, withDefault } from '../schema/option.js';
import { REPORT_OPTIONS, type ReadinessOptions } from '../report/options.js';
import { STATS_OPTIONS } from '../stats/options.js';
import { REDIS_STORE_OPTIONS, type RedisEndpoint } from '../stats/stores/redis-options.js';
import { TLS_OPTIONS } from '../tls/options.js';
import { trustedProxyEntryError } from '../tls/trusted-proxies.js';
import { parseHostPort, type HostPort } from '../relay/address.js';
import type { MinTlsVersion } from '../tls/profiles.js';
import type { FallbackMode } from '../types.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const LISTEN_EXAMPLE = 'such as 8443, 127.0.0.1:8443, localhost:8443 or [::1]:8443';
const UPSTREAM_EXAMPLE = 'such as http://127.0.0.1:3000 or https://app.internal/base';
const DEFAULT_LISTEN: ListenAddress = Object.freeze({ host: '0.0.0.0', port: 8443 });

/**
 * The standalone proxy's options: its own, and those of the features it is made of (their descriptions,
 * defaults and validation are the features' own). Keys are the library names; each flag and config-file
 * key is derived from them (`upstreamInsecure` is `--upstream-insecure`).
 */
export const PROXY_OPTIONS = defineOptions({
  upstream: custom<URL>({
    type: 'string | URL',
    defaultText: 'required',
    required: true,
    help: 'The site behind the proxy: an http:// or https:// origin, optionally with a base path (http://127.0.0.1:3000/app).',
    validate: upstreamUrl,
    cli: { group: 'Upstream', arg: 'URL' },
  }),
  upstreamInsecure: boolean({ default: false, help: "Do not verify an https upstream's certificate (a self-signed upstream on the same host).", cli: { group: 'Upstream' } }),
  changeOrigin: boolean({ default: false, help: "Send the upstream's host name as Host instead of the client's.", cli: { group: 'Upstream' } }),
  listen: custom<ListenAddress>({
    type: 'string | { host, port }',
    default: DEFAULT_LISTEN,
    defaultText: `${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port}`,
    help: 'HTTPS listener. IPv6 goes in brackets: [::]:8443, [::1]:8443.',
    validate: (value, name) => listenAddress(value, name, DEFAULT_LISTEN.host),
    cli: { group: 'Listening', arg: '[HOST:]PORT' },
  }),
  httpListen: custom<ListenAddress | null | string>({
    type: "string | { host, port } | 'off'",
    defaultText: 'the `listen` host; port 80 for `listen` 443, N080 for N443 (8443 gives 8080), any free port for 0, else 8080',
    help: 'Plain-HTTP listener: redirects to HTTPS, serves ACME challenges and the fallback page to clients that cannot do TLS at all. `off` (or `false`) for none.',
    // Resolved against `listen` below: its host is the default host.
    validate: (value, name) => (value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'off') ? null : typeof value === 'string' ? value : listenAddress(value, name, '')),
    cli: { group: 'Listening', arg: '[HOST:]PORT|off' },
  }),
  cert: list<string>({
    type: 'string[]',
    default: [],
    defaultText: 'a self-signed certificate for localhost (the command keeps it in its state dir)',
    help: 'PEM certificate chain file. Repeat with `key` to serve RSA and ECDSA side by side (pairs in order); keep an RSA one for old clients.',
    item: filePath,
    cli: { group: 'TLS', arg: 'FILE', path: true },
  }),
  key: list<string>({
    type: 'string[]',
    default: [],
    help: 'PEM private key file of the `cert` at the same position. SIGHUP (or a change of the files) reads both again.',
    item: filePath,
    cli: { group: 'TLS', arg: 'FILE', path: true },
  }),
  minTls: TLS_OPTIONS.specs.minVersion,
  mode: FALLBACK_OPTIONS.specs.mode,
  fallbackUrl: FALLBACK_OPTIONS.specs.fallbackUrl,
  serverNames: withDefault(FALLBACK_OPTIONS.specs.serverNames, { defaultText: "the certificates' DNS names" }),
  fallbackPage: string({
    help: 'Your own HTML page (at most 256 KiB) served instead of the built-in one.',
    maxLength: 4096,
    check: (file) => (file.trim() === '' ? 'expected the path of an HTML file' : undefined),
    cli: { group: 'Fallback page', arg: 'FILE', path: true },
  }),
  page: FALLBACK_OPTIONS.specs.page,
  exclude: FALLBACK_OPTIONS.specs.exclude,
  switchOff: FALLBACK_OPTIONS.specs.switchOff,
  notice: FALLBACK_OPTIONS.specs.notice,
  hosts: FALLBACK_OPTIONS.specs.hosts,
  groups: FALLBACK_OPTIONS.specs.groups,
  readiness: REPORT_OPTIONS.specs.readiness,
  statsFile: withDefault(STATS_OPTIONS.specs.statsFile, { defaultText: 'none: in memory (the command: `<state-dir>/stats.json`)' }),
  redisUrl: withDefault(REDIS_STORE_OPTIONS.specs.url, { defaultText: 'none: the numbers stay in `statsFile`' }),
  redisPrefix: REDIS_STORE_OPTIONS.specs.keyPrefix,
  instanceName: REDIS_STORE_OPTIONS.specs.instance,
  reportToken: withDefault(REPORT_OPTIONS.specs.token, { defaultText: 'none: loopback only (the command: generated once into `<state-dir>/report-token`)' }),
  reportPrefix: REPORT_OPTIONS.specs.prefix,
  trustedHeader: FALLBACK_OPTIONS.specs.trustedHeader,
  trustedProxies: FALLBACK_OPTIONS.specs.trustedProxies,
  headersTimeout: integer({ default: 10_000, min: 100, max: 600_000, unit: 'milliseconds', help: 'A client must send all its request headers within this (slowloris).', cli: { group: 'Limits and timeouts', arg: 'MS' } }),
  requestTimeout: integer({ default: 60_000, min: 100, max: 86_400_000, unit: 'milliseconds', help: 'A client must send its whole request within this.', cli: { group: 'Limits and timeouts', arg: 'MS' } }),
  keepAliveTimeout: integer({ default: 5_000, min: 100, max: 600_000, unit: 'milliseconds', help: 'Idle keep-alive connections are closed after this.', cli: { group: 'Limits and timeouts', arg: 'MS' } }),
  upstreamTimeout: integer({ default: 30_000, min: 100, max: 3_600_000, unit: 'milliseconds', help: 'The upstream must start its response (headers) within this, or the client gets 504.', cli: { group: 'Limits and timeouts', arg: 'MS' } }),
  upstreamBodyTimeout: integer({ default: 60_000, min: 100, max: 3_600_000, unit: 'milliseconds', help: 'The upstream may pause inside a response body at most this long.', cli: { group: 'Limits and timeouts', arg: 'MS' } }),
  shutdownGrace: integer({ default: 10_000, min: 0, max: 600_000, unit: 'milliseconds', help: 'On SIGTERM/SIGINT, requests in flight get this long to finish (0: stop at once).', cli: { group: 'Limits and timeouts', arg: 'MS' } }),
  handshakeTimeout: TLS_OPTIONS.specs.handshakeTimeout,
  clientHelloTimeout: TLS_OPTIONS.specs.clientHelloTimeout,
  maxConnections: withDefault(TLS_OPTIONS.specs.maxConnections, { default: 10_000 }),
  maxHandshakesPerAddress: TLS_OPTIONS.specs.maxHandshakesPerAddress,
  // Keeping modern traffic off the Node path (see docs/deployment.md): one of the two, or neither.
  passThrough: custom<HostPort | undefined>({
    type: 'string | { host, port }',
    defaultText: 'off: every connection is terminated here',
    help: 'The existing TLS server (nginx, Caddy, HAProxy…) that keeps modern clients: connections whose ClientHello offers TLS 1.2 or higher are relayed to it byte for byte; older ones are terminated here and get the fallback page. Every connection is counted in the census.',
    validate: (value, name) => parseHostPort(value as string | HostPort, name),
    arg: 'HOST:PORT',
    cli: { group: 'Upstream', arg: 'HOST:PORT' },
  }),
  proxyProtocol: boolean({
    default: false,
    help: "With `passThrough`: send a PROXY protocol v2 header naming the client before the relayed bytes (nginx: `listen … ssl proxy_protocol`; HAProxy: `accept-proxy`).",
    cli: { group: 'Upstream' },
  }),
  acceptProxyProtocol: list<string>({
    type: 'string[]',
    default: [],
    defaultText: 'none: connections come from clients directly',
    help: "Legacy-only mode behind a TCP router (`router-config`): the addresses of the routers (IPs, CIDRs, `'loopback'`, `'private'`). Every connection must then come from one of them and start with a PROXY protocol v1 or v2 header, whose client address is the visitor's; any other connection is refused.",
    item: (value, name) => {
      const problem = trustedProxyEntryError(value);
      if (problem === null) return (value as string).trim();
      throw new InvalidOptionError(name, value, `it ${problem}; use the router's IP ('127.0.0.1'), a CIDR ('10.0.0.0/8'), 'loopback' or 'private'`);
    },
    commaSeparated: true,
    cli: { group: 'Proxy trust', arg: 'LIST' },
  }),
  workers: custom<number>({
    type: "number | 'auto'",
    default: 1,
    help: 'Worker processes; `auto`: one per available CPU. 1 runs everything in this process.',
    validate: (value, name) => {
      if (value === 'auto') return Math.max(1, os.availableParallelism());
      if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 256) return value;
      throw new InvalidOptionError(name, value, 'expected a whole number of worker processes from 1 to 256, or auto for one per available CPU');
    },
    arg: 'N|auto',
    parse: (text) => (text.trim().toLowerCase() === 'auto' ? 'auto' : /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : text),
    cli: { group: 'Process' },
  }),
});

/** What `resolveProxyConfig` takes: every option by its library name; all but `upstream` have a default. */
export type ProxyOptions = { [K in keyof typeof PROXY_OPTIONS.specs]?: unknown } & { upstream: string | URL };

/** Everything the standalone proxy needs, validated and with every default filled in. */
export interface ProxyConfig {
  upstream: URL;
  upstreamInsecure: boolean;
  changeOrigin: boolean;
  listen: ListenAddress;
  /** Plain-HTTP listener (redirects to HTTPS, ACME, XP fallback), or null for none. */
  httpListen: ListenAddress | null;
  /** PEM files; several pairs allowed (RSA + ECDSA). Empty: a generated self-signed certificate. */
  certificates: { certFile: string; keyFile: string }[];
  minTls: MinTlsVersion;
  mode: FallbackMode;
  fallbackUrl: string | undefined;
  /** Host names this proxy answers for; empty: the certificates' DNS names. */
  serverNames: string[];
  /** HTML file served as the fallback page instead of the built-in one. */
  fallbackPageFile: string | undefined;
  page: FallbackPageContent | FallbackPageRenderer;
  exclude: ExcludeRule[];
  /** The switch-off day (`YYYY-MM-DD`), and the options per host and per path group. */
  switchOff: string | undefined;
  notice: NoticeKind;
  hosts: HostsOption | undefined;
  groups: GroupsOption | undefined;
  /** When the report calls a site ready for the switch-off. */
  readiness: ReadinessOptions;
  /** Without it, counts live in memory only. */
  statsFile: string | undefined;
  /** The Redis store every server of the site shares, instead of `statsFile`. */
  redis: RedisSettings | undefined;
  /** Without it the report answers loopback clients only. */
  reportToken: string | undefined;
  reportPrefix: string;
  trustedHeader: string | undefined;
  trustedProxies: string[];
  /** Worker processes; 1 runs everything in this process. */
  workers: number;
  timeouts: {
    headers: number;
    request: number;
    keepAlive: number;
    upstreamHeaders: number;
    upstreamBody: number;
    shutdownGrace: number;
    handshake: number;
    clientHello: number;
  };
  maxConnections: number;
  maxHandshakesPerAddress: number;
  /** The existing TLS server modern connections are relayed to; null: every connection is terminated here. */
  passThrough: HostPort | null;
  /** Send a PROXY v2 header to `passThrough`. */
  proxyProtocol: boolean;
  /** Routers whose PROXY protocol header is required and believed; empty: none expected. */
  acceptProxyProtocol: string[];
}

type ResolvedProxyOptions = Resolved<typeof PROXY_OPTIONS.specs>;

/** `--redis-url`, `--redis-prefix`, `--instance-name`, as `redisStore` takes them. */
export interface RedisSettings {
  url: RedisEndpoint;
  keyPrefix: string;
  instance: string | undefined;
}

/**
 * Validates a proxy configuration and fills in every default: the command line, the tests and the
 * benchmark all build their configuration here. Errors are `InvalidOptionError`s naming the option.
 */
export function resolveProxyConfig(options: ProxyOptions): ProxyConfig {
  const o: ResolvedProxyOptions = PROXY_OPTIONS.resolve(options);
  const given = options as Record<string, unknown>;
  const httpListen = resolveHttpListen(o.httpListen, o.listen, given.httpListen !== undefined);

  if (o.cert.length !== o.key.length) {
    const missing = o.cert.length < o.key.length ? 'cert' : 'key';
    const times = (n: number) => (n === 1 ? 'once' : `${n} times`);
    throw new InvalidOptionError(
      missing,
      undefined,
      `{{cert}} is given ${times(o.cert.length)} and {{key}} ${times(o.key.length)}; give one {{key}} per {{cert}}, in the same order (or neither, for a self-signed certificate)`,
    );
  }
  if (o.fallbackUrl !== undefined && o.fallbackPage !== undefined) {
    throw new InvalidOptionError('fallbackPage', o.fallbackPage, '{{fallbackPage}} and {{fallbackUrl}} exclude each other: the page is served here, the URL sends legacy clients elsewhere; keep one');
  }
  const replacedBy = o.fallbackPage !== undefined ? 'fallbackPage' : o.fallbackUrl !== undefined ? 'fallbackUrl' : undefined;
  const pageFieldGiven = typeof o.page === 'object' ? Object.keys(o.page)[0] : undefined;
  if (replacedBy !== undefined && pageFieldGiven !== undefined) {
    throw new InvalidOptionError(`page.${pageFieldGiven}`, (o.page as Record<string, unknown>)[pageFieldGiven], `it fills in the built-in page, which {{${replacedBy}}} replaces, so it would be ignored; put the details in your own page, or drop {{${replacedBy}}}`);
  }
  if (o.headersTimeout > o.requestTimeout) {
    // Node refuses a server whose headers timeout is longer than its request timeout.
    throw new InvalidOptionError('headersTimeout', o.headersTimeout, `the headers are part of the request, so make it at most {{requestTimeout}} (${o.requestTimeout} ms)`);
  }
  // The ClientHello is part of the handshake: its default follows a shorter handshake timeout.
  const clientHello = given.clientHelloTimeout === undefined ? Math.min(o.clientHelloTimeout, o.handshakeTimeout) : o.clientHelloTimeout;
  if (clientHello > o.handshakeTimeout) {
    throw new InvalidOptionError('clientHelloTimeout', clientHello, `the ClientHello is part of the handshake, so make it at most {{handshakeTimeout}} (${o.handshakeTimeout} ms)`);
  }
  if (o.trustedHeader !== undefined && o.trustedProxies.length === 0) {
    throw new InvalidOptionError('trustedProxies', given.trustedProxies, 'set it to the addresses of the proxy that sets {{trustedHeader}}; a header believed from anyone can be forged by anyone');
  }
  if (o.proxyProtocol && o.passThrough === undefined) {
    throw new InvalidOptionError('proxyProtocol', true, 'it adds a header to what {{passThrough}} relays; give {{passThrough}} the existing TLS server (such as 127.0.0.1:8443), or drop {{proxyProtocol}}');
  }
  if (o.passThrough !== undefined && o.workers > 1) {
    throw new InvalidOptionError('workers', o.workers, 'the pass-through runs in one process: keep {{workers}} at 1 with {{passThrough}} (the relayed traffic costs little; the existing server does the TLS work)');
  }
  const redis = redisSettings(o, given);

  return {
    upstream: o.upstream,
    upstreamInsecure: o.upstreamInsecure,
    changeOrigin: o.changeOrigin,
    listen: o.listen,
    httpListen,
    certificates: o.cert.map((certFile, i) => ({ certFile, keyFile: o.key[i] as string })),
    minTls: o.minTls,
    mode: o.mode,
    fallbackUrl: o.fallbackUrl,
    serverNames: o.serverNames,
    fallbackPageFile: o.fallbackPage,
    page: o.page,
    exclude: o.exclude,
    switchOff: o.switchOff,
    notice: o.notice,
    hosts: o.hosts,
    groups: o.groups,
    readiness: o.readiness,
    statsFile: o.statsFile,
    redis,
    reportToken: o.reportToken,
    reportPrefix: o.reportPrefix,
    trustedHeader: o.trustedHeader,
    trustedProxies: o.trustedProxies,
    workers: o.workers,
    timeouts: {
      headers: o.headersTimeout,
      request: o.requestTimeout,
      keepAlive: o.keepAliveTimeout,
      upstreamHeaders: o.upstreamTimeout,
      upstreamBody: o.upstreamBodyTimeout,
      shutdownGrace: o.shutdownGrace,
      handshake: o.handshakeTimeout,
      clientHello,
    },
    maxConnections: o.maxConnections ?? 10_000,
    maxHandshakesPerAddress: o.maxHandshakesPerAddress,
    passThrough: o.passThrough ?? null,
    proxyProtocol: o.proxyProtocol,
    acceptProxyProtocol: o.acceptProxyProtocol,
  };
}

/** The Redis store's settings, when `redisUrl` is given; its companions alone would be ignored, so they are refused. */
function redisSettings(o: ResolvedProxyOptions, given: Record<string, unknown>): RedisSettings | undefined {
  if (o.redisUrl === undefined) {
    const orphan = (['redisPrefix', 'instanceName'] as const).find((name) => given[name] !== undefined);
    if (orphan) throw new InvalidOptionError(orphan, given[orphan], 'it names the Redis store, which {{redisUrl}} turns on; give {{redisUrl}} too, or drop it');
    return undefined;
  }
  if (o.statsFile !== undefined) {
    throw new InvalidOptionError('statsFile', o.statsFile, 'the numbers are kept in one place: {{statsFile}} or the Redis store of {{redisUrl}}; drop one');
  }
  return { url: o.redisUrl, keyPrefix: o.redisPrefix, instance: o.instanceName };
}

/**
 * The plain-HTTP port that goes with an HTTPS port when `httpListen` is not given: the usual pairs
 * (443 and 80, 8443 and 8080, 9443 and 9080: N443 and N080), any free port for any free port (tests,
 * several instances), and 8080 for anything else. Two instances on 8443 and 9443 thus never collide.
 */
export function defaultHttpPort(httpsPort: number): number {
  if (httpsPort === 0) return 0;
  if (httpsPort % 1000 === 443) return httpsPort - 363;
  return 8080;
}

export function formatAddress(address: ListenAddress): string {
  return `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

function resolveHttpListen(value: ListenAddress | null | string | undefined, listen: ListenAddress, given: boolean): ListenAddress | null {
  if (value === null) return null;
  const http = value === undefined ? { host: listen.host, port: defaultHttpPort(listen.port) } : typeof value === 'string' ? listenAddress(value, 'httpListen', listen.host, ' or off') : value;
  if (http.port === 0 || http.port !== listen.port || !hostsOverlap(http.host, listen.host)) return http;
  if (!given) {
    throw new InvalidOptionError('listen', formatAddress(listen), `port ${listen.port} is also the default of the plain-HTTP listener; give {{httpListen}} another port (such as ${listen.port + 1}), or {{httpListen}} off`);
  }
  throw new InvalidOptionError('httpListen', formatAddress(http), `it is the same port as {{listen}} ${formatAddress(listen)}; give the plain-HTTP listener another port, or off`);
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

function hostsOverlap(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

function listenAddress(value: unknown, name: string, defaultHost: string, alternatives = ''): ListenAddress {
  const expected = `expected [host:]port ${LISTEN_EXAMPLE}${alternatives}`;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const { host, port } = value as Partial<ListenAddress>;
    if (typeof host === 'string' && isHost(host) && typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535) return { host, port };
    throw new InvalidOptionError(name, value, `expected { host, port } with an IP address or host name and a port from 0 to 65535, or a string ${LISTEN_EXAMPLE}`);
  }
  if (typeof value === 'number') return listenAddress(String(value), name, defaultHost, alternatives);
  if (typeof value !== 'string') throw new InvalidOptionError(name, value, expected);
  const text = value.trim();
  let host = defaultHost;
  let portText = text;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
    if (!net.isIPv6(host)) throw new InvalidOptionError(name, text, `${JSON.stringify(host)} is not an IPv6 address; ${expected}`);
  } else if (text.includes(':')) {
    const colon = text.lastIndexOf(':');
    if (text.indexOf(':') !== colon) throw new InvalidOptionError(name, text, 'put an IPv6 address in brackets and add the port, such as [::1]:8443 or [::]:8443');
    host = colon === 0 ? defaultHost : text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (!isHost(host)) throw new InvalidOptionError(name, text, `${JSON.stringify(host)} is not an IPv4 address or a host name; ${expected}`);
  }
  if (!/^\d{1,5}$/.test(portText)) throw new InvalidOptionError(name, text, expected);
  const port = Number(portText);
  if (port > 65535) throw new InvalidOptionError(name, text, `port ${port} is out of range; expected a port from 0 to 65535 (0: any free port)`);
  return { host, port };
}

function isHost(host: string): boolean {
  if (net.isIP(host) !== 0) return true;
  if (/^[\d.]+$/.test(host)) return false; // looks like an IPv4 address but is not one: 999.1.1.1, 10.0.0
  return host.length <= 253 && /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(host);
}

function upstreamUrl(value: unknown, name: string): URL {
  const text = value instanceof URL ? value.href : value;
  if (typeof text !== 'string') throw new InvalidOptionError(name, value, `expected an absolute http:// or https:// URL ${UPSTREAM_EXAMPLE}`);
  // Never echo a password into a message that may end up in a log.
  const shown = text.replace(/\/\/[^/?#]*@/, '//***@');
  let url: URL | undefined;
  if (!/[\u0000-\u001f\u007f\s]/.test(text)) { // eslint-disable-line no-control-regex
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
  }
  if (!url) throw new InvalidOptionError(name, shown, `expected an absolute http:// or https:// URL ${UPSTREAM_EXAMPLE}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionError(name, shown, `${url.protocol.slice(0, -1)} is not supported; expected an http:// or https:// URL ${UPSTREAM_EXAMPLE}`);
  }
  if (url.username || url.password) {
    throw new InvalidOptionError(name, shown, 'credentials in the URL are not supported; remove them (clients send their own Authorization header to the upstream)');
  }
  if (url.search || url.hash || text.includes('?') || text.includes('#')) {
    throw new InvalidOptionError(name, shown, `expected only an origin and an optional base path, without query or fragment, ${UPSTREAM_EXAMPLE}`);
  }
  return url;
}

function filePath(value: unknown, name: string): string {
  if (typeof value === 'string' && value.trim() !== '' && !hasControlCharacters(value)) return value;
  throw new InvalidOptionError(name, value, 'expected the path of a PEM file');
}

/** Where the proxy logs: the CLI wires it to stdout/stderr; tests capture it. */
export interface ProxyLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface RunningProxy {
  /** The URLs actually bound (ports resolved when 0 was asked). */
  urls: { https: string; http: string | null; report: string };
  /** Re-reads the certificate files; keeps the old ones and returns false when the new ones are bad. */
  reloadCertificates(): Promise<boolean>;
  /** Stops accepting, lets requests in flight finish within `graceMs`, flushes the stats. */
  close(graceMs?: number): Promise<void>;
  /** During a `close`, cuts the requests still in flight now instead of after the grace; the stats are still saved. */
  cut?(): void;
  /**
   * Settles, with the reason, when the proxy has given up serving on its own (a cluster whose workers
   * keep dying); never otherwise. The CLI then stops and exits 1, so the service manager restarts it.
   */
  failed?: Promise<Error>;
}
