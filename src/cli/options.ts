import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidOptionError } from '../errors.js';
import {
  MIN_REPORT_TOKEN_LENGTH,
  resolveFallbackOptions,
  resolveReportOptions,
  resolveTrafficStatsOptions,
  type FallbackPageContent,
} from '../options.js';
import type { ListenAddress, ProxyConfig } from '../proxy/config.js';
import { DEFAULT_CLIENT_HELLO_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_HANDSHAKES_PER_ADDRESS } from '../tls/connection-guard.js';
import { MIN_TLS_VERSIONS } from '../tls/profiles.js';
import { closest } from '../validate.js';
import { locateJsonError } from './json-error.js';

/**
 * Command-line parsing, pure: argv, environment and a file reader in; settings or a `UsageError` out.
 * Every flag is also a key of the `--config` JSON file (same name, without the dashes); flags win.
 */

export const PROGRAM = 'legacy-tls-fallback';

export type CliCommand = 'run' | 'demo' | 'help' | 'version';

/**
 * Everything the CLI resolved from flags, the config file and the environment. Paths may still be
 * relative to the working directory; `prepareState` resolves them and fills in the certificate and
 * the report token to make the final `ProxyConfig`.
 */
export interface CliSettings extends Omit<ProxyConfig, 'upstream' | 'reportToken'> {
  /** Undefined for `demo` (main starts the demo site and fills it in), `help` and `version`. */
  upstream: URL | undefined;
  /** From `--report-token`, the config file or `LEGACY_TLS_REPORT_TOKEN`; undefined: kept in the state dir. */
  reportToken: string | undefined;
}

export interface ParsedCli {
  command: CliCommand;
  config: CliSettings;
}

export interface ParseContext {
  /** Whether stdout is a terminal: picks the default `--log-format`. */
  isTTY?: boolean;
  /** For `--workers auto`. @default os.availableParallelism */
  availableParallelism?: () => number;
}

/** A mistake in the command line, the config file or the environment: exit code 2, never a stack trace. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE' as const;
  /** The flag, config key or environment variable at fault, as the user wrote it: `--listen`, `"listen" in ltf.json`. */
  readonly source: string | undefined;

  constructor(message: string, source?: string) {
    super(message);
    this.name = 'UsageError';
    this.source = source;
  }
}

// ---------------------------------------------------------------------------------------------------
// The flags, as data: parsing, the config file keys and the help text all come from this table.

type Group =
  | 'Upstream'
  | 'Listening'
  | 'TLS'
  | 'Fallback page'
  | 'Stats and report'
  | 'Proxy trust'
  | 'Limits and timeouts'
  | 'Process'
  | 'Logging';

interface FlagSpec {
  name: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in the help. */
  arg?: string;
  group: Group;
  /** Shown as `[default: …]`. */
  defaultText?: string;
  description: string;
  /** Paths in the config file are relative to the file. */
  isPath?: boolean;
  /** `--config`, `--help` and `--version` are not keys of the config file. */
  cliOnly?: boolean;
}

export const DEFAULTS = {
  listenHost: '0.0.0.0',
  listenPort: 8443,
  httpPort: 8080,
  minTls: 'TLSv1',
  mode: 'redirect',
  stateDir: '.legacy-tls-fallback',
  reportPrefix: '/_legacy-tls',
  workers: 1,
  headersTimeout: 10_000,
  requestTimeout: 60_000,
  keepAliveTimeout: 5_000,
  upstreamTimeout: 30_000,
  upstreamBodyTimeout: 60_000,
  shutdownGrace: 10_000,
  maxConnections: 10_000,
  handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT,
  clientHelloTimeout: DEFAULT_CLIENT_HELLO_TIMEOUT,
  maxHandshakesPerAddress: DEFAULT_MAX_HANDSHAKES_PER_ADDRESS,
} as const;

export const STATE_DIR_ENV = 'LEGACY_TLS_FALLBACK_STATE_DIR';
export const REPORT_TOKEN_ENV = 'LEGACY_TLS_REPORT_TOKEN';
export const MAX_FALLBACK_PAGE_BYTES = 256 * 1024;

