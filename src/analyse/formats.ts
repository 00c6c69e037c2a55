/**
 * The formats this reader knows, how each is built, and how one is told from the others by an input's
 * first lines.
 */
import { InvalidOptionError } from '../errors.js';
import { AlbParser } from './alb.js';
import { LogFormatError } from './errors.js';
import { compileHaproxyFormat, HAPROXY_LAYOUTS, HaproxyParser, stripSyslogPrefix } from './haproxy.js';
import { CaddyParser, CloudflareParser, TraefikParser } from './json-formats.js';
import { NginxErrorParser } from './nginx-error.js';
import type { LineParser } from './parser.js';
import { compileApacheFormat, compileNginxFormat, type Template, TemplateParser } from './template.js';
import type { LogFormatName } from './types.js';
import { W3C_LAYOUTS, W3cParser } from './w3c.js';

const COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';
const MAIN = `${COMBINED} "$http_x_forwarded_for"`;
const STREAM = '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received $session_time';

interface BuiltIn {
  /** The nickname `logFormat` accepts. */
  name: string;
  families: readonly LogFormatName[];
  /** How the summary names it. */
  description: string;
  template: Template;
}

/**
 * Built-in layouts of nginx and Apache (which write the same lines for the same fields). Those with a
 * protocol come first: on lines that fit two layouts, the one that finds the protocol wins.
 */
export const BUILT_IN_LAYOUTS: readonly BuiltIn[] = [
  nginx('combined-tls-cipher', 'combined + "$ssl_protocol" "$ssl_cipher"', `${COMBINED} "$ssl_protocol" "$ssl_cipher"`),
  nginx('combined-tls-cipher-bare', 'combined + $ssl_protocol $ssl_cipher (Apache: %{SSL_PROTOCOL}x %{SSL_CIPHER}x)', `${COMBINED} $ssl_protocol $ssl_cipher`),
  nginx('combined-tls-slash-cipher', 'combined + $ssl_protocol/$ssl_cipher', `${COMBINED} $ssl_protocol/$ssl_cipher`),
  nginx('combined-tls', 'combined + "$ssl_protocol"', `${COMBINED} "$ssl_protocol"`),
  nginx('combined-tls-bare', 'combined + $ssl_protocol (Apache: %{SSL_PROTOCOL}x)', `${COMBINED} $ssl_protocol`),
  nginx('main-tls-cipher', 'main + "$ssl_protocol" "$ssl_cipher"', `${MAIN} "$ssl_protocol" "$ssl_cipher"`),
  nginx('main-tls', 'main + "$ssl_protocol"', `${MAIN} "$ssl_protocol"`),
  {
    name: 'ssl_request',
    families: ['apache', 'nginx'],
    description: "Apache's ssl_request_log: %t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x \"%r\" %b",
    template: compileApacheFormat('%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x "%r" %b'),
  },
  nginx('main', 'main (combined + "$http_x_forwarded_for")', MAIN),
  nginx('combined', 'combined', COMBINED),
  {
    name: 'vhost_combined',
    families: ['apache', 'nginx'],
    description: "Apache's vhost_combined",
    template: compileApacheFormat('%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'),
  },
  nginx('common', 'common (no user agent, no protocol)', '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent'),
  stream('stream-preread', `stream: ${STREAM} "$ssl_preread_server_name" "$ssl_preread_protocol"`, `${STREAM} "$ssl_preread_server_name" "$ssl_preread_protocol"`),
  stream('stream-preread-bare', `stream: ${STREAM} $ssl_preread_protocol`, `${STREAM} $ssl_preread_protocol`),
];

function nginx(name: string, description: string, format: string): BuiltIn {
  return { name, families: ['nginx', 'apache'], description, template: compileNginxFormat(format) };
}

function stream(name: string, description: string, format: string): BuiltIn {
  return { name, families: ['nginx-stream'], description, template: compileNginxFormat(format) };
}

/** A way to build a parser, and what to call it. */
export interface Candidate {
  family: LogFormatName;
  layout: string;
  /** Short name for messages: the built-in's nickname, or the family. */
  name?: string;
  create(): LineParser;
}

function templateCandidate(family: LogFormatName, layout: string, template: Template, name?: string): Candidate {
  return { family, layout, name, create: () => new TemplateParser(template, family, layout) };
}

