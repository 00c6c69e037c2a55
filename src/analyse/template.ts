/**
 * nginx `log_format` and Apache `LogFormat` strings, compiled once into a list of fields and the
 * literal text between them; a line is then read with one indexOf per field (no regular expression,
 * no backtracking). Only the fields a record needs are sliced; the rest are stepped over.
 */
import { InvalidOptionError } from '../errors.js';
import { decodeBackslashEscapes } from './escapes.js';
import { commonSpellingAt, normaliseLogProtocol } from './protocol.js';
import { makeRecord, originPathAt, parseStatusAt, pathOfRequestLine, pathOfTarget, present, RecentStrings } from './record.js';
import { ClfClock, parseEpochSeconds, parseIsoTime } from './time.js';
import type { LineParser } from './parser.js';
import type { LogFormatName, LogProtocol, LogRecord } from './types.js';

export enum Field {
  Skip,
  Address,
  TimeClf,
  TimeIso,
  TimeEpochSeconds,
  TimeEpochMillis,
  TimeEpochMicros,
  RequestLine,
  Path,
  PathWithQuery,
  Status,
  UserAgent,
  Host,
  ServerName,
  Sni,
  Protocol,
  OfferedProtocol,
  Cipher,
}

export interface Template {
  readonly syntax: 'nginx' | 'apache';
  /** The format string the template was compiled from, after config quoting was undone. */
  readonly format: string;
  readonly head: string;
  readonly fields: readonly Field[];
  /** Names as written in the format (`$http_user_agent`, `%{User-Agent}i`), for messages. */
  readonly names: readonly string[];
  /** `literals[i]` follows `fields[i]`. Only the last may be empty. */
  readonly literals: readonly string[];
  /** Whether values may carry backslash escapes (nginx default and json, Apache); `escape=none` does not. */
  readonly escaped: boolean;
  readonly kind: 'request' | 'connection';
  readonly hasProtocol: boolean;
  readonly hasUserAgent: boolean;
}

const TIME_FIELDS = new Set([Field.TimeClf, Field.TimeIso, Field.TimeEpochSeconds, Field.TimeEpochMillis, Field.TimeEpochMicros]);

const NGINX_VARIABLES: ReadonlyMap<string, Field> = new Map([
  ['remote_addr', Field.Address],
  ['realip_remote_addr', Field.Skip],
  ['time_local', Field.TimeClf],
  ['time_iso8601', Field.TimeIso],
  ['msec', Field.TimeEpochSeconds],
  ['request', Field.RequestLine],
  ['request_uri', Field.PathWithQuery],
  ['uri', Field.Path],
  ['document_uri', Field.Path],
  ['status', Field.Status],
  ['http_user_agent', Field.UserAgent],
  ['host', Field.Host],
  ['http_host', Field.Host],
  ['server_name', Field.ServerName],
  ['ssl_server_name', Field.Sni],
  ['ssl_preread_server_name', Field.Sni],
  ['ssl_protocol', Field.Protocol],
  ['ssl_preread_protocol', Field.OfferedProtocol],
  ['ssl_cipher', Field.Cipher],
]);

const MAX_FORMAT_LENGTH = 4096;

type Token = { literal: string } | { field: Field; name: string };

/** Compiles an nginx `log_format`: the bare string, or the config directive as written (quotes, `escape=`). */
export function compileNginxFormat(input: string, option = 'logFormat'): Template {
  const { format, escape } = unquoteNginx(input, option);
  const tokens: Token[] = [];
  let last = 0;
  for (const match of format.matchAll(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g)) {
    const name = (match[1] ?? match[2]) as string;
    if (match.index > last) tokens.push({ literal: format.slice(last, match.index) });
    tokens.push({ field: NGINX_VARIABLES.get(name) ?? Field.Skip, name: `$${name}` });
    last = match.index + match[0].length;
  }
  if (last < format.length) tokens.push({ literal: format.slice(last) });
  return build('nginx', format, tokens, escape !== 'none', input, option);
}