const FLAGS: readonly FlagSpec[] = [
  { name: 'upstream', type: 'string', arg: 'URL', group: 'Upstream', defaultText: 'required, except for demo', description: 'The site behind the proxy: an http:// or https:// origin, optionally with a base path (http://127.0.0.1:3000/app).' },
  { name: 'upstream-insecure', type: 'boolean', group: 'Upstream', defaultText: 'off', description: "Do not verify an https upstream's certificate (a self-signed upstream on the same host)." },
  { name: 'change-origin', type: 'boolean', group: 'Upstream', defaultText: 'off', description: "Send the upstream's host name as Host instead of the client's." },

  { name: 'listen', type: 'string', arg: '[HOST:]PORT', group: 'Listening', defaultText: `${DEFAULTS.listenHost}:${DEFAULTS.listenPort}`, description: 'HTTPS listener. IPv6 goes in brackets: [::]:8443, [::1]:8443.' },
  { name: 'http-listen', type: 'string', arg: '[HOST:]PORT|off', group: 'Listening', defaultText: `the --listen host; port 80 for --listen 443, 8080 for 8443 (N443 gives N080), 0 for 0, else ${DEFAULTS.httpPort}`, description: 'Plain-HTTP listener: redirects to HTTPS, serves ACME challenges and the fallback page to clients that cannot do TLS at all. "off" for none.' },

  { name: 'cert', type: 'string', multiple: true, arg: 'FILE', group: 'TLS', isPath: true, defaultText: 'self-signed, kept in the state dir', description: 'PEM certificate chain. Repeat with --key to serve RSA and ECDSA side by side (pairs in order). Keep an RSA one for old clients.' },
  { name: 'key', type: 'string', multiple: true, arg: 'FILE', group: 'TLS', isPath: true, description: 'PEM private key of the --cert at the same position. SIGHUP re-reads both.' },
  { name: 'min-tls', type: 'string', arg: 'VERSION', group: 'TLS', defaultText: DEFAULTS.minTls, description: `Lowest protocol completed: ${MIN_TLS_VERSIONS.join(', ')}.` },

  { name: 'mode', type: 'string', arg: 'MODE', group: 'Fallback page', defaultText: DEFAULTS.mode, description: 'redirect: legacy clients get a 302 to the fallback page; render: the page in place; observe: only count.' },
  { name: 'fallback-url', type: 'string', arg: 'URL', group: 'Fallback page', defaultText: 'none', description: 'Send legacy clients to this absolute http(s) URL instead of the built-in page.' },
  { name: 'server-name', type: 'string', multiple: true, arg: 'HOST', group: 'Fallback page', defaultText: "the certificates' DNS names", description: 'Host name this proxy answers for; only decides whether --fallback-url is on this site (its path is then never redirected). Repeatable.' },
  { name: 'fallback-page', type: 'string', arg: 'FILE', group: 'Fallback page', isPath: true, defaultText: 'the built-in page', description: `Your own HTML page (at most ${MAX_FALLBACK_PAGE_BYTES / 1024} KiB) served instead of the built-in one.` },
  { name: 'organisation', type: 'string', arg: 'TEXT', group: 'Fallback page', defaultText: 'none', description: 'Organisation name on the built-in page.' },
  { name: 'email', type: 'string', arg: 'ADDRESS', group: 'Fallback page', defaultText: 'none', description: 'Contact e-mail on the built-in page (a mailto: link).' },
  { name: 'phone', type: 'string', arg: 'NUMBER', group: 'Fallback page', defaultText: 'none', description: 'Contact phone number on the built-in page (a tel: link).' },
  { name: 'address', type: 'string', arg: 'TEXT', group: 'Fallback page', defaultText: 'none', description: 'Postal address on the built-in page; line breaks are kept.' },
  { name: 'hours', type: 'string', arg: 'TEXT', group: 'Fallback page', defaultText: 'none', description: 'Opening hours on the built-in page.' },
  { name: 'message', type: 'string', arg: 'TEXT', group: 'Fallback page', defaultText: 'none', description: 'A message of your own on the built-in page.' },
  { name: 'lang', type: 'string', arg: 'TAG', group: 'Fallback page', defaultText: 'en', description: 'Language of the built-in page (BCP 47: en, fr-CA).' },
  { name: 'exclude', type: 'string', multiple: true, arg: 'PREFIX', group: 'Fallback page', defaultText: 'none', description: 'Path prefix never sent to the fallback page (/api covers /api and /api/x). Repeatable.' },

  { name: 'state-dir', type: 'string', arg: 'DIR', group: 'Stats and report', isPath: true, defaultText: `$${STATE_DIR_ENV}, else ./${DEFAULTS.stateDir}`, description: 'Where the generated certificate, the report token and the stats live (created with mode 0700).' },
  { name: 'stats-file', type: 'string', arg: 'FILE', group: 'Stats and report', isPath: true, defaultText: '<state-dir>/stats.json', description: 'JSON file the traffic counts are kept in across restarts.' },
  { name: 'report-token', type: 'string', arg: 'TOKEN', group: 'Stats and report', defaultText: `$${REPORT_TOKEN_ENV}, else generated once into <state-dir>/report-token`, description: `Secret for the report (at least ${MIN_REPORT_TOKEN_LENGTH} characters): Bearer token, or the password of any user name.` },
  { name: 'report-prefix', type: 'string', arg: 'PATH', group: 'Stats and report', defaultText: DEFAULTS.reportPrefix, description: 'Path of the report: PATH/ (dashboard), PATH/report.json, PATH/metrics, PATH/health.' },

  { name: 'trusted-header', type: 'string', arg: 'NAME', group: 'Proxy trust', defaultText: 'none', description: "Header in which a TLS-terminating proxy in front sends the visitor's TLS version (x-tls-protocol, x-amzn-tls-version)." },
  { name: 'trusted-proxies', type: 'string', multiple: true, arg: 'LIST', group: 'Proxy trust', defaultText: 'none', description: 'Comma-separated IPs, CIDRs, loopback or private whose --trusted-header is believed. Repeatable; required with --trusted-header.' },

  { name: 'headers-timeout', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: String(DEFAULTS.headersTimeout), description: 'A client must send all its request headers within this (slowloris).' },
  { name: 'request-timeout', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: String(DEFAULTS.requestTimeout), description: 'A client must send its whole request within this.' },
  { name: 'keep-alive-timeout', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: String(DEFAULTS.keepAliveTimeout), description: 'Idle keep-alive connections are closed after this.' },
  { name: 'upstream-timeout', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: String(DEFAULTS.upstreamTimeout), description: 'The upstream must start its response (headers) within this, or the client gets 504.' },
  { name: 'upstream-body-timeout', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: String(DEFAULTS.upstreamBodyTimeout), description: 'The upstream may pause inside a response body at most this long.' },
  { name: 'shutdown-grace', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: String(DEFAULTS.shutdownGrace), description: 'On SIGTERM/SIGINT, requests in flight get this long to finish (0: stop at once).' },
  { name: 'max-connections', type: 'string', arg: 'N', group: 'Limits and timeouts', defaultText: String(DEFAULTS.maxConnections), description: 'Most client connections open at once, per process. When full, the oldest connection stuck in its TLS handshake for over a second is closed to let a new one in; otherwise the new one is refused.' },
  { name: 'handshake-timeout', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: String(DEFAULTS.handshakeTimeout), description: 'A client must finish its TLS handshake within this from connecting (Node alone waits 120 s).' },
  { name: 'client-hello-timeout', type: 'string', arg: 'MS', group: 'Limits and timeouts', defaultText: `${DEFAULTS.clientHelloTimeout}, at most --handshake-timeout`, description: 'A client must begin its TLS handshake within this from connecting; silent connections are closed.' },
  { name: 'max-handshakes-per-address', type: 'string', arg: 'N', group: 'Limits and timeouts', defaultText: String(DEFAULTS.maxHandshakesPerAddress), description: 'Most unfinished TLS handshakes from one address (an IPv6 /64) at once; more are refused. 0: no cap (behind a TCP load balancer that hides client addresses).' },

  { name: 'workers', type: 'string', arg: 'N|auto', group: 'Process', defaultText: String(DEFAULTS.workers), description: 'Worker processes; auto: one per available CPU. 1 runs everything in this process.' },
  { name: 'config', type: 'string', arg: 'FILE', group: 'Process', cliOnly: true, defaultText: 'none', description: 'JSON file with any of these options, keyed by name without dashes; flags win over it.' },
  { name: 'help', type: 'boolean', short: 'h', group: 'Process', cliOnly: true, description: 'Show this help and exit.' },
  { name: 'version', type: 'boolean', group: 'Process', cliOnly: true, description: 'Print the version and exit.' },

  { name: 'log-format', type: 'string', arg: 'json|pretty', group: 'Logging', defaultText: 'pretty on a terminal, else json', description: 'json: one JSON object per line; pretty: "HH:MM:SS level message key=value". Nothing is logged per request.' },
];