const JSON_CANDIDATES: readonly Candidate[] = [
  { family: 'caddy', layout: 'JSON access log', create: () => new CaddyParser() },
  { family: 'traefik', layout: 'JSON access log', create: () => new TraefikParser() },
  { family: 'cloudflare', layout: 'Logpush http_requests', create: () => new CloudflareParser() },
];

function haproxyCandidates(): Candidate[] {
  return [...HAPROXY_LAYOUTS].map(([name, format]) => {
    const template = compileHaproxyFormat(format);
    return { family: 'haproxy' as const, layout: name, name, create: () => new HaproxyParser(template, name) };
  });
}

const HAPROXY_CANDIDATES = haproxyCandidates();

function fixedCandidates(family: LogFormatName): Candidate[] {
  switch (family) {
    case 'caddy':
    case 'traefik':
    case 'cloudflare':
      return JSON_CANDIDATES.filter((candidate) => candidate.family === family);
    case 'alb':
      return [{ family, layout: 'access log', create: () => new AlbParser() }];
    case 'cloudfront':
    case 'iis':
      return [{ family, layout: W3C_LAYOUTS[family], create: () => new W3cParser(family) }];
    case 'nginx-error':
      return [{ family, layout: 'error log (SSL_do_handshake failures)', create: () => new NginxErrorParser() }];
    case 'haproxy':
      return HAPROXY_CANDIDATES;
    default:
      return BUILT_IN_LAYOUTS.filter((layout) => layout.families.includes(family)).map((layout) => templateCandidate(family, layout.description, layout.template, layout.name));
  }
}

/** Every candidate tried when nothing is given, in order of preference on a tie. */
function allCandidates(): Candidate[] {
  return [
    ...JSON_CANDIDATES,
    // CloudFront or IIS, told apart by the fields their #Fields: header names.
    { family: 'cloudfront', layout: 'W3C extended log (CloudFront or IIS)', create: () => new W3cParser(null) },
    ...fixedCandidates('alb'),
    ...fixedCandidates('nginx-error'),
    ...HAPROXY_CANDIDATES,
    ...BUILT_IN_LAYOUTS.map((layout) => templateCandidate(layout.families[0] as LogFormatName, layout.description, layout.template, layout.name)),
  ];
}

const TAKES_LOG_FORMAT: readonly LogFormatName[] = ['nginx', 'apache', 'nginx-stream', 'haproxy'];

/**
 * The candidates the options allow: one when `logFormat` is a string, the family's built-ins when only
 * `format` is given, all of them when neither. Throws InvalidOptionError for a format string that
 * cannot be read, at the start, before any input is opened.
 */
export function candidatesFor(format: LogFormatName | undefined, logFormat: string | undefined): Candidate[] {
  if (logFormat === undefined) return format === undefined ? allCandidates() : fixedCandidates(format);
  if (format !== undefined && !TAKES_LOG_FORMAT.includes(format)) {
    throw new InvalidOptionError('logFormat', logFormat, `expected no log format string with format '${format}': only ${TAKES_LOG_FORMAT.join(', ')} take one`);
  }
  const nickname = logFormat.trim();
  const builtIn = BUILT_IN_LAYOUTS.find((layout) => layout.name === nickname && (format === undefined || layout.families.includes(format)));
  if (builtIn) return [templateCandidate(format ?? (builtIn.families[0] as LogFormatName), builtIn.description, builtIn.template)];
  const haproxyBuiltIn = HAPROXY_LAYOUTS.get(nickname);
  if (haproxyBuiltIn !== undefined && (format === undefined || format === 'haproxy')) return HAPROXY_CANDIDATES.filter((candidate) => candidate.layout === nickname);
  const family = format ?? syntaxOf(logFormat);
  if (family === 'haproxy') {
    const template = compileHaproxyFormat(logFormat);
    return [{ family, layout: `log-format "${template.format}"`, create: () => new HaproxyParser(template, `log-format "${template.format}"`) }];
  }
  const template = family === 'apache' ? compileApacheFormat(logFormat) : compileNginxFormat(logFormat);
  const resolved: LogFormatName = family === 'apache' ? 'apache' : template.kind === 'connection' ? 'nginx-stream' : 'nginx';
  const layout = family === 'apache' ? `LogFormat "${template.format}"` : `log_format '${template.format}'`;
  return [templateCandidate(resolved, layout, template)];
}