/** Compiles an Apache `LogFormat`: the bare string, or the `LogFormat`/`CustomLog` line as written. */
export function compileApacheFormat(input: string, option = 'logFormat'): Template {
  const format = unquoteApache(input);
  const tokens: Token[] = [];
  let last = 0;
  for (const match of format.matchAll(/%(?:%|[!0-9,]*[<>]?(?:\{([^}]*)\})?[<>]?(\^t[io]|[a-zA-Z]))/g)) {
    if (match.index > last) tokens.push({ literal: format.slice(last, match.index) });
    last = match.index + match[0].length;
    if (match[0] === '%%') {
      tokens.push({ literal: '%' });
      continue;
    }
    const parameter = match[1];
    const letter = match[2] as string;
    if (letter === 't' && parameter === undefined) {
      // %t writes its own brackets: `[10/Oct/2000:13:55:36 -0700]`.
      tokens.push({ literal: '[' }, { field: Field.TimeClf, name: '%t' }, { literal: ']' });
      continue;
    }
    tokens.push({ field: apacheField(letter, parameter, input, option), name: match[0] });
  }
  if (last < format.length) tokens.push({ literal: format.slice(last) });
  return build('apache', format, tokens, true, input, option);
}

function apacheField(letter: string, parameter: string | undefined, input: string, option: string): Field {
  const name = parameter?.toLowerCase();
  switch (letter) {
    case 'h':
    case 'a':
      return Field.Address;
    case 't':
      if (name === 'sec' || name === 'begin:sec' || name === 'end:sec') return Field.TimeEpochSeconds;
      if (name === 'msec' || name === 'begin:msec' || name === 'end:msec') return Field.TimeEpochMillis;
      if (name === 'usec' || name === 'begin:usec' || name === 'end:usec') return Field.TimeEpochMicros;
      if (name !== undefined && /%Y-%m-%dT%H:%M:%S/.test(parameter ?? '')) return Field.TimeIso;
      if (name !== undefined && /^(?:begin:|end:)?%d\/%b\/%Y:%H:%M:%S %z$/.test(parameter ?? '')) return Field.TimeClf;
      throw new InvalidOptionError(option, input, `expected a time Apache writes in a form this reader knows: %t, %{sec}t, %{msec}t, %{usec}t, %{%Y-%m-%dT%H:%M:%S%z}t (got %{${parameter}}t)`);
    case 'r':
      return Field.RequestLine;
    case 'U':
      return Field.Path;
    case 's':
      return Field.Status;
    case 'v':
    case 'V':
      return Field.ServerName;
    case 'i':
      if (name === 'user-agent') return Field.UserAgent;
      if (name === 'host') return Field.Host;
      return Field.Skip;
    case 'x':
    case 'e':
      if (name === 'ssl_protocol') return Field.Protocol;
      if (name === 'ssl_cipher') return Field.Cipher;
      if (name === 'ssl_tls_sni') return Field.Sni;
      return Field.Skip;
    default:
      return Field.Skip;
  }
}

function build(syntax: 'nginx' | 'apache', format: string, tokens: Token[], escaped: boolean, input: string, option: string): Template {
  let head = '';
  const fields: Field[] = [];
  const names: string[] = [];
  const literals: string[] = [];
  for (const token of tokens) {
    if ('literal' in token) {
      if (fields.length === 0) head += token.literal;
      else literals[fields.length - 1] += token.literal;
      continue;
    }
    if (fields.length > 0 && literals[fields.length - 1] === '') {
      throw new InvalidOptionError(option, input, `expected text between ${names[names.length - 1]} and ${token.name}: two fields with nothing between them cannot be told apart`);
    }
    fields.push(token.field);
    names.push(token.name);
    literals.push('');
  }
  if (fields.length === 0) throw new InvalidOptionError(option, input, `expected a ${syntax === 'nginx' ? 'log_format with $variables' : 'LogFormat with %directives'}`);
  if (!fields.some((field) => TIME_FIELDS.has(field))) {
    throw new InvalidOptionError(
      option,
      input,
      `expected a time field (${syntax === 'nginx' ? '$time_local, $time_iso8601 or $msec' : '%t, %{sec}t or %{msec}t'}): the analysis is by the log's own time`,
    );
  }
  const offered = fields.includes(Field.OfferedProtocol);
  return {
    syntax,
    format,
    head,
    fields,
    names,
    literals,
    escaped,
    kind: offered && !fields.includes(Field.RequestLine) && !fields.includes(Field.UserAgent) ? 'connection' : 'request',
    hasProtocol: offered || fields.includes(Field.Protocol),
    hasUserAgent: fields.includes(Field.UserAgent),
  };
}