const GROUPS: readonly Group[] = ['Upstream', 'Listening', 'TLS', 'Fallback page', 'Stats and report', 'Proxy trust', 'Limits and timeouts', 'Process', 'Logging'];

const FLAG_NAMES = FLAGS.map((f) => f.name);
const CONFIG_KEYS = FLAGS.filter((f) => !f.cliOnly).map((f) => f.name);
const SPEC = new Map(FLAGS.map((f) => [f.name, f]));
const COMMANDS = ['run', 'demo', 'help', 'version'] as const;

const PARSE_OPTIONS = Object.fromEntries(
  FLAGS.map((f) => [f.name, { type: f.type, ...(f.multiple && { multiple: true }), ...(f.short !== undefined && { short: f.short }) }]),
) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

type ReportStats = Parameters<typeof resolveReportOptions>[0]['stats'];

const PAGE_FLAGS = ['organisation', 'email', 'phone', 'address', 'hours', 'message', 'lang'] as const;
/** The page flags through which a visitor can reach someone. */
export const CONTACT_FLAGS = ['email', 'phone', 'address'] as const;
/** What `demo` puts on its fallback page when no contact detail is given. */
export const DEMO_PAGE = { organisation: 'Example Ltd (demo)', email: 'help@example.com', phone: '+44 20 7946 0000' } as const;

const NUMBER_LIMITS: Record<string, { min: number; max: number; unit: string }> = {
  'headers-timeout': { min: 100, max: 600_000, unit: 'milliseconds' },
  'request-timeout': { min: 100, max: 86_400_000, unit: 'milliseconds' },
  'keep-alive-timeout': { min: 100, max: 600_000, unit: 'milliseconds' },
  'upstream-timeout': { min: 100, max: 3_600_000, unit: 'milliseconds' },
  'upstream-body-timeout': { min: 100, max: 3_600_000, unit: 'milliseconds' },
  'shutdown-grace': { min: 0, max: 600_000, unit: 'milliseconds' },
  'max-connections': { min: 1, max: 1_000_000, unit: 'connections' },
  'handshake-timeout': { min: 100, max: 600_000, unit: 'milliseconds' },
  'client-hello-timeout': { min: 100, max: 600_000, unit: 'milliseconds' },
  'max-handshakes-per-address': { min: 0, max: 1_000_000, unit: 'handshakes, or 0 for no cap' },
  workers: { min: 1, max: 256, unit: 'worker processes' },
};

// ---------------------------------------------------------------------------------------------------
// parseCliArgs

/** One setting as the user gave it, and where: a flag, a config file key or an environment variable. */
interface Raw {
  value: string | boolean | string[];
  /** How to name it in an error: `--listen`, `"listen" in ltf.json`, `LEGACY_TLS_REPORT_TOKEN`. */
  label: string;
}