/** Which syntax a format string is written in, when `format` does not say. */
function syntaxOf(logFormat: string): 'nginx' | 'apache' | 'haproxy' {
  if (/\$\{?[A-Za-z_]/.test(logFormat)) return 'nginx';
  if (/%(?:ci|cp|ST|tr|Ts|ft|sslv|sslc|HM|HU|\[|\{\+)/.test(logFormat)) return 'haproxy';
  return 'apache';
}

/** How well a candidate reads the sample: lines recognised, less those whose protocol is no protocol. */
interface Score {
  candidate: Candidate;
  parser: LineParser;
  recognised: number;
  records: number;
  protocols: number;
}

export interface Detection {
  candidate: Candidate;
  /** Lines carry a syslog prefix (`Nov 28 15:29:12 host nginx: `) that is cut before parsing. */
  syslog: boolean;
}

const SAMPLE_LINES = 50;

/**
 * Picks the candidate that reads most of the sample's lines; on a tie, the one that found protocol
 * values, then the first listed. Fails when the best reads less than half of the lines: a guess on
 * worse evidence would give a confident wrong answer.
 */
export function detect(sampleLines: readonly string[], candidates: readonly Candidate[], input: string): Detection {
  const sample = sampleLines.filter((line) => line.trim() !== '').slice(0, SAMPLE_LINES);
  const best = bestOf(sample, candidates);
  if (best !== null) return { candidate: best, syslog: false };
  // Logs shipped through syslog carry its prefix on every line.
  const stripped = sample.map((line) => stripSyslogPrefix(line));
  if (stripped.every((line) => line !== null)) {
    const viaSyslog = bestOf(stripped as string[], candidates);
    if (viaSyslog !== null) return { candidate: viaSyslog, syslog: true };
  }
  throw new LogFormatError(input, sample[0] ?? '', describeCandidates(candidates));
}

function bestOf(sample: readonly string[], candidates: readonly Candidate[]): Candidate | null {
  let best: Score | null = null;
  for (const candidate of candidates) {
    const parser = candidate.create();
    parser.learn?.(sample);
    const score: Score = { candidate, parser, recognised: 0, records: 0, protocols: 0 };
    for (const line of sample) {
      const result = parser.parse(line);
      if (result === null) score.recognised++;
      else if (typeof result === 'object') {
        score.recognised++;
        score.records++;
        if (result.protocol !== null) score.protocols++;
      }
    }
    score.recognised -= parser.unknownProtocols ?? 0;
    if (best === null || better(score, best)) best = score;
  }
  if (best === null || best.recognised <= 0 || best.recognised * 2 < sample.length) return null;
  return best.candidate;
}

function better(a: Score, b: Score): boolean {
  if (a.recognised !== b.recognised) return a.recognised > b.recognised;
  if (a.records !== b.records) return a.records > b.records;
  if (a.protocols !== b.protocols) return a.protocols > b.protocols;
  return false;
}

/** `nginx/apache (combined-tls, combined, …)`, `caddy`: what was tried, one entry per family. */
function describeCandidates(candidates: readonly Candidate[]): string[] {
  const byFamily = new Map<string, string[]>();
  for (const candidate of candidates) {
    const family = candidate.family === 'nginx' || candidate.family === 'apache' ? 'nginx/apache' : candidate.family === 'cloudfront' || candidate.family === 'iis' ? 'cloudfront/iis' : candidate.family;
    const names = byFamily.get(family) ?? [];
    if (candidate.name !== undefined && !names.includes(candidate.name)) names.push(candidate.name);
    byFamily.set(family, names);
  }
  return [...byFamily].map(([family, names]) => (names.length > 0 ? `${family} (${names.join(', ')})` : family));
}

export const FAMILY_NAMES: Readonly<Record<LogFormatName, string>> = {
  nginx: 'nginx access log',
  apache: 'Apache access log',
  'nginx-stream': 'nginx stream (connection) log',
  'nginx-error': 'nginx error log',
  haproxy: 'HAProxy',
  caddy: 'Caddy',
  traefik: 'Traefik',
  cloudflare: 'Cloudflare Logpush',
  alb: 'AWS ALB',
  cloudfront: 'CloudFront',
  iis: 'IIS',
};
