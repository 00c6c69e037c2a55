/**
 * HAProxy HTTP logs: its built-in `httplog` and `httpslog` layouts and any `log-format` string.
 *
 * HAProxy differs from nginx and Apache in ways that need a regular expression rather than a split: an
 * empty `%hr`/`%hs` vanishes together with its separator, and a quoted sample fetch (`%{+Q}[…]`) is not
 * escaped. Each field's pattern excludes the character that ends it, so no two adjacent patterns can
 * trade characters: a failing line costs linear time, whatever it holds.
 */
import { InvalidOptionError } from '../errors.js';
import { decodeBackslashEscapes, decodeByteEscapes } from './escapes.js';
import { handshakeReasonOf } from './nginx-error.js';
import type { LineParser } from './parser.js';
import { normaliseLogProtocol } from './protocol.js';
import { makeRecord, parseStatus, pathOfRequestLine, pathOfTarget, present, RecentStrings } from './record.js';
import { cachedTimeParser, parseClfTime } from './time.js';
import type { LogProtocol, LogRecord } from './types.js';

/** HAProxy 2.6's `option httplog` and `option httpslog` (configuration manual, section 8.2.3 and 8.2.4). */
export const HAPROXY_LAYOUTS: ReadonlyMap<string, string> = new Map([
  ['httpslog', '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc'],
  ['httplog', '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r'],
]);

// Every variable HAProxy 2.6 knows, longest first, so `%Tw` is not read as `%T` followed by "w".
const VARIABLES = [
  'HPO', 'hrl', 'hsl', 'pid', 'sslc', 'sslv', 'trg', 'trl', 'tsc',
  'CC', 'CS', 'HM', 'HP', 'HQ', 'HU', 'HV', 'ID', 'ST', 'TR', 'Ta', 'Tc', 'Td', 'Th', 'Ti', 'Tl', 'Tq', 'Tr', 'Ts', 'Tt', 'Tu', 'Tw',
  'ac', 'bc', 'bi', 'bp', 'bq', 'ci', 'cp', 'fc', 'fi', 'fp', 'ft', 'hr', 'hs', 'lc', 'ms', 'rc', 'rt', 'sc', 'si', 'sp', 'sq', 'tr', 'ts',
  'B', 'H', 'T', 'U', 'b', 'f', 'r', 's', 't',
];

// Variables HAProxy writes as (signed) integers; `+` prefixes %Tt under `option logasap`.
const NUMERIC = new Set(['cp', 'fp', 'bp', 'sp', 'ST', 'B', 'U', 'TR', 'Tw', 'Tc', 'Tr', 'Ta', 'Tt', 'Th', 'Ti', 'Tq', 'Td', 'Tu', 'ac', 'fc', 'bc', 'sc', 'rc', 'sq', 'bq', 'ms', 'pid', 'rt', 'lc']);

// What HAProxy writes with `#XX` escapes (its http_encode_map and hdr_encode_map).
const ENCODED = new Set(['r', 'hr', 'hs', 'hrl', 'hsl', 'HU', 'HP', 'HPO', 'HQ']);

type Role =
  | 'skip'
  | 'address'
  | 'time'
  | 'epoch'
  | 'millis'
  | 'status'
  | 'request'
  | 'path'
  | 'protocol'
  | 'cipher'
  | 'sni'
  | 'captures'
  | { capture: number };

interface Token {
  role: Role;
  name: string;
  quoted: boolean;
  /** Values HAProxy escapes with `#XX` (request line, captured headers), so a quote cannot occur inside. */
  encoded: boolean;
  /** Patterns that may be absent, separator included (`%hr` without captures). */
  optional: boolean;
  /** A sample fetch's raw value, which HAProxy only escapes with the `E` flag. */
  raw: boolean;
  escapedE: boolean;
  numeric: boolean;
}

export interface HaproxyTemplate {
  readonly format: string;
  readonly regex: RegExp;
  readonly roles: readonly Role[];
  readonly decode: readonly ('none' | 'hash' | 'backslash')[];
  readonly hasProtocol: boolean;
  readonly hasCaptures: boolean;
}

const MAX_FORMAT_LENGTH = 4096;