export function parseCliArgs(
  argv: string[],
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
  context: ParseContext = {},
): ParsedCli {
  // A first, lenient pass: --help and --version win over everything, then unknown flags get a suggestion.
  const { tokens: looseTokens } = parseArgs({ args: argv, options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const named = looseTokens.filter((t) => t.kind === 'option').map((t) => t.name);
  const firstPositional = looseTokens.find((t) => t.kind === 'positional');
  const word = firstPositional?.kind === 'positional' ? firstPositional.value : undefined;
  const early = named.includes('help') || word === 'help' ? 'help' : named.includes('version') || word === 'version' ? 'version' : undefined;
  if (early) return { command: early, config: resolveSettings(early, new Map(), {}, () => '', context) };

  for (const token of looseTokens) {
    if (token.kind === 'option' && !SPEC.has(token.name)) {
      const suggestion = closest(token.name, FLAG_NAMES);
      throw new UsageError(
        `${PROGRAM}: unknown option ${token.rawName}; ${suggestion ? `did you mean --${suggestion}?` : 'see --help for the options.'}`,
        token.rawName,
      );
    }
  }

  let parsed: ReturnType<typeof strictParse>;
  try {
    parsed = strictParse(argv);
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(--?[\w-]+)/.exec(message)?.[1];
    throw new UsageError(`${PROGRAM}: ${message}.`, flag);
  }

  const counts = new Map<string, number>();
  for (const token of parsed.tokens) if (token.kind === 'option') counts.set(token.name, (counts.get(token.name) ?? 0) + 1);
  for (const [name, count] of counts) {
    if (count > 1 && !SPEC.get(name)?.multiple) {
      throw new UsageError(`${PROGRAM}: --${name} is given ${count} times; give it once.`, `--${name}`);
    }
  }

  if (parsed.positionals.length > 1) {
    throw new UsageError(`${PROGRAM}: unexpected argument ${JSON.stringify(parsed.positionals[1])}; give at most one command (run or demo), options start with --.`, parsed.positionals[1]);
  }
  const positional = parsed.positionals[0];
  let command: CliCommand = 'run';
  if (positional !== undefined) {
    if (!(COMMANDS as readonly string[]).includes(positional)) {
      const suggestion = closest(positional, COMMANDS);
      throw new UsageError(
        `${PROGRAM}: unknown command ${JSON.stringify(positional)}; ${suggestion ? `did you mean ${suggestion}?` : 'the commands are run (the default) and demo.'}`,
        positional,
      );
    }
    command = positional as CliCommand;
  }

  const raw = new Map<string, Raw>();
  const configFile = parsed.values.config as string | undefined;
  if (configFile !== undefined) for (const [key, value] of readConfigFile(configFile, readFile)) raw.set(key, value);
  for (const [name, value] of Object.entries(parsed.values)) {
    if (name === 'config' || value === undefined) continue;
    raw.set(name, { value: value as string | boolean | string[], label: `--${name}` });
  }
  return { command, config: resolveSettings(command, raw, env, readFile, context) };
}

function strictParse(argv: string[]) {
  return parseArgs({ args: argv, options: PARSE_OPTIONS, strict: true, allowPositionals: true, tokens: true });
}

function readConfigFile(file: string, readFile: (path: string) => string): Map<string, Raw> {
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    throw unreadable('--config', file, error, 'a JSON file');
  }
  const json = text.replace(/^\uFEFF/, '');
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    // Not V8's message itself: on Node 20 it has a position for some mistakes, nothing for others, and
    // it may quote the file's text, report token included.
    const where = locateJsonError(json);
    const detail = where ? `line ${where.line}, column ${where.column}: ${where.reason}` : errorText(error);
    throw new UsageError(`${PROGRAM}: --config ${JSON.stringify(file)} is not valid JSON: ${detail}.`, '--config');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`${PROGRAM}: --config ${JSON.stringify(file)} must hold a JSON object such as {"upstream": "http://127.0.0.1:3000"}.`, '--config');
  }
  const name = path.basename(file);
  const result = new Map<string, Raw>();
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const label = `${JSON.stringify(key)} in ${name}`;
    const spec = SPEC.get(key);
    if (!spec || spec.cliOnly) {
      const suggestion = closest(key.replace(/^-+/, ''), CONFIG_KEYS);
      throw new UsageError(
        `${PROGRAM}: ${label} is not an option; ${suggestion ? `did you mean ${JSON.stringify(suggestion)}?` : 'the keys are the long option names without dashes (see --help).'}`,
        label,
      );
    }
    if (value === null || value === undefined) continue;
    result.set(key, { value: configValue(spec, value, label, file), label });
  }
  return result;
}

/** Normalises a config file value to what the same flag would have given. */
function configValue(spec: FlagSpec, value: unknown, label: string, file: string): string | boolean | string[] {
  const relative = (p: string) => (spec.isPath && p !== '' && !path.isAbsolute(p) ? path.join(path.dirname(file), p) : p);
  if (spec.type === 'boolean') {
    if (typeof value !== 'boolean') throw bad(label, value, 'expected true or false');
    return value;
  }
  if (spec.multiple) {
    const items = Array.isArray(value) ? value : [value];
    if (items.some((item) => typeof item !== 'string')) throw bad(label, value, 'expected a string or an array of strings');
    return (items as string[]).map(relative);
  }
  if (spec.name === 'http-listen' && value === false) return 'off';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw bad(label, value, 'expected a string');
  return relative(value);
}

// ---------------------------------------------------------------------------------------------------
// From raw values to settings