/** nginx config quoting: `log_format name escape=json '…' '…';` or a bare format. */
function unquoteNginx(input: string, option: string): { format: string; escape: string } {
  if (input.length > MAX_FORMAT_LENGTH) throw new InvalidOptionError(option, `${input.slice(0, 40)}…`, `expected at most ${MAX_FORMAT_LENGTH} characters`);
  let rest = input.trim();
  let escape = 'default';
  const directive = /^log_format\s+\S+\s*/.exec(rest);
  if (directive) rest = rest.slice(directive[0].length);
  const escapeParameter = /^escape=(default|json|none)\s*/.exec(rest);
  if (escapeParameter) {
    escape = escapeParameter[1] as string;
    rest = rest.slice(escapeParameter[0].length);
  }
  if (rest.endsWith(';')) rest = rest.slice(0, -1).trimEnd();
  const first = rest.charAt(0);
  if (first !== "'" && first !== '"') return { format: directive ? rest : input, escape };
  // One or more quoted strings, joined as nginx joins them.
  let format = '';
  let at = 0;
  while (at < rest.length) {
    const quote = rest.charAt(at);
    if (quote !== "'" && quote !== '"') throw new InvalidOptionError(option, input, 'expected the format in quotes, as in nginx.conf, or without any quoting');
    let i = at + 1;
    for (; i < rest.length && rest.charAt(i) !== quote; i++) {
      if (rest.charAt(i) === '\\' && i + 1 < rest.length) {
        const next = rest.charAt(i + 1);
        format += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
        i++;
      } else {
        format += rest.charAt(i);
      }
    }
    if (i >= rest.length) throw new InvalidOptionError(option, input, `expected a closing ${quote}`);
    at = i + 1;
    while (at < rest.length && /\s/.test(rest.charAt(at))) at++;
  }
  return { format, escape };
}