export function compileHaproxyFormat(input: string, option = 'logFormat'): HaproxyTemplate {
  if (input.length > MAX_FORMAT_LENGTH) throw new InvalidOptionError(option, `${input.slice(0, 40)}…`, `expected at most ${MAX_FORMAT_LENGTH} characters`);
  const format = unquoteHaproxy(input);
  const parts: (string | Token)[] = [];
  let literal = '';
  for (let i = 0; i < format.length; ) {
    const c = format.charAt(i);
    if (c !== '%') {
      literal += c;
      i++;
      continue;
    }
    let j = i + 1;
    let flags = '';
    if (format.charAt(j) === '{') {
      const close = format.indexOf('}', j);
      if (close === -1) throw new InvalidOptionError(option, input, `expected a closing } after ${format.slice(i, i + 12)}`);
      flags = format.slice(j + 1, close);
      j = close + 1;
    }
    let name: string;
    let role: Role;
    let raw = false;
    if (format.charAt(j) === '[') {
      const close = format.indexOf(']', j);
      if (close === -1) throw new InvalidOptionError(option, input, `expected a closing ] after ${format.slice(i, i + 20)}`);
      name = format.slice(j + 1, close);
      role = sampleRole(name);
      raw = true;
      j = close + 1;
    } else {
      const variable = VARIABLES.find((v) => format.startsWith(v, j));
      if (variable === undefined) {
        // Not a variable: HAProxy writes the text as it is.
        literal += c;
        i++;
        continue;
      }
      name = variable;
      role = variableRole(variable);
      j += variable.length;
    }
    if (literal) parts.push(literal);
    literal = '';
    const quoted = /(?:^|,)\+Q(?:,|$)/.test(flags);
    parts.push({
      role,
      name: format.slice(i, j),
      quoted,
      encoded: !raw && ENCODED.has(name),
      optional: name === 'hr' || name === 'hs' || name === 'hrl' || name === 'hsl',
      raw,
      escapedE: /(?:^|,)\+E(?:,|$)/.test(flags),
      numeric: !raw && NUMERIC.has(name),
    });
    i = j;
  }
  if (literal) parts.push(literal);
  return buildRegex(format, parts, input, option);
}

function variableRole(name: string): Role {
  switch (name) {
    case 'ci':
      return 'address';
    case 't':
    case 'tr':
    case 'trg':
    case 'trl':
    case 'T':
    case 'Tl':
      return 'time';
    case 'Ts':
      return 'epoch';
    case 'ms':
      return 'millis';
    case 'ST':
      return 'status';
    case 'r':
      return 'request';
    case 'HP':
    case 'HPO':
    case 'HU':
      return 'path';
    case 'sslv':
      return 'protocol';
    case 'sslc':
      return 'cipher';
    case 'hr':
      return 'captures';
    default:
      return 'skip';
  }
}

function sampleRole(expression: string): Role {
  const fetch = (expression.split(',')[0] ?? '').trim().toLowerCase();
  if (fetch === 'ssl_fc_protocol') return 'protocol';
  if (fetch === 'ssl_fc_cipher') return 'cipher';
  if (fetch === 'ssl_fc_sni') return 'sni';
  if (fetch === 'src') return 'address';
  const capture = /^capture\.req\.hdr\((\d{1,2})\)$/.exec(fetch);
  if (capture) return { capture: Number(capture[1]) };
  return 'skip';
}

function buildRegex(format: string, parts: (string | Token)[], input: string, option: string): HaproxyTemplate {
  let source = '^';
  const roles: Role[] = [];
  const decode: ('none' | 'hash' | 'backslash')[] = [];
  let hasTime = false;
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index] as string | Token;
    if (typeof part === 'string') {
      source += literalPattern(part);
      continue;
    }
    const next = parts[index + 1];
    const following = typeof next === 'string' ? next : '';
    const last = index === parts.length - 1 || (index === parts.length - 2 && typeof next === 'string' && next.trim() === '');
    let pattern: string;
    if (part.quoted) {
      if (part.encoded) pattern = '"([^"]*)"';
      else if (part.raw && part.escapedE) pattern = '"((?:[^"\\\\]|\\\\.)*)"';
      else if (last) pattern = '"(.*)"';
      else pattern = '"([^"]*)"';
    } else if (part.optional) {
      pattern = '\\{([^}]*)\\}';
    } else if (part.role === 'time') {
      pattern = '(\\d\\d/[A-Za-z]{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,6})?(?: [+-]\\d{4})?)';
    } else if (part.numeric) {
      pattern = '([+-]?\\d*)';
    } else if (part.role === 'request') {
      pattern = '(\\S+(?: \\S+){0,2})';
    } else if (part.role === 'address' && following.startsWith(':')) {
      // IPv6 addresses carry colons too: the port is after the last one before the next field.
      pattern = '([0-9A-Za-z.:_-]*?)';
    } else {
      const stop = following.charAt(0);
      pattern = stop && stop !== ' ' ? `([^\\s${escapeClass(stop)}]*)` : '(\\S*)';
    }
    if (part.optional) {
      // An empty %hr or %hs is written as nothing at all, and its separator goes with it.
      if (following.startsWith(' ')) {
        source += `(?:${pattern} )?`;
        parts[index + 1] = following.slice(1);
      } else {
        source += `(?:${pattern})?`;
      }
    } else {
      source += pattern;
    }
    roles.push(part.role);
    decode.push(part.encoded ? 'hash' : part.raw && part.escapedE ? 'backslash' : 'none');
    if (part.role === 'time' || part.role === 'epoch') hasTime = true;
  }
  source += '$';
  if (roles.length === 0) throw new InvalidOptionError(option, input, 'expected a log-format with %variables');
  if (!hasTime) throw new InvalidOptionError(option, input, 'expected a time field (%tr, %t, %T or %Ts): the analysis is by the log\'s own time');
  return {
    format,
    regex: new RegExp(source),
    roles,
    decode,
    hasProtocol: roles.includes('protocol'),
    hasCaptures: roles.some((role) => role === 'captures' || typeof role === 'object'),
  };
}