function resolveSettings(
  command: CliCommand,
  raw: Map<string, Raw>,
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
  context: ParseContext,
): CliSettings {
  const get = (name: string): Raw | undefined => raw.get(name);
  const label = (name: string): string => raw.get(name)?.label ?? `--${name}`;
  const str = (name: string): string | undefined => {
    const r = get(name);
    return r === undefined ? undefined : (r.value as string);
  };
  const list = (name: string): string[] => {
    const r = get(name);
    if (r === undefined) return [];
    return Array.isArray(r.value) ? r.value : [String(r.value)];
  };
  const flag = (name: string): boolean => get(name)?.value === true;
  const integer = (name: string, fallback: number): number => {
    const r = get(name);
    const limits = NUMBER_LIMITS[name];
    if (r === undefined || limits === undefined) return fallback;
    return parseInteger(r, limits.min, limits.max, limits.unit);
  };

  // Upstream
  let upstream: URL | undefined;
  const upstreamRaw = get('upstream');
  if (command === 'demo' && upstreamRaw) {
    throw new UsageError(`${PROGRAM}: ${upstreamRaw.label} cannot be used with demo, which starts its own upstream site; drop it, or drop demo.`, upstreamRaw.label);
  }
  if (upstreamRaw) upstream = parseUpstream(upstreamRaw);
  else if (command === 'run') {
    throw new UsageError(
      `${PROGRAM}: --upstream is missing; give the URL of the site to put behind the proxy, e.g. --upstream http://127.0.0.1:3000 (or try \`${PROGRAM} demo\`).`,
      '--upstream',
    );
  }

  // Listening
  const listenRaw = get('listen');
  const listen = listenRaw ? parseListen(listenRaw, DEFAULTS.listenHost) : { host: DEFAULTS.listenHost, port: DEFAULTS.listenPort };
  const httpRaw = get('http-listen');
  let httpListen: ListenAddress | null = { host: listen.host, port: defaultHttpPort(listen.port) };
  if (httpRaw) httpListen = String(httpRaw.value).toLowerCase() === 'off' ? null : parseListen(httpRaw, listen.host, ' or off');
  else if (httpListen.port === listen.port && listen.port !== 0) {
    throw new UsageError(
      `${PROGRAM}: ${label('listen')} ${formatAddress(listen)} takes port ${listen.port}, which is also the default of the plain-HTTP listener; give --http-listen another port (such as ${listen.port + 1}), or --http-listen off.`,
      label('listen'),
    );
  }
  if (httpListen && httpListen.port !== 0 && httpListen.port === listen.port && hostsOverlap(httpListen.host, listen.host)) {
    throw new UsageError(
      `${PROGRAM}: ${label('http-listen')} ${formatAddress(httpListen)} is the same port as ${label('listen')} ${formatAddress(listen)}; give the plain-HTTP listener another port, or off.`,
      label('http-listen'),
    );
  }

  // TLS
  const certs = list('cert');
  const keys = list('key');
  if (certs.length !== keys.length) {
    const missing = certs.length < keys.length ? 'cert' : 'key';
    const times = (n: number) => (n === 1 ? 'once' : `${n} times`);
    throw new UsageError(
      `${PROGRAM}: ${label(missing)} is missing for some pairs: ${label('cert')} is given ${times(certs.length)} and ${label('key')} ${times(keys.length)}; give one --key per --cert, in the same order (or neither, for a self-signed certificate kept in the state dir).`,
      label(missing),
    );
  }
  for (const name of ['cert', 'key'] as const) {
    for (const file of list(name)) if (file.trim() === '') throw bad(label(name), file, 'expected the path of a PEM file');
  }
  const certificates = certs.map((certFile, i) => ({ certFile, keyFile: keys[i] as string }));
  const minTlsRaw = get('min-tls');
  const minTls = minTlsRaw ? oneOf(minTlsRaw, MIN_TLS_VERSIONS) : DEFAULTS.minTls;

  // Fallback page: validated by the library itself, its errors renamed to the flags.
  const page: FallbackPageContent = {};
  for (const name of PAGE_FLAGS) {
    const value = str(name);
    if (value !== undefined) page[name] = value;
  }
  const fallbackUrl = str('fallback-url');
  const serverNames = list('server-name');
  const fallbackPageFile = str('fallback-page');
  const exclude = list('exclude');
  const trustedHeader = str('trusted-header');
  const trustedProxies = list('trusted-proxies').flatMap((entry) => entry.split(',')).map((entry) => entry.trim()).filter((entry) => entry !== '');
  const modeRaw = get('mode');
  let mode: ProxyConfig['mode'] = DEFAULTS.mode;
  try {
    const resolved = resolveFallbackOptions({
      ...(modeRaw && { mode: modeRaw.value as ProxyConfig['mode'] }),
      ...(fallbackUrl !== undefined && { fallbackUrl }),
      ...(serverNames.length > 0 && { serverNames }),
      exclude,
      page,
      ...(trustedHeader !== undefined && { trustedHeader }),
      ...(get('trusted-proxies') && { trustedProxies }),
    });
    mode = resolved.mode;
  } catch (error) {
    throw fromLibrary(error, label);
  }
  const pageFlagsGiven = PAGE_FLAGS.filter((name) => get(name) !== undefined);
  if (fallbackUrl !== undefined && fallbackPageFile !== undefined) {
    throw new UsageError(`${PROGRAM}: ${label('fallback-page')} and ${label('fallback-url')} exclude each other: the page is served here, the URL sends legacy clients elsewhere; keep one.`, label('fallback-page'));
  }
  const replacedBy = fallbackPageFile !== undefined ? 'fallback-page' : fallbackUrl !== undefined ? 'fallback-url' : undefined;
  const firstPageFlag = pageFlagsGiven[0];
  if (replacedBy && firstPageFlag !== undefined) {
    throw new UsageError(
      `${PROGRAM}: ${label(firstPageFlag)} fills in the built-in page, which ${label(replacedBy)} replaces, so it would be ignored; put the details in your own page, or drop ${label(replacedBy)}.`,
      label(firstPageFlag),
    );
  }
  if (fallbackPageFile !== undefined) checkFallbackPage(fallbackPageFile, label('fallback-page'), readFile);
  if (command === 'demo' && replacedBy === undefined && !CONTACT_FLAGS.some((name) => page[name] !== undefined)) {
    // The demo's page should read like a configured one; example.com and an Ofcom drama number reach nobody.
    Object.assign(page, { organisation: page.organisation ?? DEMO_PAGE.organisation, email: DEMO_PAGE.email, phone: DEMO_PAGE.phone });
  }

  // Stats and report
  const stateDirRaw = get('state-dir');
  const envStateDir = env[STATE_DIR_ENV] === '' ? undefined : env[STATE_DIR_ENV];
  const stateDir = stateDirRaw ? String(stateDirRaw.value) : (envStateDir ?? DEFAULTS.stateDir);
  const stateDirLabel = stateDirRaw?.label ?? (envStateDir !== undefined ? `$${STATE_DIR_ENV}` : '--state-dir');
  if (stateDir.trim() === '' || /[\u0000-\u001f\u007f]/.test(stateDir)) throw bad(stateDirLabel, stateDir, 'expected a directory path'); // eslint-disable-line no-control-regex
  const statsFile = str('stats-file') ?? path.join(stateDir, 'stats.json');
  try {
    resolveTrafficStatsOptions({ statsFile });
  } catch (error) {
    throw fromLibrary(error, label);
  }
  const envToken = env[REPORT_TOKEN_ENV] === '' ? undefined : env[REPORT_TOKEN_ENV];
  const reportToken = str('report-token') ?? envToken;
  const tokenLabel = get('report-token')?.label ?? (envToken !== undefined ? `$${REPORT_TOKEN_ENV}` : '--report-token');
  const reportPrefix = str('report-prefix') ?? DEFAULTS.reportPrefix;
  try {
    // The report validates its own token and prefix; the stats only have to look like stats (every
    // property a function), which they are never asked for here.
    const statsShape = new Proxy({}, { get: () => () => undefined }) as ReportStats;
    resolveReportOptions({ stats: statsShape, prefix: reportPrefix, ...(reportToken !== undefined && { token: reportToken }), logger: { warn: () => undefined } });
  } catch (error) {
    throw fromLibrary(error, (name) => (name === 'report-token' ? tokenLabel : label(name)));
  }

  // Process and logging
  const workersRaw = get('workers');
  let workers: number = DEFAULTS.workers;
  if (workersRaw && String(workersRaw.value).toLowerCase() === 'auto') {
    workers = Math.max(1, (context.availableParallelism ?? os.availableParallelism)());
  } else if (workersRaw) {
    const { min, max, unit } = NUMBER_LIMITS.workers!;
    workers = parseInteger(workersRaw, min, max, unit, ', or auto for one per available CPU');
  }
  const timeouts = {
    headers: integer('headers-timeout', DEFAULTS.headersTimeout),
    request: integer('request-timeout', DEFAULTS.requestTimeout),
    keepAlive: integer('keep-alive-timeout', DEFAULTS.keepAliveTimeout),
    upstreamHeaders: integer('upstream-timeout', DEFAULTS.upstreamTimeout),
    upstreamBody: integer('upstream-body-timeout', DEFAULTS.upstreamBodyTimeout),
    shutdownGrace: integer('shutdown-grace', DEFAULTS.shutdownGrace),
    handshake: integer('handshake-timeout', DEFAULTS.handshakeTimeout),
    clientHello: 0,
  };
  timeouts.clientHello = integer('client-hello-timeout', Math.min(DEFAULTS.clientHelloTimeout, timeouts.handshake));
  if (timeouts.clientHello > timeouts.handshake) {
    throw new UsageError(
      `${PROGRAM}: ${label('client-hello-timeout')} (${timeouts.clientHello} ms) is longer than ${label('handshake-timeout')} (${timeouts.handshake} ms); the ClientHello is part of the handshake, so make it at most ${timeouts.handshake}.`,
      label('client-hello-timeout'),
    );
  }
  if (timeouts.headers > timeouts.request) {
    // Node refuses a server whose headers timeout is longer than its request timeout.
    throw new UsageError(
      `${PROGRAM}: ${label('headers-timeout')} (${timeouts.headers} ms) is longer than ${label('request-timeout')} (${timeouts.request} ms); the headers are part of the request, so make it at most ${timeouts.request}.`,
      label('headers-timeout'),
    );
  }
  const logFormatRaw = get('log-format');
  const logFormat = logFormatRaw ? oneOf(logFormatRaw, ['json', 'pretty'] as const) : context.isTTY ? 'pretty' : 'json';

  return {
    upstream,
    upstreamInsecure: flag('upstream-insecure'),
    changeOrigin: flag('change-origin'),
    listen,
    httpListen,
    certificates,
    stateDir,
    minTls,
    mode,
    fallbackUrl,
    serverNames,
    fallbackPageFile,
    page,
    exclude,
    statsFile,
    reportToken,
    reportPrefix,
    trustedHeader,
    trustedProxies,
    workers,
    timeouts,
    maxConnections: integer('max-connections', DEFAULTS.maxConnections),
    maxHandshakesPerAddress: integer('max-handshakes-per-address', DEFAULTS.maxHandshakesPerAddress),
    logFormat,
  };
}