/** Apache config quoting: `LogFormat "…" nickname`, `CustomLog path "…"`, or a bare format with `\"`. */
function unquoteApache(input: string): string {
  if (input.length > MAX_FORMAT_LENGTH) throw new InvalidOptionError('logFormat', `${input.slice(0, 40)}…`, `expected at most ${MAX_FORMAT_LENGTH} characters`);
  let rest = input.trim();
  const directive = /^(?:LogFormat|CustomLog\s+\S+)\s+/i.exec(rest);
  if (directive) {
    rest = rest.slice(directive[0].length);
    if (rest.startsWith('"')) {
      let end = 1;
      while (end < rest.length && !(rest.charAt(end) === '"' && rest.charAt(end - 1) !== '\\')) end++;
      rest = rest.slice(1, end);
    }
  }
  // The backslash escapes of httpd.conf and mod_log_config (\" \\ \t \n).
  return rest.replace(/\\(["\\tn])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c));
}

/** Reads lines of one template. One instance per input: it holds small caches. */
export class TemplateParser implements LineParser {
  readonly template: Template;
  readonly family: LogFormatName;
  readonly layout: string;
  hasProtocol: boolean;
  hasUserAgent: boolean;
  /** Protocol values that were neither a version nor "none": a sign the format does not fit. */
  unknownProtocols = 0;
  // Where each value sits, found once at construction: the per-line loop only finds field boundaries,
  // then each wanted value is cut by index (-1: the format has no such field).
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  readonly #time: number;
  readonly #timeKind: Field;
  readonly #address: number;
  readonly #request: number;
  readonly #requestKind: Field;
  readonly #status: number;
  readonly #userAgent: number;
  readonly #hosts: readonly number[];
  readonly #protocol: number;
  readonly #cipher: number;
  /** The last field is quoted: a bare quote inside it means the line has more fields than the format. */
  readonly #lastQuoted: boolean;
  readonly #quotedBefore: Uint8Array;
  readonly #clock = new ClfClock();
  #lastTimeText = '';
  #lastTime = Number.NaN;
  readonly #recent = new RecentStrings(32);

  constructor(template: Template, family: LogFormatName, layout: string) {
    this.template = template;
    this.family = family;
    this.layout = layout;
    this.hasProtocol = template.hasProtocol;
    this.hasUserAgent = template.hasUserAgent;
    const { head, literals, fields, escaped } = template;
    const count = fields.length;
    this.#starts = new Int32Array(count);
    this.#ends = new Int32Array(count);
    const find = (...kinds: Field[]) => fields.findIndex((field) => kinds.includes(field));
    this.#time = find(Field.TimeClf, Field.TimeIso, Field.TimeEpochSeconds, Field.TimeEpochMillis, Field.TimeEpochMicros);
    this.#timeKind = fields[this.#time] as Field;
    this.#address = find(Field.Address);
    this.#request = find(Field.RequestLine, Field.PathWithQuery, Field.Path);
    this.#requestKind = this.#request === -1 ? Field.Skip : (fields[this.#request] as Field);
    this.#status = find(Field.Status);
    this.#userAgent = find(Field.UserAgent);
    // SNI names the site the client asked for; the Host header next; the server's own name last.
    this.#hosts = [Field.Sni, Field.Host, Field.ServerName].flatMap((kind) => fields.flatMap((field, i) => (field === kind ? [i] : [])));
    this.#protocol = find(Field.Protocol, Field.OfferedProtocol);
    this.#cipher = find(Field.Cipher);
    const quoted = (i: number) => escaped && (i === 0 ? head : (literals[i - 1] as string)).endsWith('"') && (literals[i] as string).startsWith('"');
    this.#lastQuoted = quoted(count - 1);
    this.#quotedBefore = Uint8Array.from(fields, (_, i) => (quoted(i) ? 1 : 0));
  }

  #readTime(text: string): number {
    switch (this.#timeKind) {
      case Field.TimeClf:
        return this.#clock.read(text);
      case Field.TimeIso:
        return parseIsoTime(text);
      case Field.TimeEpochSeconds:
        return parseEpochSeconds(text);
      case Field.TimeEpochMillis:
        return /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
      default:
        return /^\d{1,18}$/.test(text) ? Math.floor(Number(text) / 1000) : Number.NaN;
    }
  }

  /** A record, or why the line is not one. */
  parse(line: string): LogRecord | string {
    const { head, literals } = this.template;
    if (head.length > 0 && !line.startsWith(head)) return 'does not start as the format does';
    const starts = this.#starts;
    const ends = this.#ends;
    const last = starts.length - 1;
    let position = head.length;
    for (let i = 0; i < last; i++) {
      const literal = literals[i] as string;
      let end = line.indexOf(literal, position);
      // In Apache logs a quote inside a quoted value is written \" (nginx writes \x22, never a bare one).
      if (this.#quotedBefore[i] === 1) while (end !== -1 && oddBackslashesBefore(line, end)) end = line.indexOf(literal, end + 1);
      if (end === -1) return `no end found for ${this.template.names[i]}`;
      starts[i] = position;
      ends[i] = end;
      position = end + literal.length;
    }
    const tail = literals[last] as string;
    const end = line.length - tail.length;
    if (end < position || (tail.length > 0 && !line.endsWith(tail))) return `does not end as the format does (${JSON.stringify(tail)})`;
    if (this.#lastQuoted) {
      const quote = line.indexOf('"', position);
      if (quote !== -1 && quote < end && !allQuotesEscaped(line, quote, end)) return 'more fields than the format has';
    }
    starts[last] = position;
    ends[last] = end;

    // Values are read in place where they can be (compared, not cut out): most lines repeat the last
    // line's second, cipher and host, and a status is three digits. Values cut out share memory with
    // their line only (each line is a string of its own, see InputLines), so keeping one is cheap.
    let time: number;
    const timeText = line.slice(starts[this.#time] as number, ends[this.#time] as number);
    if (timeText === this.#lastTimeText) time = this.#lastTime;
    else {
      time = this.#readTime(timeText);
      this.#lastTimeText = timeText;
      this.#lastTime = time;
    }
    if (Number.isNaN(time)) return 'the time is not readable';

    let status: number | null = null;
    if (this.#status !== -1) {
      const from = starts[this.#status] as number;
      const to = ends[this.#status] as number;
      status = parseStatusAt(line, from, to);
      if (status === null && !(to - from === 1 && line.charCodeAt(from) === 45)) {
        return `${this.template.names[this.#status]} is not a status (${JSON.stringify(line.slice(from, Math.min(to, from + 20)))})`;
      }
    }

    let protocol: LogProtocol | null = null;
    if (this.#protocol !== -1) {
      const from = starts[this.#protocol] as number;
      const to = ends[this.#protocol] as number;
      const common = commonSpellingAt(line, from, to);
      if (common !== undefined) protocol = common;
      else {
        const value = line.slice(from, to);
        protocol = normaliseLogProtocol(value);
        if (protocol === null && value !== 'none' && value !== 'unknown') this.unknownProtocols++;
      }
    }

    let path: string | null = null;
    if (this.#request !== -1) {
      const from = starts[this.#request] as number;
      const to = ends[this.#request] as number;
      const escaped = line.indexOf('\\', from);
      const plain = escaped === -1 || escaped >= to;
      const fast = plain && this.#requestKind === Field.RequestLine ? originPathAt(line, from, to) : undefined;
      if (fast !== undefined) path = fast;
      else if (to > from && !(to - from === 1 && line.charCodeAt(from) === 45)) {
        const decoded = decodeBackslashEscapes(line.slice(from, to));
        const cut = this.#requestKind === Field.RequestLine ? pathOfRequestLine(decoded) : this.#requestKind === Field.PathWithQuery ? pathOfTarget(decoded) : decoded;
        path = cut;
      }
    }

    let userAgent: string | null = null;
    if (this.#userAgent !== -1) {
      const value = line.slice(starts[this.#userAgent] as number, ends[this.#userAgent] as number);
      if (present(value)) userAgent = decodeBackslashEscapes(value);
    }

    let host: string | null = null;
    for (const i of this.#hosts) {
      const from = starts[i] as number;
      const to = ends[i] as number;
      if (to === from || (to - from === 1 && line.charCodeAt(from) === 45)) continue;
      host = line.indexOf('\\', from) === -1 || line.indexOf('\\', from) >= to ? this.#recent.getAt(line, from, to) : this.#recent.get(decodeBackslashEscapes(line.slice(from, to)));
      break;
    }

    let address: string | null = null;
    if (this.#address !== -1) {
      const value = line.slice(starts[this.#address] as number, ends[this.#address] as number);
      // An address has no space: one here is a prefix the format does not have (syslog's, another server's).
      if (value.includes(' ')) return `${this.template.names[this.#address]} is not an address`;
      if (present(value)) address = value;
    }

    let cipher: string | null = null;
    if (this.#cipher !== -1) {
      const from = starts[this.#cipher] as number;
      const to = ends[this.#cipher] as number;
      if (to > from && !(to - from === 1 && line.charCodeAt(from) === 45)) cipher = this.#recent.getAt(line, from, to);
    }
    return makeRecord(this.template.kind, time, protocol, cipher, userAgent, address, host, path, status);
  }
}

function oddBackslashesBefore(line: string, at: number): boolean {
  let count = 0;
  while (at - count - 1 >= 0 && line.charCodeAt(at - count - 1) === 92) count++;
  return count % 2 === 1;
}

function allQuotesEscaped(line: string, from: number, end: number): boolean {
  for (let quote = from; quote !== -1 && quote < end; quote = line.indexOf('"', quote + 1)) {
    if (!oddBackslashesBefore(line, quote)) return false;
  }
  return true;
}