function literalPattern(literal: string): string {
  // HAProxy writes one separator where the format has a run of spaces.
  return literal
    .split(/ +/)
    .map((piece) => piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join(' ');
}

function escapeClass(char: string): string {
  return /[\]\\^-]/.test(char) ? `\\${char}` : char;
}

/** `log-format "…"` as written in haproxy.cfg, or the bare string; `\ ` and `\"` are config escapes. */
function unquoteHaproxy(input: string): string {
  let rest = input.trim();
  const directive = /^log-format\s+/.exec(rest);
  if (directive) rest = rest.slice(directive[0].length);
  if (rest.length >= 2 && rest.startsWith('"') && rest.endsWith('"')) rest = rest.slice(1, -1);
  return rest.replace(/\\([ "\\#])/g, '$1');
}

// rsyslog and syslog-ng prepend `Nov 28 15:29:12 host haproxy[123]: ` (RFC 3164) or an RFC 5424 header.
const SYSLOG_PREFIX = /^(?:<\d{1,3}>)?(?:1 \S+ \S+ \S+ \S+ \S+ (?:-|\[.*?\]) |(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?) (?:\S+ )?[\w./-]+(?:\[\d+\])?: )/;

export function stripSyslogPrefix(line: string): string | null {
  const match = SYSLOG_PREFIX.exec(line.length > 300 ? line.slice(0, 300) : line);
  return match ? line.slice(match[0].length) : null;
}

const LOOKS_LIKE_USER_AGENT = /^(?:Mozilla\/|[A-Za-z][\w.+ -]{0,40}\/\d)/;

export class HaproxyParser implements LineParser {
  readonly family = 'haproxy' as const;
  readonly layout: string;
  hasProtocol: boolean;
  hasUserAgent = false;
  readonly #template: HaproxyTemplate;
  readonly #recent = new RecentStrings(32);
  readonly #parseTime = cachedTimeParser(parseClfTime);
  /** Which captured request header is the user agent, learnt from the first lines. */
  #userAgentSlot: number | null = null;

  constructor(template: HaproxyTemplate, layout: string) {
    this.#template = template;
    this.layout = layout;
    this.hasProtocol = template.hasProtocol;
  }

  /**
   * HAProxy cannot log a request header at log time, only what `capture request header` kept, and the
   * log does not say which capture is which: the user agent is the slot whose values look like one.
   */
  learn(sample: readonly string[]): void {
    if (!this.#template.hasCaptures) return;
    const votes = new Map<number, { agents: number; values: number }>();
    for (const line of sample) {
      const captures = this.#captures(line);
      if (captures === null) continue;
      captures.forEach((value, slot) => {
        if (value === '' || value === '-') return;
        const vote = votes.get(slot) ?? { agents: 0, values: 0 };
        vote.values++;
        if (LOOKS_LIKE_USER_AGENT.test(value)) vote.agents++;
        votes.set(slot, vote);
      });
    }
    let best: number | null = null;
    let bestAgents = 0;
    for (const [slot, vote] of votes) {
      if (vote.agents * 2 >= vote.values && vote.agents > bestAgents) [best, bestAgents] = [slot, vote.agents];
    }
    this.#userAgentSlot = best;
    this.hasUserAgent = best !== null;
  }

  /**
   * A failed handshake (`SSL handshake failure`) is a client that already cannot connect; HAProxy 2.6
   * does not say why (newer versions may add the OpenSSL reason in parentheses). A connection closed by
   * the client mid-handshake (a port probe, a client that gave up on the certificate) and the other
   * connection errors are valid lines with no record.
   */
  #connectionError(line: string): LogRecord | null | undefined {
    const error = CONNECTION_ERROR.exec(line) ?? CONNECTION_ERROR.exec(stripSyslogPrefix(line) ?? '');
    if (!error) return undefined;
    const message = error[3] as string;
    if (!message.startsWith('SSL handshake failure')) return null;
    const time = this.#parseTime(error[2] as string);
    if (Number.isNaN(time)) return undefined;
    const address = error[1] as string;
    return makeRecord('handshake-failure', time, null, null, null, present(address) ? address : null, null, null, null, handshakeReasonOf(message));
  }

  #match(line: string): RegExpExecArray | null {
    const match = this.#template.regex.exec(line);
    if (match) return match;
    const stripped = stripSyslogPrefix(line);
    return stripped === null ? null : this.#template.regex.exec(stripped);
  }

  #captures(line: string): string[] | null {
    const match = this.#match(line);
    if (!match) return null;
    const captures: string[] = [];
    this.#template.roles.forEach((role, index) => {
      const value = match[index + 1];
      if (value === undefined) return;
      if (role === 'captures') unbrace(value).split('|').forEach((one, slot) => (captures[slot] = decodeByteEscapes(one, '#')));
      else if (typeof role === 'object') captures[role.capture] = this.#decode(value, index);
    });
    return captures;
  }

  #decode(value: string, index: number): string {
    const how = this.#template.decode[index];
    return how === 'hash' ? decodeByteEscapes(value, '#') : how === 'backslash' ? decodeBackslashEscapes(value) : value;
  }

  parse(line: string): LogRecord | string | null {
    const match = this.#match(line);
    if (!match) {
      const error = this.#connectionError(line);
      return error === undefined ? 'does not match the log-format' : error;
    }
    const roles = this.#template.roles;
    let time = Number.NaN;
    let millis = 0;
    let protocol: LogProtocol | null = null;
    let cipher: string | null = null;
    let userAgent: string | null = null;
    let address: string | null = null;
    let host: string | null = null;
    let path: string | null = null;
    let status: number | null = null;
    for (let index = 0; index < roles.length; index++) {
      const role = roles[index] as Role;
      const value = match[index + 1];
      if (value === undefined || role === 'skip') continue;
      switch (role) {
        case 'address':
          address = present(value) ? this.#recent.get(value) : null;
          break;
        case 'time':
          time = this.#parseTime(value);
          break;
        case 'epoch':
          time = /^\d{1,12}$/.test(value) ? Number(value) * 1000 : Number.NaN;
          break;
        case 'millis':
          millis = /^\d{1,3}$/.test(value) ? Number(value) : 0;
          break;
        case 'status':
          status = parseStatus(value);
          break;
        case 'request':
          path = present(value) ? pathOfRequestLine(decodeByteEscapes(value, '#')) : null;
          break;
        case 'path':
          path = present(value) ? pathOfTarget(decodeByteEscapes(value, '#')) : null;
          break;
        case 'protocol':
          protocol = normaliseLogProtocol(value);
          break;
        case 'cipher':
          cipher = present(value) ? this.#recent.get(value) : null;
          break;
        case 'sni':
          host = present(value) ? this.#recent.get(value) : null;
          break;
        case 'captures':
          if (this.#userAgentSlot !== null) {
            const slot = unbrace(value).split('|')[this.#userAgentSlot];
            if (slot !== undefined && present(slot)) userAgent = decodeByteEscapes(slot, '#');
          }
          break;
        default:
          if (role.capture === this.#userAgentSlot && present(value)) userAgent = this.#decode(value, index);
      }
    }
    if (Number.isNaN(time)) return 'the time is not readable';
    return makeRecord('request', time + millis, protocol, cipher, userAgent, address, host, path, status);
  }
}

// A connection that never became a request is logged in HAProxy's error format instead of the
// log-format: `127.0.0.1:40230 [28/Nov/2026:16:06:35.549] frontend/bind: SSL handshake failure`.
const CONNECTION_ERROR = /^(\S+):\d+ \[(\d\d\/[A-Za-z]{3}\/\d{4}:\d\d:\d\d:\d\d(?:\.\d{1,6})?)\] \S+: (.{1,200})$/;

/** `%{+Q}hr` keeps its braces inside the quotes. */
function unbrace(value: string): string {
  return value.length >= 2 && value.charCodeAt(0) === 123 && value.charCodeAt(value.length - 1) === 125 ? value.slice(1, -1) : value;
}