function parseUpstream(raw: Raw): URL {
  const value = String(raw.value);
  // Never echo a password into a message that may end up in a log.
  const shown = value.replace(/\/\/[^/?#]*@/, '//***@');
  const example = 'such as http://127.0.0.1:3000 or https://app.internal/base';
  let url: URL | undefined;
  if (!/[\u0000-\u001f\u007f\s]/.test(value)) { // eslint-disable-line no-control-regex
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (!url) throw bad(raw.label, shown, `expected an absolute http:// or https:// URL ${example}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw bad(raw.label, shown, `${url.protocol.slice(0, -1)} is not supported; expected an http:// or https:// URL ${example}`);
  }
  if (url.username || url.password) {
    throw bad(raw.label, shown, 'credentials in the URL are not supported; remove them (clients send their own Authorization header to the upstream)');
  }
  if (url.search || url.hash || value.includes('?') || value.includes('#')) {
    throw bad(raw.label, shown, `expected only an origin and an optional base path, without query or fragment, ${example}`);
  }
  return url;
}

const LISTEN_EXAMPLE = 'such as 8443, 127.0.0.1:8443, localhost:8443 or [::1]:8443';

function parseListen(raw: Raw, defaultHost: string, alternatives = ''): ListenAddress {
  const value = String(raw.value).trim();
  const expected = `expected [host:]port ${LISTEN_EXAMPLE}${alternatives}`;
  let host = defaultHost;
  let portText = value;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
    if (!net.isIPv6(host)) throw bad(raw.label, value, `${JSON.stringify(host)} is not an IPv6 address; ${expected}`);
  } else if (value.includes(':')) {
    const colon = value.lastIndexOf(':');
    if (value.indexOf(':') !== colon) {
      throw bad(raw.label, value, `put an IPv6 address in brackets and add the port, such as [::1]:8443 or [::]:8443`);
    }
    host = colon === 0 ? defaultHost : value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (!isHost(host)) throw bad(raw.label, value, `${JSON.stringify(host)} is not an IPv4 address or a host name; ${expected}`);
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad(raw.label, value, expected);
  const port = Number(portText);
  if (port > 65535) throw bad(raw.label, value, `port ${port} is out of range; expected a port from 0 to 65535 (0: any free port)`);
  return { host, port };
}

function isHost(host: string): boolean {
  if (net.isIPv4(host)) return true;
  if (/^[\d.]+$/.test(host)) return false; // looks like an IPv4 address but is not one: 999.1.1.1, 10.0.0
  return host.length <= 253 && /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(host);
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

function hostsOverlap(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

/**
 * The plain-HTTP port that goes with an HTTPS port when --http-listen is not given: the usual pairs
 * (443 and 80, 8443 and 8080, 9443 and 9080: N443 and N080), any free port for any free port (tests,
 * several instances), and 8080 for anything else. Two instances on 8443 and 9443 thus never collide.
 */
export function defaultHttpPort(httpsPort: number): number {
  if (httpsPort === 0) return 0;
  if (httpsPort % 1000 === 443) return httpsPort - 363;
  return DEFAULTS.httpPort;
}

export function formatAddress(address: ListenAddress): string {
  return `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

function parseInteger(raw: Raw, min: number, max: number, unit: string, alternatives = ''): number {
  const text = String(raw.value).trim();
  const number = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(number) || number < min || number > max) {
    const hint = /^\d+(\.\d+)?\s*[a-z]+$/i.test(text) ? ' (a plain number, without a unit)' : '';
    throw bad(raw.label, raw.value, `expected a whole number of ${unit} from ${min} to ${max}${hint}${alternatives}`);
  }
  return number;
}

function oneOf<T extends string>(raw: Raw, allowed: readonly T[]): T {
  const value = String(raw.value);
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const suggestion = closest(value, allowed);
  throw bad(raw.label, raw.value, `expected one of ${allowed.join(', ')}${suggestion ? `; did you mean ${suggestion}?` : ''}`);
}

function checkFallbackPage(file: string, label: string, readFile: (path: string) => string): void {
  let html: string;
  try {
    html = readFile(file);
  } catch (error) {
    throw unreadable(label, file, error, 'an HTML file');
  }
  const bytes = Buffer.byteLength(html, 'utf8');
  if (bytes > MAX_FALLBACK_PAGE_BYTES) {
    throw new UsageError(`${PROGRAM}: ${label} ${JSON.stringify(file)} is ${Math.ceil(bytes / 1024)} KiB; keep the page under ${MAX_FALLBACK_PAGE_BYTES / 1024} KiB (old clients are slow; serve large assets from a path given with --exclude).`, label);
  }
  if (html.includes('\u0000') || !/<(!doctype\s+html|html|head|body)\b/i.test(html)) {
    throw new UsageError(`${PROGRAM}: ${label} ${JSON.stringify(file)} does not look like an HTML page; expected a file starting with <!DOCTYPE html> or <html>.`, label);
  }
}

// Library option names (as in InvalidOptionError.option) and the flag that sets each.
const LIBRARY_OPTIONS: Record<string, string> = {
  mode: 'mode',
  fallbackUrl: 'fallback-url',
  serverNames: 'server-name',
  exclude: 'exclude',
  trustedHeader: 'trusted-header',
  trustedProxies: 'trusted-proxies',
  statsFile: 'stats-file',
  token: 'report-token',
  prefix: 'report-prefix',
  ...Object.fromEntries(PAGE_FLAGS.map((name) => [`page.${name}`, name])),
};

/** Renames a library `InvalidOptionError` to the flag (or config key) the user actually wrote. */
function fromLibrary(error: unknown, label: (flag: string) => string): unknown {
  if (!(error instanceof InvalidOptionError)) return error;
  const base = error.option.replace(/\[\d+\]$/, '');
  const flag = LIBRARY_OPTIONS[base];
  const name = flag === undefined ? `option \`${error.option}\`` : label(flag);
  const message = error.message
    .replace(/^legacy-tls-fallback: option `[^`]*`/, `${PROGRAM}: ${name}`)
    .replace(/ is undefined;/, ' is missing;')
    .replace(/ or a RegExp/, '')
    .replace(/use fallbackPath\b/, 'use --fallback-page')
    .replace(/`([\w.]+)`/g, (match, option: string) => {
      const other = LIBRARY_OPTIONS[option];
      return other === undefined ? match : `--${other}`;
    });
  return new UsageError(message, name);
}

/**
 * A file the user named that cannot be read, with the fix for the actual cause: a permission problem is
 * not solved by giving "the path of a PEM file" again.
 */
export function unreadable(label: string, file: string, error: unknown, what: string): UsageError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const shown = `${label} ${JSON.stringify(file)}`;
  let message: string;
  if (code === 'EACCES' || code === 'EPERM') {
    const user = processUser();
    message =
      `${shown} cannot be read: permission denied (${code}) for ${user.description}, which this process runs as. ` +
      `Give that user read access to the file and search (x) access to each directory above it (for example setfacl -m u:${user.name}:r on the file), ` +
      `or copy it where that user may read it, or run ${PROGRAM} as a user who can read it.`;
  } else if (code === 'ENOENT') {
    message = `${shown} cannot be read (${errorText(error)}); give the path of ${what}.`;
  } else if (code === 'EISDIR') {
    message = `${shown} is a directory; give the path of ${what}.`;
  } else {
    message = `${shown} cannot be read (${errorText(error)}); give the path of ${what}.`;
  }
  return new UsageError(`${PROGRAM}: ${message}`, label);
}

/** `user "www-data" (uid 33)`; the uid alone where there is no passwd entry (containers). */
function processUser(): { name: string; description: string } {
  const uid = process.getuid?.();
  let name: string | undefined;
  try {
    name = os.userInfo().username;
  } catch {
    name = undefined;
  }
  const shownName = name ?? (uid === undefined ? 'this user' : String(uid));
  const description = name === undefined ? (uid === undefined ? 'the current user' : `uid ${uid}`) : `user ${JSON.stringify(name)}${uid === undefined ? '' : ` (uid ${uid})`}`;
  return { name: shownName, description };
}

function bad(label: string, value: unknown, expected: string): UsageError {
  return new UsageError(`${PROGRAM}: ${label} is ${describe(value)}; ${expected}.`, label);
}

function describe(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------------
// helpText

export function helpText(): string {
  const lines: string[] = [
    `${PROGRAM}: put a TLS 1.0/1.1-capable HTTPS proxy in front of a site. Modern clients reach the site;`,
    'clients on old TLS (or old browsers) get a contact page instead, and the numbers are counted.',
    '',
    'Usage:',
    `  ${PROGRAM} --upstream URL [options]   run the proxy in front of URL`,
    `  ${PROGRAM} demo [options]             try it against a built-in demo site`,
    '',
    'Every option can also be set in the JSON file given with --config, keyed by the option name without',
    'the dashes ({"upstream": "http://127.0.0.1:3000", "cert": ["rsa.pem", "ecdsa.pem"], "upstream-insecure": true}).',
    'Flags win over the file, the file over environment variables; paths in the file are relative to it.',
  ];
  const width = Math.max(...FLAGS.map((f) => flagUsage(f).length)) + 2;
  for (const group of GROUPS) {
    lines.push('', `${group}:`);
    for (const flag of FLAGS.filter((f) => f.group === group)) {
      const defaults = flag.defaultText === undefined ? '' : ` [default: ${flag.defaultText}]`;
      lines.push(`  ${flagUsage(flag).padEnd(width)}${flag.description}${defaults}`);
    }
  }
  lines.push(
    '',
    'Examples:',
    `  ${PROGRAM} demo`,
    `  ${PROGRAM} --upstream http://127.0.0.1:3000 --email help@example.com --phone '+44 20 7946 0000'`,
    `  ${PROGRAM} --upstream http://127.0.0.1:3000 --listen 443 --http-listen 80 \\`,
    '      --cert /etc/ssl/rsa.pem --key /etc/ssl/rsa.key --cert /etc/ssl/ecdsa.pem --key /etc/ssl/ecdsa.key',
    `  ${PROGRAM} --upstream https://app.internal --upstream-insecure --mode observe --workers auto`,
    `  ${PROGRAM} --config /etc/${PROGRAM}.json --listen [::]:8443`,
    '',
    'Signals: SIGHUP re-reads the certificate files; SIGTERM or SIGINT stop gracefully (a second one exits at once).',
    'Exit status: 0 stopped cleanly, 1 an error, 2 a usage or configuration error.',
    '',
  );
  return lines.join('\n');
}

function flagUsage(flag: FlagSpec): string {
  const short = flag.short === undefined ? '' : `-${flag.short}, `;
  return `${short}--${flag.name}${flag.arg === undefined ? '' : ` ${flag.arg}`}`;
}

/** The long flag names, for tests and completion. */
export const CLI_FLAGS: readonly string[] = FLAG_NAMES;
